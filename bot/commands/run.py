"""`storybot run`: the Telegram bot, by long polling (or by webhook when WEBHOOK_URL is set)."""

from __future__ import annotations

import argparse
import re
import sys

from bot.catalog.problems import CatalogError
from bot.commands.common import EXIT_BROKEN_CATALOGUE, print_problems, settings_for
from bot.live import CatalogStore

EXIT_NOT_CONFIGURED = 2
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
NO_TOKEN = (
    "storybot run: TELEGRAM_BOT_TOKEN is not set. Get a token from @BotFather in Telegram "
    "(/newbot) and put it in the environment or .env; `storybot chat` works offline without one."
)
NO_SECRET = (
    "storybot run: WEBHOOK_URL is set but WEBHOOK_SECRET is not. Set WEBHOOK_SECRET to 1-256 "
    "characters of A-Z, a-z, 0-9, _ or - so only Telegram can post updates to the webhook."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `run` (everything else comes from the environment)."""


def run(args: argparse.Namespace) -> int:
    """Check the settings and the catalogue, then serve fans until stopped."""
    settings = settings_for(args)
    if not settings.token:
        print(NO_TOKEN, file=sys.stderr)
        return EXIT_NOT_CONFIGURED
    if settings.webhook_url and not _SECRET_TOKEN.fullmatch(settings.webhook_secret.get()):
        print(NO_SECRET, file=sys.stderr)
        return EXIT_NOT_CONFIGURED
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
    # Imported here so that the offline commands never load python-telegram-bot.
    from bot.telegram.app import build_bot, secrets_of, serve
    from bot.telegram.logging_setup import configure_logging

    configure_logging(settings.log_level, secrets_of(settings))
    app, _ = build_bot(settings, store)
    serve(app, settings)
    return 0
