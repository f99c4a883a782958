"""The handlers: commands, free text, everything else sent to us, button presses, and failures.

Each turns an update into a `Reply` with the core and hands it to the outbox; the guard has
already decided that the update is meant for the bot and may be answered.
"""

from __future__ import annotations

import logging
import re
import time

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError

from bot.replies.buttons import parse_button
from bot.telegram.context import StoryContext
from bot.telegram.outbox import kind_of, record, respond, show, stop_spinner
from bot.telegram.private import answer_privately

_LOGGER = logging.getLogger(__name__)
# The commands menu, in the order Telegram lists them; descriptions are ui.yaml's `cmd_<name>`.
MENU = ("start", "help", "stories", "language")
IN_PLACE = frozenset({"p"})  # only catalogue pages replace themselves; the rest is a new message


# --- commands -----------------------------------------------------------------------------------


async def start(update: Update, context: StoryContext) -> None:
    """Greet with the featured stories, or open the story a deep link names."""
    started = time.perf_counter()
    payload = context.args[0] if context.args else ""
    reply, campaign = context.storyteller.start(payload, context.lang)
    kind = "deep_link" if payload else "command"
    await respond(update, context, reply, kind=kind, started=started, campaign=campaign)


async def help_(update: Update, context: StoryContext) -> None:
    """How to talk to the bot (also the answer to commands it does not know)."""
    started = time.perf_counter()
    await respond(update, context, context.storyteller.help(context.lang), kind="command", started=started)


async def stories(update: Update, context: StoryContext) -> None:
    """The first page of the catalogue."""
    started = time.perf_counter()
    await respond(update, context, context.storyteller.catalogue(context.lang, 0), kind="command", started=started)


async def language(update: Update, context: StoryContext) -> None:
    """Offer the languages as buttons."""
    started = time.perf_counter()
    await respond(update, context, context.storyteller.language_menu(context.lang), kind="command", started=started)


# --- messages -----------------------------------------------------------------------------------


async def text(update: Update, context: StoryContext) -> None:
    """Answer a question (in groups, with the bot's @mention taken out first)."""
    started = time.perf_counter()
    message = update.message
    if message is None or update.effective_chat is None:
        return
    question = message.text or ""
    if update.effective_chat.type != ChatType.PRIVATE:
        question = without_mention(message)
    if question.strip():
        reply = context.storyteller.answer(question, context.chosen_lang, context.conversation)
    else:  # only "@bot": say hello
        reply, _ = context.storyteller.start("", context.lang)
    await respond(update, context, reply, kind="message", started=started, question=question)


def without_mention(message: Message) -> str:
    """The message text with the bot's @username taken out."""
    bot = message.get_bot()
    username = bot.username or ""
    words = message.text or ""
    # A text mention names the bot by a link, not by @username: cut it out by its place.
    for entity in sorted(message.entities, key=lambda e: e.offset, reverse=True):
        if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot.id:
            shown = message.parse_entity(entity)
            start = len(words.encode("utf-16-le")[: entity.offset * 2].decode("utf-16-le"))
            words = words[:start] + " " + words[start + len(shown) :]
    if username:
        words = re.sub(rf"@{re.escape(username)}\b", " ", words, flags=re.IGNORECASE)
    return " ".join(words.split())


async def non_text(update: Update, context: StoryContext) -> None:
    """A caption is answered like text; a sticker gets a smile; anything else, that only words are read."""
    started = time.perf_counter()
    message = update.message
    caption = (message.caption or "").strip() if message is not None else ""
    if caption:
        reply = context.storyteller.answer(caption, context.chosen_lang, context.conversation)
        await respond(update, context, reply, kind="non_text", started=started, question=caption)
        return
    teller = context.storyteller
    playful = message is not None and message.sticker is not None
    reply = teller.playful(context.lang) if playful else teller.notice("non_text", context.lang)
    await respond(update, context, reply, kind="non_text", started=started)


# --- buttons ------------------------------------------------------------------------------------


async def press(update: Update, context: StoryContext) -> None:
    """Turn the press into a reply; stale or forged data gets the polite catalogue."""
    started = time.perf_counter()
    query = update.callback_query
    if query is None:
        return
    data = query.data or ""
    action = parse_button(data)
    kind = action[0] if action else None
    if kind == "l" and action is not None:
        context.chosen_lang = action[1][0]
    reply = context.storyteller.press(data, context.lang)
    if query.inline_message_id is not None:  # a shared card: answer the fan alone
        await answer_privately(update, context, reply, started=started)
        return
    await stop_spinner(query)
    in_place = kind in IN_PLACE
    await respond(update, context, reply, kind="callback", started=started, in_place=in_place)


# --- failures -----------------------------------------------------------------------------------


def describe(update: object) -> str:
    """Which update, for the log: its id and kind, never a name, an id of a person or their words."""
    if isinstance(update, Update):
        return f"update {update.update_id} ({kind_of(update)})"
    return f"<{type(update).__name__}>"


def error_text(error: BaseException | None) -> str:
    """`Kind: message`, without saying the kind twice (PTB's messages often start with it)."""
    if error is None:
        return "unknown error"
    kind, message = type(error).__name__, str(error)
    return message if message.startswith(kind) else f"{kind}: {message}"


async def on_error(update: object, context: StoryContext) -> None:
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
        reason = context.redactor(error_text(error))[:500]
        started = time.perf_counter()
        record(context, update, kind=kind_of(update), started=started, outcome="error", error=reason, lang=context.lang)
        if not isinstance(error, TelegramError) and update.effective_chat is not None:
            await show(update, context, context.storyteller.notice("error", context.lang))
    except Exception:
        _LOGGER.exception("The error handler failed too; carrying on")
