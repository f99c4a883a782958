"""Group -1: blocked fans and flooding fans stop here, before any handler replies."""

from __future__ import annotations

import logging
import time

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.telegram import services
from bot.telegram.audience import is_addressed
from bot.telegram.exchanges import kind_of, record, user_key
from bot.telegram.fans import menu_lang
from bot.telegram.flood import FloodVerdict
from bot.telegram.send import send_reply, stop_spinner
from bot.telegram.services import Context

_LOGGER = logging.getLogger(__name__)


async def gate(update: Update, context: Context) -> None:
    """Let the update through, or stop it (recording why) when its fan is blocked or flooding."""
    started = time.perf_counter()
    user = update.effective_user
    if user is None or not (is_addressed(update) or update.inline_query is not None):
        return
    key = user_key(context, update)
    if services.is_blocked(context, key):
        _LOGGER.info("Ignoring an update from blocked fan %s", key)
        if update.callback_query is not None:
            await stop_spinner(update.callback_query)
        record(context, update, kind=kind_of(update), started=started, outcome="blocked")
        raise ApplicationHandlerStop
    if update.inline_query is not None:
        return  # Telegram sends one per keystroke; they are cheap and never flood a chat
    verdict = services.flood(context).check(user.id)
    if verdict is FloodVerdict.PASS:
        return
    if update.callback_query is not None:
        await stop_spinner(update.callback_query)
    reply = None
    if verdict is FloodVerdict.NOTICE and update.effective_chat is not None:
        _LOGGER.info("Fan %s is flooding; telling them once", key)
        reply = services.storyteller(context).notice("flood", menu_lang(update, context))
        try:
            await send_reply(update, context, reply)
        except TelegramError as exc:  # the update must stop here all the same
            _LOGGER.warning("Could not send the flood notice: %s", exc)
    lang = menu_lang(update, context)
    record(context, update, kind=kind_of(update), started=started, reply=reply, outcome="flood", lang=lang)
    raise ApplicationHandlerStop
