"""`storybot run`: the Telegram bot, by long polling or by webhook (--polling / --webhook)."""

from __future__ import annotations

import argparse
import logging
import sys

from bot.catalog.problems import CatalogError
from bot.commands.common import EXIT_BROKEN_CATALOGUE, WEBHOOK_MODE, add_mode_arguments, bot_settings, print_problems
from bot.config import Settings, masked_token
from bot.live import CatalogStore

EXIT_REJECTED = 2
EXIT_FAILED = 1
REJECTED = "storybot run: Telegram rejected the token; check TELEGRAM_BOT_TOKEN (from @BotFather)."

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `run` (everything else comes from the environment)."""
    add_mode_arguments(parser)


def start_line(mode: str, settings: Settings, stories: int) -> str:
    """What `run` says first, in one line: mode, catalogue, data folder and the bot (masked)."""
    how = f"webhook {settings.webhook_url} on port {settings.port}" if mode == WEBHOOK_MODE else "long polling"
    return (
        f"storybot run: {how} · catalogue {settings.stories_dir} ({stories} stories)"
        f" · data {settings.data_dir} · bot {masked_token(settings.token)}"
    )


def run(args: argparse.Namespace) -> int:
    """Check the settings and the catalogue, then serve fans until stopped."""
    mode, settings = bot_settings(args)
    try:
        store = CatalogStore.open(settings.stories_dir, settings.meaning_model)
    except CatalogError as exc:
        print_problems([p for p in exc.problems if not p.warning], settings.stories_dir)
        print(
            f"storybot run: the catalogue in {settings.stories_dir} has errors; "
            "fix them (`storybot check` lists them all) and start again.",
            file=sys.stderr,
        )
        return EXIT_BROKEN_CATALOGUE
    store.warm()  # the semantic stage loads in the background while the bot connects
    # Imported here so that the offline commands never load python-telegram-bot.
    from telegram.error import InvalidToken

    from bot.telegram.app import build_bot, secrets_of, serve
    from bot.telegram.logging_setup import configure_logging

    print(start_line(mode, settings, len(store.current().catalog.stories)), file=sys.stderr, flush=True)
    configure_logging(settings.log_level, secrets_of(settings))
    try:
        app, _ = build_bot(settings, store)
        serve(app, settings)
    except InvalidToken:
        # PTB's message quotes the token itself: say what happened in our words instead.
        print(REJECTED, file=sys.stderr)
        return EXIT_REJECTED
    except Exception:
        # Through logging, whose filter masks every secret, even inside the traceback.
        log.exception("storybot run stopped on an error")
        return EXIT_FAILED
    return 0
