"""Admin commands on Telegram (/stats, /misses, /reload, /block, /unblock), for ADMIN_IDS only.

The handlers match only messages from admins, so for anyone else these commands do not exist:
the update falls through to the handlers after them (in private chats, the unknown-command help).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.error import Forbidden
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.ops.admin import COMMANDS, AdminCommands
from bot.ops.digest import Send
from bot.ops.fans import HANDLE_CHARS, mentioned
from bot.telegram.context import App, Registrar, StoryContext
from bot.telegram.outbox import record

_LOGGER = logging.getLogger(__name__)
Callback = Callable[[Update, StoryContext], Coroutine[Any, Any, None]]


def admin_registrar(admin: AdminCommands) -> Registrar:
    """A registrar for build_application(registrars=...) adding the admin commands."""

    def register(app: App) -> None:
        if not admin.admin_ids:
            return  # no admins: the commands do not exist for anyone
        only_admins = filters.User(user_id=admin.admin_ids)
        for name in COMMANDS:
            app.add_handler(CommandHandler(name, _handler(admin, name), filters=only_admins))
        # `/block_<handle>`, as digests and /misses print it: one tap blocks that fan.
        tapped = filters.Regex(rf"^/block_[0-9a-f]{{{HANDLE_CHARS}}}(@\w+)?$") & only_admins
        app.add_handler(MessageHandler(tapped, _handler(admin, "block")))

    return register


def _handler(admin: AdminCommands, name: str) -> Callback:
    async def handle(update: Update, context: StoryContext) -> None:
        """Run the command off the event loop (it may read the log or rebuild the catalogue)."""
        started = time.perf_counter()
        user, chat = update.effective_user, update.effective_chat
        if chat is None:
            return
        text = await asyncio.to_thread(admin.handle, user.id if user else None, name, _arguments(update, context))
        if text is None:
            return  # unreachable behind the admins-only filter; say nothing if it ever happens
        # Figures and fans' handles are for the admin alone: in a group, the answer goes private.
        to = chat.id if chat.type == ChatType.PRIVATE or user is None else user.id
        try:
            await context.bot.send_message(to, text)
        except Forbidden:
            _LOGGER.warning("Admin %s has not opened a private chat with the bot; /%s unanswered", to, name)
        record(context, update, kind="command", started=started, outcome="admin")

    return handle


def _arguments(update: Update, context: StoryContext) -> tuple[str, ...]:
    """The command's arguments: typed, in a tapped `/block_<handle>`, or named by the message replied to."""
    message = update.message
    words = (message.text or "").split() if message is not None else []
    if words and words[0].startswith("/block_"):
        return (words[0].removeprefix("/block_").split("@", 1)[0],)
    if context.args:
        return tuple(context.args)
    replied = message.reply_to_message if message is not None else None
    if replied is not None:  # "/block" as a reply to a digest item: the fan it names, if just one
        named = mentioned(replied.text or "")
        return tuple(named) if named else ()
    return ()


def moderator_sender(app: App, chat_id: int) -> Send:
    """The digest's `send`: one HTML message to the moderators' chat (MODERATOR_CHAT_ID)."""

    async def send(text: str) -> None:
        await app.bot.send_message(chat_id, text)

    return send
