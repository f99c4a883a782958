"""Admin commands on Telegram (/stats, /misses, /reload, /block, /unblock), for ADMIN_IDS only.

The handlers match only messages from admins, so for anyone else these commands do not exist:
the update falls through to the handlers after them (in private chats, the unknown-command help).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot.ops.admin import COMMANDS, AdminCommands
from bot.ops.digest import Send
from bot.telegram.context import App, Registrar, StoryContext
from bot.telegram.outbox import record

Callback = Callable[[Update, StoryContext], Coroutine[Any, Any, None]]


def admin_registrar(admin: AdminCommands) -> Registrar:
    """A registrar for build_application(registrars=...) adding the admin commands."""

    def register(app: App) -> None:
        if not admin.admin_ids:
            return  # no admins: the commands do not exist for anyone
        only_admins = filters.User(user_id=admin.admin_ids)
        for name in COMMANDS:
            app.add_handler(CommandHandler(name, _handler(admin, name), filters=only_admins))

    return register


def _handler(admin: AdminCommands, name: str) -> Callback:
    async def handle(update: Update, context: StoryContext) -> None:
        """Run the command off the event loop (it may read the log or rebuild the catalogue)."""
        started = time.perf_counter()
        user, chat = update.effective_user, update.effective_chat
        if chat is None:
            return
        args = tuple(context.args or ())
        text = await asyncio.to_thread(admin.handle, user.id if user else None, name, args)
        if text is None:
            return  # unreachable behind the admins-only filter; say nothing if it ever happens
        # Figures and fans' keys are for the admin only: in a group, the answer goes to them privately.
        await context.bot.send_message(user.id if user is not None else chat.id, text)
        record(context, update, kind="command", started=started, outcome="admin")

    return handle


def moderator_sender(app: App, chat_id: int) -> Send:
    """The digest's `send`: one HTML message to the moderators' chat (MODERATOR_CHAT_ID)."""

    async def send(text: str) -> None:
        await app.bot.send_message(chat_id, text)

    return send
