"""Confirm updates to Telegram only once they are handled, so a killed bot loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

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
    """The update queue in webhook mode: `put` returns only once everything queued is handled.

    PTB's webhook handler answers Telegram's POST with 200 as soon as `put` returns. Waiting here
    until the queue has drained (PTB marks an update done after its handlers ran) moves that 200 to
    after the handling, so Telegram sends the update of a killed bot again instead of it being lost.
    Polling gets the same from ConfirmAfterHandled; there, a `put` that waited would handle a batch
    one update at a time.
    """

    async def put(self, item: object) -> None:
        """Queue the update, then wait until it (and any queued before it) has been handled."""
        await super().put(item)
        await self.join()
