"""What several commands share: settings with --stories applied, and loading the catalogue."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot.catalog.problems import Problem
from bot.config import Settings
from bot.live import build_snapshot
from bot.replies.storyteller import Storyteller

EXIT_BROKEN_CATALOGUE = 2


def settings_for(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with --stories taking precedence."""
    settings = Settings.from_env()
    if getattr(args, "stories", None):
        settings = replace(settings, stories_dir=Path(args.stories))
    return settings


def print_problems(problems: list[Problem], root: Path, stream: TextIO | None = None) -> None:
    """Every problem on its own line, on stderr unless a stream is given."""
    for problem in problems:
        print(problem.format(root.parent), file=stream or sys.stderr)


def load_storyteller(args: argparse.Namespace) -> Storyteller | None:
    """The storyteller over the chosen catalogue, or None (problems printed) when it is broken."""
    settings = settings_for(args)
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
