"""Confirm updates to Telegram only once they are handled, so a killed bot loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.request import HTTPXRequest, RequestData

Gate = Callable[[], Awaitable[None]]


class ConfirmAfterHandled(HTTPXRequest):
    """The getUpdates connection: each call first waits until every fetched update is handled.

    PTB confirms a batch of updates by asking for the next one with a higher offset, right after
    queueing the batch. If the process dies before the batch is handled, Telegram never sends those
    updates again. Holding the next getUpdates until the application's update queue is drained
    (its `join()`: PTB marks an update done only after its handlers ran) moves the confirmation to
    after the handling. A hard kill then means a batch may be handled twice, never lost.
    """

    def __init__(self) -> None:
        super().__init__(connection_pool_size=1)
        self.gate: Gate | None = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | None = None,  # type: ignore[override]
        write_timeout: float | None = None,  # type: ignore[override]
        connect_timeout: float | None = None,  # type: ignore[override]
        pool_timeout: float | None = None,  # type: ignore[override]
    ) -> tuple[int, bytes]:
        """Wait for the gate before asking for (and so confirming) more updates."""
        if self.gate is not None and url.endswith("/getUpdates"):
            await self.gate()
        return await super().do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )


class HandledQueue(asyncio.Queue[object]):
    """The update queue in webhook mode: `put` of an update returns only once it has been handled.

    PTB's webhook handler answers Telegram's POST with 200 as soon as `put` returns. Waiting here
    until the update's handlers ran (the update processor calls `handled`) moves that 200 to after
    the handling, so Telegram sends the update of a killed bot again instead of it being lost. Each
    POST waits for its own update only: a slow chat does not hold back the others' answers.
    Polling gets the same from ConfirmAfterHandled; there, a `put` that waited would handle a batch
    one update at a time.
    """

    def __init__(self) -> None:
        super().__init__()
        self._waiting: dict[int, asyncio.Future[None]] = {}

    async def put(self, item: object) -> None:
        """Queue the item; for an update, wait until it has been handled."""
        if not isinstance(item, Update):  # PTB's own stop signal: nobody handles it
            await super().put(item)
            return
        handled = asyncio.get_running_loop().create_future()
        self._waiting[id(item)] = handled
        try:
            await super().put(item)
            await handled
        finally:
            self._waiting.pop(id(item), None)

    def handled(self, item: object) -> None:
        """Called by the update processor once an update's handlers have run."""
        waiting = self._waiting.get(id(item))
        if waiting is not None and not waiting.done():
            waiting.set_result(None)
