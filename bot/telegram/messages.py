"""Messages: free text goes to the storyteller; stickers, photos, voice get a short notice."""

from __future__ import annotations

import time

from telegram import Update
from telegram.constants import ChatType

from bot.telegram import services
from bot.telegram.audience import without_mention
from bot.telegram.fans import chosen_lang, menu_lang
from bot.telegram.respond import respond
from bot.telegram.services import Context


async def text(update: Update, context: Context) -> None:
    """Answer a question (in groups, with the bot's @mention taken out first)."""
    started = time.perf_counter()
    message = update.message
    if message is None or update.effective_chat is None:
        return
    question = message.text or ""
    if update.effective_chat.type != ChatType.PRIVATE:
        question = without_mention(message)
    teller = services.storyteller(context)
    if question.strip():
        reply = teller.answer(question, chosen_lang(context))
    else:  # only "@bot": say hello
        reply, _ = teller.start("", menu_lang(update, context))
    await respond(update, context, reply, kind="message", started=started, question=question)


async def non_text(update: Update, context: Context) -> None:
    """Say, kindly, that only words can be read."""
    started = time.perf_counter()
    reply = services.storyteller(context).notice("non_text", menu_lang(update, context))
    await respond(update, context, reply, kind="non_text", started=started)
