"""Where the "🔔 New stories" button fits: under a fan's first whole story, and on /start."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType

from bot.replies.model import Outcome, Reply
from bot.replies.subscriptions import with_subscribe_offer
from bot.telegram.context import StoryContext

OFFERED = "offered_subscription"  # user_data: the button already came under a finished story


def offer_subscription(update: Update, context: StoryContext, reply: Reply) -> Reply:
    """`reply`, with the subscribe button when it fits and the fan in a private chat is not subscribed."""
    outbox = context.bot_data.subscriptions
    chat = update.effective_chat
    if outbox is None or chat is None or chat.type != ChatType.PRIVATE or context.user_data is None:
        return reply
    finished_story = reply.outcome is Outcome.STORY and reply.chapter == reply.chapter_count - 1
    first_finished = finished_story and not context.user_data.get(OFFERED)
    message = update.message.text if update.message is not None else None
    on_start = reply.outcome is Outcome.MENU and (message or "").startswith("/start")
    if not (first_finished or on_start) or outbox.is_subscribed(chat.id):
        return reply
    if first_finished:
        context.user_data[OFFERED] = True
    return with_subscribe_offer(context.storyteller, reply)
