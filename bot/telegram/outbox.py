"""Where every reply leaves: sent or edited on Telegram, the conversation moved on, the exchange recorded.

Parse mode and link previews are the application's `Defaults` (app.py), not set at each call.
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest

from bot.ops.exchange import Exchange
from bot.replies.model import Button, Outcome, Reply
from bot.telegram.context import StoryContext
from bot.telegram.offer import offer_subscription

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


async def respond(
    update: Update,
    context: StoryContext,
    reply: Reply,
    *,
    kind: str,
    started: float,
    in_place: bool = False,
    campaign: str | None = None,
    question: str | None = None,
) -> None:
    """The last step of every handler: show `reply` to the fan and record the exchange."""
    await show(update, context, reply, in_place=in_place)
    record(context, update, kind=kind, started=started, reply=reply, campaign=campaign, question=question)


async def show(update: Update, context: StoryContext, reply: Reply, *, in_place: bool = False) -> None:
    """Edit the pressed message (`in_place`) or send a new one; then move the conversation on."""
    query = update.callback_query
    edited = in_place and query is not None and await _edit(query, reply)
    if not edited and update.effective_chat is not None:
        await _send(update, context, offer_subscription(update, context, reply))
    # The one place a fan's conversation (and last story) follows what they were shown.
    if reply.outcome is Outcome.STORY:
        context.last_story = reply.story_id
    context.conversation = context.conversation.after(reply, time.time())


async def _send(update: Update, context: StoryContext, reply: Reply) -> Message:
    chat = update.effective_chat
    if chat is None:
        raise ValueError("an update without a chat cannot be answered with a message")
    quote = None  # in groups, the reply quotes the fan's message
    if update.message is not None and chat.type != ChatType.PRIVATE:
        quote = ReplyParameters(update.message.message_id, allow_sending_without_reply=True)
    return await context.bot.send_message(
        chat.id, reply.text, reply_parameters=quote, reply_markup=keyboard(reply), **preview_options(reply)
    )


def preview_options(reply: Reply) -> dict[str, Any]:
    """A link preview where the reply's template asked for one; else nothing, and the Defaults (off) hold."""
    # is_disabled is said outright: PTB fills the fields left unset from the Defaults, which disable.
    return {"link_preview_options": LinkPreviewOptions(is_disabled=False, url=reply.preview)} if reply.preview else {}


async def _edit(query: CallbackQuery, reply: Reply) -> bool:
    """Show the reply in place of the pressed message; False when that message cannot be edited."""
    if query.inline_message_id is None and not isinstance(query.message, Message):
        return False  # too old: Telegram no longer shows us the message
    try:
        await query.edit_message_text(reply.text, reply_markup=keyboard(reply))
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


# --- the exchange log ---------------------------------------------------------------------------


def kind_of(update: Update) -> str:
    """The kind of update, as the exchange log names it."""
    if update.callback_query is not None:
        return "callback"
    if update.inline_query is not None:
        return "inline"
    message = update.effective_message
    if message is None:
        return "other"
    if message.text is None:
        return "non_text"
    return "command" if message.text.startswith("/") else "message"


def question_of(update: Update) -> str:
    """What the fan sent: message text or caption, button data, or inline query."""
    if update.callback_query is not None:
        return update.callback_query.data or ""
    if update.inline_query is not None:
        return update.inline_query.query
    message = update.effective_message
    if message is None:
        return ""
    return message.text or message.caption or ""


def record(
    context: StoryContext,
    update: Update,
    *,
    kind: str,
    started: float,
    reply: Reply | None = None,
    outcome: str | None = None,
    question: str | None = None,
    campaign: str | None = None,
    error: str | None = None,
    lang: str = "en",
) -> Exchange:
    """Build the exchange for `update` and give it to every sink (a failing sink is logged)."""
    chat = update.effective_chat
    exchange = Exchange(
        update_id=update.update_id,
        chat_type=str(chat.type) if chat else ("inline" if update.inline_query else "callback"),
        chat_key=context.pseudonym("chat", chat.id if chat else None),
        user_key=context.user_key,
        lang=reply.lang if reply else lang,
        question=question_of(update) if question is None else question,
        outcome=outcome or (reply.outcome.value if reply else "none"),
        story=reply.story_id if reply else None,
        score=reply.score if reply else 0.0,
        alternatives=tuple((a.story_id, a.score) for a in reply.alternatives) if reply else (),
        campaign=campaign,
        latency_ms=(time.perf_counter() - started) * 1000,
        kind=kind,
        error=error,
        rule=reply.rule if reply else "",
    )
    for sink in context.sinks:
        try:
            sink.record(exchange)
        except Exception:
            _LOGGER.exception("Exchange sink %r failed", sink)
    return exchange
