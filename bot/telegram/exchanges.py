"""One Exchange per handled update: pseudonymous keys, what the core decided, how long it took."""

from __future__ import annotations

import logging
import time

from telegram import Update

from bot.ops.exchange import Exchange, pseudonym
from bot.replies.model import Reply
from bot.telegram import services
from bot.telegram.services import Context

_LOGGER = logging.getLogger(__name__)


def user_key(context: Context, update: Update) -> str:
    """The fan's pseudonym ("" when the update has no user)."""
    user = update.effective_user
    return pseudonym(_salt(context), "user", user.id if user else None)


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
    context: Context,
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
    salt = _salt(context)
    exchange = Exchange(
        update_id=update.update_id,
        chat_type=str(chat.type) if chat else ("inline" if update.inline_query else "callback"),
        chat_key=pseudonym(salt, "chat", chat.id if chat else None),
        user_key=user_key(context, update),
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
    )
    for sink in services.sinks(context):
        try:
            sink.record(exchange)
        except Exception:
            _LOGGER.exception("Exchange sink %r failed", sink)
    return exchange


def _salt(context: Context) -> bytes:
    return services.settings(context).log_salt.get().encode()
