"""A Reply on Telegram: HTML text with an inline keyboard, sent new or edited in place."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest

from bot.replies.model import Button, Reply
from bot.telegram.services import Context

_LOGGER = logging.getLogger(__name__)
_NOT_MODIFIED = "message is not modified"


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard (None when it has none)."""
    if not reply.buttons:
        return None
    return _markup(reply.buttons)


@lru_cache(maxsize=1024)
def _markup(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup:
    # Most replies carry one of a few hundred keyboards (a story's, a menu page's); PTB's objects
    # are frozen once built, so one can be sent many times, and building them is a tenth of an update.
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows])


def message_kwargs(reply: Reply) -> dict[str, Any]:
    """sendMessage / editMessageText parameters for a reply."""
    return {"text": reply.text, "parse_mode": ParseMode.HTML, "reply_markup": keyboard(reply)}


async def send_reply(update: Update, context: Context, reply: Reply) -> Message:
    """Send a reply to the update's chat; in groups it quotes the fan's message."""
    chat = update.effective_chat
    if chat is None:
        raise ValueError("an update without a chat cannot be answered with a message")
    quote = None
    if update.message is not None and chat.type != ChatType.PRIVATE:
        quote = ReplyParameters(update.message.message_id, allow_sending_without_reply=True)
    return await context.bot.send_message(chat.id, reply_parameters=quote, **message_kwargs(reply))


async def edit_reply(query: CallbackQuery, reply: Reply) -> bool:
    """Show the reply in place of the pressed message; False when that message cannot be edited."""
    if query.inline_message_id is None and not isinstance(query.message, Message):
        return False  # too old: Telegram no longer shows us the message
    try:
        await query.edit_message_text(**message_kwargs(reply))
    except BadRequest as exc:
        if _NOT_MODIFIED in str(exc).lower():
            return True
        _LOGGER.info("Could not edit message in place (%s); sending a new one", exc)
        return False
    return True


async def stop_spinner(query: CallbackQuery) -> None:
    """Answer a button press so the fan's spinner stops; an expired query is not an error."""
    try:
        await query.answer()
    except BadRequest as exc:
        _LOGGER.info("Could not answer callback query (%s)", exc)
