"""The error handler: log every failure with its update, record it, and keep the bot running."""

from __future__ import annotations

import json
import logging
import time

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.telegram import services
from bot.telegram.exchanges import kind_of, record
from bot.telegram.fans import menu_lang
from bot.telegram.send import send_reply
from bot.telegram.services import Context

_LOGGER = logging.getLogger(__name__)
MAX_UPDATE_CHARS = 3000


def describe(update: object) -> str:
    """The update as JSON for the log, cut to a readable length; never raises."""
    try:
        text = (
            json.dumps(update.to_dict(), ensure_ascii=False, default=str)
            if isinstance(update, Update)
            else repr(update)
        )
    except Exception as exc:
        text = f"<unprintable update: {type(exc).__name__}>"
    return text if len(text) <= MAX_UPDATE_CHARS else text[:MAX_UPDATE_CHARS] + "…"


def error_text(error: BaseException | None) -> str:
    """`Kind: message`, without saying the kind twice (PTB's messages often start with it)."""
    if error is None:
        return "unknown error"
    kind, message = type(error).__name__, str(error)
    return message if message.startswith(kind) else f"{kind}: {message}"


async def on_error(update: object, context: Context) -> None:
    """Log and record the failure; tell the fan when it was our fault, not Telegram's."""
    try:
        error = context.error
        if isinstance(error, Forbidden):
            # The fan blocked the bot (or removed it from the group): nothing to do but skip.
            _LOGGER.warning("Skipped an update: %s; update: %s", error, describe(update))
        else:
            _LOGGER.error("An update failed; update: %s", describe(update), exc_info=error)
        if not isinstance(update, Update):
            return
        reason = services.redactor(context)(error_text(error))[:500]
        record(
            context,
            update,
            kind=kind_of(update),
            started=time.perf_counter(),
            outcome="error",
            error=reason,
            lang=menu_lang(update, context),
        )
        if not isinstance(error, TelegramError) and update.effective_chat is not None:
            notice = services.storyteller(context).notice("error", menu_lang(update, context))
            await send_reply(update, context, notice)
    except Exception:
        _LOGGER.exception("The error handler failed too; carrying on")
