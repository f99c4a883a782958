"""Commands: /start (with deep-link payloads), /help, /stories, /language."""

from __future__ import annotations

import time

from telegram import Update

from bot.telegram import services
from bot.telegram.fans import menu_lang
from bot.telegram.respond import respond
from bot.telegram.services import Context

# The commands menu, in the order Telegram lists them; descriptions are ui.yaml's `cmd_<name>`.
MENU = ("start", "help", "stories", "language")


async def start(update: Update, context: Context) -> None:
    """Greet with the featured stories, or open the story a deep link names."""
    started = time.perf_counter()
    payload = context.args[0] if context.args else ""
    reply, campaign = services.storyteller(context).start(payload, menu_lang(update, context))
    kind = "deep_link" if payload else "command"
    await respond(update, context, reply, kind=kind, started=started, campaign=campaign)


async def help_(update: Update, context: Context) -> None:
    """How to talk to the bot (also the answer to commands it does not know)."""
    started = time.perf_counter()
    reply = services.storyteller(context).help(menu_lang(update, context))
    await respond(update, context, reply, kind="command", started=started)


async def stories(update: Update, context: Context) -> None:
    """The first page of the catalogue."""
    started = time.perf_counter()
    reply = services.storyteller(context).catalogue(menu_lang(update, context), 0)
    await respond(update, context, reply, kind="command", started=started)


async def language(update: Update, context: Context) -> None:
    """Offer the languages as buttons."""
    started = time.perf_counter()
    reply = services.storyteller(context).language_menu(menu_lang(update, context))
    await respond(update, context, reply, kind="command", started=started)
