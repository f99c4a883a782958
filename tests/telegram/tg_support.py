"""Helpers for the Telegram tests: a recording sink, offline bots, app lifecycles.

The offline request double lives in tests/fakebot/offline.py; its names are re-exported here."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fakebot import BOT_ID as BOT_ID  # re-exported: the offline double moved to tests/fakebot/offline.py
from fakebot import BOT_USER as BOT_USER
from fakebot import BOT_USERNAME, FakeTelegram, OfflineRequest, utf16_len
from fakebot import ApiCall as ApiCall
from telegram import Update

from bot.config import PROJECT_ROOT, Settings
from bot.ops.exchange import Exchange
from bot.replies.storyteller import Storyteller
from bot.telegram.app import polling_options, webhook_options
from bot.telegram.context import App
from bot.telegram.webhook import serving

STORIES = PROJECT_ROOT / "stories"
LONG_STORY = "pearce-ducks"  # the story the long test catalogue stretches over many messages
GROUP = -100777


class RecordingSink:
    """An ExchangeSink that keeps every exchange and lets a test wait for them."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self._changed = asyncio.Event()

    def record(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)
        self._changed.set()

    def for_update(self, update_id: int) -> list[Exchange]:
        """The exchanges recorded for one update."""
        return [e for e in self.exchanges if e.update_id == update_id]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10) -> Any:
        """Wait (in the event loop) until predicate() is truthy after a new exchange."""
        deadline = time.monotonic() + timeout
        while not (result := predicate()):
            self._changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; exchanges so far: {self.exchanges}")
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue
        return result

    async def wait_update(self, update_id: int, timeout: float = 10) -> Exchange:
        """Wait until the exchange of `update_id` is recorded; return it."""
        found: list[Exchange] = await self.wait_for(lambda: self.for_update(update_id), timeout)
        return found[0]


class Offline:
    """A bot built as in production but answering from memory: feed it updates, read calls."""

    def __init__(self, app: App, request: OfflineRequest, sink: RecordingSink) -> None:
        self.app = app
        self.request = request
        self.sink = sink
        self.updates = FakeTelegram()  # only its update factories; it never starts

    @property
    def teller(self) -> Storyteller:
        """The storyteller the bot answers with (to compute what a fan should see)."""
        return self.app.bot_data.storyteller

    async def feed(self, update: dict[str, Any]) -> int:
        """Process one update the way the application would; returns its update_id."""
        await self.app.process_update(Update.de_json(update, self.app.bot))
        return int(update["update_id"])


def group_text(offline: Offline, text: str, user_id: int = 501, **kwargs: Any) -> dict[str, Any]:
    """A supergroup message (entities for any @mention of the bot are added)."""
    handle = f"@{BOT_USERNAME}"
    entities = []
    if handle in text:
        offset = utf16_len(text[: text.index(handle)])
        entities.append({"type": "mention", "offset": offset, "length": utf16_len(handle)})
    if text.startswith("/"):
        command = text.split()[0]
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command)})
    return offline.updates.make_message(
        GROUP, text, chat_type="supergroup", user_id=user_id, entities=entities or None, **kwargs
    )


MakeOffline = Callable[..., Awaitable[Offline]]
MakeBot = Callable[..., App]


async def until(predicate: object, timeout: float, what: str) -> None:
    """Poll predicate() every 50 ms (cheap checks only; never blocks the bot's loop)."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def polling(app: App) -> AsyncIterator[App]:
    """Run `app` by long polling in this event loop, in run_polling's order; stop it after."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(**polling_options())
    await app.start()
    try:
        yield app
    finally:
        await stop(app)


@asynccontextmanager
async def webhook(app: App, settings: Settings) -> AsyncIterator[App]:
    """Run `app`'s webhook server on 127.0.0.1:settings.port in this event loop."""
    async with serving(app, settings, webhook_options(settings, listen="127.0.0.1")):
        yield app


async def stop(app: App) -> None:
    """What run_polling does on SIGTERM: stop fetching, finish updates, flush, shut down."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
