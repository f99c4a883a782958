"""Delivery: updates handled in each chat's order, confirmed to Telegram only once handled,
replies sent within Telegram's rate limits and retried when the network drops them."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter, BaseUpdateProcessor
from telegram.request import HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.telegram.ledger import UpdateLedger

_LOGGER = logging.getLogger(__name__)
JSONDict = dict[str, Any]
Result = bool | JSONDict | list[JSONDict]


# --- in each chat's order --------------------------------------------------------------------


def ordering_key(update: object) -> int | None:
    """The chat an update belongs to (the fan's id for inline queries); None when neither."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Many chats at once, one update at a time within a chat (so replies never overtake)."""

    def __init__(
        self,
        max_concurrent_updates: int = 256,
        on_handled: Callable[[object], None] | None = None,
        *,
        seen: Callable[[object], bool] | None = None,
        settle: Callable[[object], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._queued: dict[int, int] = {}
        self._on_handled = on_handled
        self._seen = seen  # answered before a restart: Telegram sent it again
        self._settle = settle  # once handled: state written, update remembered (before confirming)

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        """Wait for this chat's earlier updates, run the update's handlers, then say it is handled."""
        if self._seen is not None and self._seen(update):
            if isinstance(coroutine, Coroutine):
                coroutine.close()
            _LOGGER.info("Update %s was answered before a restart; not answering it again", _update_id(update))
            self._handled(update)
            return
        try:
            await self._in_chat_order(update, self._then_settle(update, coroutine))
        except asyncio.CancelledError:
            raise  # shutting down mid-update: it was not handled, so it must not be confirmed
        except Exception:
            self._handled(update)  # it failed, and PTB logs why: confirmed anyway, as polling does
            raise
        self._handled(update)

    async def _then_settle(self, update: object, coroutine: Awaitable[object]) -> None:
        # Settled before the chat's next update starts: a kill can catch one unsettled reply a chat.
        try:
            await coroutine
        finally:
            await self._settled(update)

    async def _settled(self, update: object) -> None:
        if self._settle is None:
            return
        try:
            await self._settle(update)
        except Exception:  # a full disk must not stop the replies: logged, and the update confirmed
            _LOGGER.exception("Could not write the state after update %s", _update_id(update))

    def _handled(self, update: object) -> None:
        if self._on_handled is not None:
            self._on_handled(update)

    async def _in_chat_order(self, update: object, coroutine: Awaitable[object]) -> None:
        key = ordering_key(update)
        if key is None:
            await coroutine
            return
        # PTB's concurrency slot is already held here (process_update is final), but a chat's
        # waiting updates leave quickly: the flood gate drops a flooder's extras without I/O.
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._queued[key] = self._queued.get(key, 0) + 1
        try:
            async with lock:  # asyncio.Lock wakes waiters first come, first served
                await coroutine
        finally:
            self._queued[key] -= 1
            if not self._queued[key]:
                del self._queued[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def _update_id(update: object) -> object:
    return getattr(update, "update_id", "?")


# --- confirmed once handled ------------------------------------------------------------------


class ConfirmAfterHandled(HTTPXRequest):
    """The getUpdates connection: an update is confirmed to Telegram only once it is handled.

    PTB confirms a batch of updates by asking for the next one with a higher offset, right after
    queueing the batch. If the process dies before the batch is handled, Telegram never sends those
    updates again. Here the offset PTB asks for is held at the lowest update still being handled
    (`UpdateLedger`), and what was fetched before is taken out of the answer: a hard kill then means
    an update may be handled twice, never lost, and a slow chat holds back no other chat.
    """

    def __init__(self) -> None:
        # Two: a long poll cancelled at shutdown may still hold its connection for the last call.
        super().__init__(connection_pool_size=2)
        self.ledger: UpdateLedger | None = None
        self._held_back = False

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
        """getUpdates goes through the ledger; every other call as usual."""
        if self.ledger is not None and url.endswith("/getUpdates"):
            return await self._get_updates(url, method, request_data, read_timeout, write_timeout, connect_timeout)
        return await super().do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )

    async def _get_updates(
        self,
        url: str,
        method: str,
        request_data: RequestData | None,
        read_timeout: float | None,
        write_timeout: float | None,
        connect_timeout: float | None,
    ) -> tuple[int, bytes]:
        """getUpdates with the offset held at the lowest update in flight (see ledger.py)."""
        assert self.ledger is not None
        if self._held_back:  # Telegram would answer at once with what we already have
            await self.ledger.wait_for_progress()
        params = dict(request_data.parameters) if request_data is not None else {}
        if not params.get("timeout"):  # PTB's last call when stopping: confirm what is handled by then
            await self.ledger.drained()
        asked = params.get("offset")
        offset = self.ledger.offset(asked if isinstance(asked, int) else None)
        if offset is not None:
            params["offset"] = offset
        data = RequestData([RequestParameter.from_input(key, value) for key, value in params.items()])
        code, body = await super().do_request(
            url, method, data, read_timeout=read_timeout, write_timeout=write_timeout, connect_timeout=connect_timeout
        )
        if code != 200:
            return code, body
        body, self._held_back = self.ledger.filter_answer(body)
        return code, body


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
        self.last_handled = time.monotonic()  # for /healthz: is the queue moving?

    @property
    def waiting(self) -> int:
        """How many POSTs wait for their update to be handled."""
        return len(self._waiting)

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
        self.last_handled = time.monotonic()
        waiting = self._waiting.get(id(item))
        if waiting is not None and not waiting.done():
            waiting.set_result(None)


# --- sent within the limits, retried ---------------------------------------------------------


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter that also retries a request lost to the network (500s, drops, timeouts).

    PTB retries only RetryAfter (through AIORateLimiter); a NetworkError goes straight to the
    handler, so a reply would be lost to one dropped connection. BadRequest is a NetworkError
    subclass in PTB but is the request's own fault, so it is never retried.
    """

    __slots__ = ("_backoff", "_network_retries")

    def __init__(
        self,
        *,
        max_retries: int = 3,
        network_retries: int = 3,
        backoff: float = 0.5,
        **limits: float,
    ) -> None:
        super().__init__(max_retries=max_retries, **limits)
        self._network_retries = network_retries
        self._backoff = backoff

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Rate-limit the request; on a network failure try again, waiting longer each time."""
        for attempt in range(self._network_retries + 1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except BadRequest:
                raise
            except NetworkError as exc:
                if attempt == self._network_retries:
                    raise
                delay = self._backoff * 2**attempt
                _LOGGER.warning(
                    "%s failed (%s); retry %d of %d in %.2fs",
                    endpoint,
                    exc,
                    attempt + 1,
                    self._network_retries,
                    delay,
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # the loop always returns or raises
