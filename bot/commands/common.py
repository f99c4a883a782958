"""What several commands share: settings with --stories applied, the bot's mode, loading the catalogue."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot.catalog.problems import Problem
from bot.config import (
    BOT,
    CATALOGUE,
    TOKEN_ACCEPTED,
    WEBHOOK,
    WEBHOOK_SECRET_ACCEPTED,
    Settings,
    SettingsError,
    missing,
)
from bot.live import build_snapshot
from bot.replies.storyteller import Storyteller

EXIT_BROKEN_CATALOGUE = 2
POLLING, WEBHOOK_MODE = "polling", "webhook"


def settings_for(args: argparse.Namespace, *needs: str) -> Settings:
    """Settings from the environment, with --stories taking precedence; SettingsError when any of
    the variables this command `needs` is unusable (the others cannot break it)."""
    settings = Settings.from_env()
    if getattr(args, "stories", None):
        settings = replace(settings, stories_dir=Path(args.stories))
    return settings.require(*needs)


def add_mode_arguments(parser: argparse.ArgumentParser) -> None:
    """--polling / --webhook, shared by `run` and `health`."""
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--polling", action="store_const", const=POLLING, dest="mode", help="receive by long polling")
    mode.add_argument(
        "--webhook", action="store_const", const=WEBHOOK_MODE, dest="mode", help="receive on WEBHOOK_URL (needs PORT)"
    )


def choose_mode(args: argparse.Namespace, settings: Settings) -> str:
    """--polling or --webhook as asked; else webhook when WEBHOOK_URL is set (even if unusable)."""
    webhook_meant = bool(settings.webhook_url) or any(p.name == "WEBHOOK_URL" for p in settings.problems)
    return str(args.mode or (WEBHOOK_MODE if webhook_meant else POLLING))


def bot_settings(args: argparse.Namespace) -> tuple[str, Settings]:
    """The mode and every setting it needs, checked: SettingsError names every bad or missing one
    at once. In polling mode WEBHOOK_URL is dropped, so nothing downstream serves a webhook."""
    settings = settings_for(args)
    mode = choose_mode(args, settings)
    names = (*BOT, *(WEBHOOK if mode == WEBHOOK_MODE else ()))
    problems = [p for p in settings.problems if p.name in names]
    needed = [
        ("TELEGRAM_BOT_TOKEN", bool(settings.token), TOKEN_ACCEPTED + "; `storybot chat` works offline without one")
    ]
    if mode == WEBHOOK_MODE:
        needed.append(("WEBHOOK_URL", bool(settings.webhook_url), "the public https:// address Telegram posts to"))
        needed.append(
            ("WEBHOOK_SECRET", bool(settings.webhook_secret), WEBHOOK_SECRET_ACCEPTED + ", so only Telegram can post")
        )
    bad = {p.name for p in problems}
    problems += [missing(name, accepted) for name, present, accepted in needed if not present and name not in bad]
    if problems:
        raise SettingsError(tuple(problems))
    return mode, settings if mode == WEBHOOK_MODE else replace(settings, webhook_url="")


def print_problems(problems: list[Problem], root: Path, stream: TextIO | None = None) -> None:
    """Every problem on its own line, on stderr unless a stream is given."""
    for problem in problems:
        print(problem.format(root.parent), file=stream or sys.stderr)


def load_storyteller(args: argparse.Namespace) -> Storyteller | None:
    """The storyteller over the chosen catalogue, or None (problems printed) when it is broken."""
    settings = settings_for(args, *CATALOGUE)
    root = settings.stories_dir
    snapshot, problems = build_snapshot(root, meaning_model=settings.meaning_model)
    if snapshot is None:
        print_problems([p for p in problems if not p.warning], root)
        print(
            f"The catalogue in {root} has errors; run `storybot check` for the full list.",
            file=sys.stderr,
        )
        return None
    return Storyteller(snapshot)
