"""Concurrent update processing that keeps each chat's updates in the order they arrived."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def conversation_key(update: object) -> int | None:
    """The chat an update belongs to (the fan's id for inline queries); None when neither."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Many chats at once, one update at a time within a chat (so replies never overtake)."""

    def __init__(self, max_concurrent_updates: int = 256, on_handled: Callable[[object], None] | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._queued: dict[int, int] = {}
        self._on_handled = on_handled

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        """Wait for this chat's earlier updates, run the update's handlers, then say it is handled."""
        try:
            await self._in_chat_order(update, coroutine)
        except asyncio.CancelledError:
            raise  # shutting down mid-update: it was not handled, so it must not be confirmed
        except Exception:
            self._handled(update)  # it failed, and PTB logs why: confirmed anyway, as polling does
            raise
        self._handled(update)

    def _handled(self, update: object) -> None:
        if self._on_handled is not None:
            self._on_handled(update)

    async def _in_chat_order(self, update: object, coroutine: Awaitable[object]) -> None:
        key = conversation_key(update)
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
