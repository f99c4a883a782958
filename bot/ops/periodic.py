"""One coroutine run every few seconds in the event loop, started and stopped with the bot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

Tick = Callable[[], Awaitable[object]]
Sleep = Callable[[float], Awaitable[None]]

log = logging.getLogger(__name__)


class Periodic:
    """Runs `tick` every `interval` seconds until stopped; a failing tick is logged, never fatal."""

    def __init__(self, name: str, interval: float, tick: Tick, sleep: Sleep = asyncio.sleep) -> None:
        self.name = name
        self.interval = interval
        self._tick = tick
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start in the running event loop (the Telegram app's post_init); a second start is a no-op."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        """Cancel the loop and wait until it has stopped (the Telegram app's post_shutdown)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Sleep, tick, repeat, until cancelled."""
        while True:
            await self._sleep(self.interval)
            try:
                await self._tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; it runs again in %.0fs", self.name, self.interval)
