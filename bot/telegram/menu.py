"""The commands menu Telegram shows beside the text box, in every language from ui.yaml."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand
from telegram.error import TelegramError

from bot.catalog.model import LANGS, Catalog
from bot.telegram.commands import MENU

_LOGGER = logging.getLogger(__name__)


def command_menu(catalog: Catalog, lang: str) -> list[BotCommand]:
    """The menu in one language; descriptions are ui.yaml's `cmd_<command>` strings."""
    ui = catalog.ui.get(lang, {})
    return [BotCommand(name, ui.get(f"cmd_{name}", name)) for name in MENU]


async def publish_commands(bot: Bot, catalog: Catalog) -> None:
    """Set the menu: the first language for everyone, the others for fans whose app uses them."""
    try:
        await bot.set_my_commands(command_menu(catalog, LANGS[0]))
        for lang in LANGS[1:]:
            await bot.set_my_commands(command_menu(catalog, lang), language_code=lang)
    except TelegramError as exc:  # a missing menu is no reason not to answer fans
        _LOGGER.warning("Could not set the commands menu: %s", exc)
