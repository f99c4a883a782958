"""The last step of every handler: send the reply, remember the story, record the exchange."""

from __future__ import annotations

from telegram import Update

from bot.replies.model import Reply
from bot.telegram.exchanges import record
from bot.telegram.fans import remember
from bot.telegram.send import send_reply
from bot.telegram.services import Context


async def respond(
    update: Update,
    context: Context,
    reply: Reply,
    *,
    kind: str,
    started: float,
    campaign: str | None = None,
    question: str | None = None,
) -> None:
    """Send `reply` as a new message in the update's chat and record the exchange."""
    await send_reply(update, context, reply)
    remember(context, reply)
    record(
        context,
        update,
        kind=kind,
        started=started,
        reply=reply,
        campaign=campaign,
        question=question,
    )
