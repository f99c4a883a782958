"""Presses on a message sent through inline mode: answered in the fan's own chat, never on the card.

An inline message lives in a chat the bot may not be in, seen by everyone there; rewriting it
would change it for all of them. So the reply goes to the fan's private chat with the bot, and
the press is answered with a short notice. A fan who never opened that chat gets a link that
opens it (on the story they asked for, when there is one).
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Update
from telegram.error import BadRequest, Forbidden

from bot.replies.model import Reply
from bot.replies.render import plain
from bot.telegram.context import StoryContext
from bot.telegram.outbox import keyboard, preview_options, record

_LOGGER = logging.getLogger(__name__)


async def answer_privately(update: Update, context: StoryContext, reply: Reply, *, started: float) -> None:
    """Send `reply` to the fan's private chat and answer the press with a notice (or a link)."""
    query = update.callback_query
    if query is None:
        return
    try:
        await context.bot.send_message(
            query.from_user.id, reply.text, reply_markup=keyboard(reply), **preview_options(reply)
        )
    except Forbidden:
        await _answer(query, context, "open_private", url=_start_link(context, reply))
    else:
        await _answer(query, context, "sent_private")
    if reply.story_id:
        context.last_story = reply.story_id
    record(context, update, kind="callback", started=started, reply=reply)


def _start_link(context: StoryContext, reply: Reply) -> str:
    # Telegram lets a press open the bot with a /start payload; the payload is the story's id.
    link = f"https://t.me/{context.bot.username}"
    return f"{link}?start={reply.story_id}" if reply.story_id else link


async def _answer(query: CallbackQuery, context: StoryContext, kind: str, url: str | None = None) -> None:
    text = plain(context.storyteller.notice(kind, context.lang).text)
    try:
        await query.answer(text=None if url else text, url=url)
    except BadRequest as exc:
        _LOGGER.info("Could not answer callback query (%s)", exc)
