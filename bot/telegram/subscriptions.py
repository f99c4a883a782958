"""Fans opt in and out of new stories: /subscribe, /unsubscribe, their buttons, and taps on broadcasts.

Subscriptions live in the state database (bot.broadcast.outbox), each with the language the fan
reads in; choosing another language with /language moves a subscription to it.
"""

from __future__ import annotations

import time

from telegram import Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.broadcast.outbox import Outbox
from bot.broadcast.sender import broadcast_campaign
from bot.replies.buttons import parse_button
from bot.replies.subscriptions import subscription_notice
from bot.telegram.context import App, Registrar, StoryContext
from bot.telegram.outbox import record, respond, stop_spinner

COMMANDS = ("subscribe", "unsubscribe")
AFTER = 1  # the handler group that sees presses after the reply (group 0) was sent


def subscriptions_registrar(outbox: Outbox) -> Registrar:
    """A registrar for build_application(registrars=...): the commands, buttons and tap counting."""

    def register(app: App) -> None:
        app.bot_data.subscriptions = outbox
        app.add_handler(CommandHandler("subscribe", subscribe))
        app.add_handler(CommandHandler("unsubscribe", unsubscribe))
        app.add_handler(CallbackQueryHandler(press, pattern=r"^n:"))
        app.add_handler(CallbackQueryHandler(after_press), group=AFTER)

    return register


async def subscribe(update: Update, context: StoryContext) -> None:
    """/subscribe: new stories from now on, in the fan's language."""
    await _opt(update, context, on=True, kind="command")


async def unsubscribe(update: Update, context: StoryContext) -> None:
    """/unsubscribe: no more new stories."""
    await _opt(update, context, on=False, kind="command")


async def press(update: Update, context: StoryContext) -> None:
    """The "🔔 New stories" button, or the one-tap unsubscribe under a broadcast."""
    query = update.callback_query
    action = parse_button(query.data or "") if query is not None else None
    if query is None or action is None:
        return
    await stop_spinner(query)
    await _opt(update, context, on=action[1][1] == "1", kind="callback")


async def _opt(update: Update, context: StoryContext, *, on: bool, kind: str) -> None:
    started = time.perf_counter()
    outbox, chat = context.bot_data.subscriptions, update.effective_chat
    if outbox is None or chat is None:
        return
    if on:
        changed = outbox.subscribe(chat.id, context.lang)
        notice = "subscribed" if changed else "already_subscribed"
    else:
        changed = outbox.unsubscribe(chat.id)
        notice = "unsubscribed" if changed else "not_subscribed"
    reply = subscription_notice(context.storyteller, notice, context.lang)
    await respond(update, context, reply, kind=kind, started=started)


async def after_press(update: Update, context: StoryContext) -> None:
    """After any press: a subscriber's new language follows them; a tap on a broadcast is counted."""
    query, outbox, chat = update.callback_query, context.bot_data.subscriptions, update.effective_chat
    if query is None or outbox is None or chat is None:
        return
    action = parse_button(query.data or "")
    if action is not None and action[0] == "l":
        outbox.relang(chat.id, action[1][0])
    if isinstance(query.message, Message):
        found = outbox.broadcast_of(chat.id, query.message.message_id)
        if found is not None:
            record(
                context,
                update,
                kind="broadcast_tap",
                started=time.perf_counter(),
                outcome="tap",
                campaign=broadcast_campaign(found[0]),
                lang=context.lang,
            )
