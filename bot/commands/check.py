"""`storybot check`: every problem in the catalogue at once, with file, line and fix."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.checks.coverage import default_labelled, labelled_coverage
from bot.commands.common import print_problems, settings_for
from bot.config import CATALOGUE
from bot.live import build_snapshot


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `check`."""
    parser.add_argument(
        "--json",
        action="store_true",
        help="problems as JSON lines: file, line, field, severity, message, fix",
    )
    parser.add_argument(
        "--labelled",
        type=Path,
        action="append",
        metavar="FILE",
        help="labelled questions (as for `storybot eval`) whose coverage of each story to report; "
        "may be repeated (default: tests/data/questions_*.yaml and conversations_*.yaml beside the stories)",
    )


def run(args: argparse.Namespace) -> int:
    """Exit 0 when the catalogue is clean (warnings allowed), 1 otherwise."""
    root = settings_for(args, *CATALOGUE).stories_dir
    snapshot, problems = build_snapshot(root, confusion=True, thorough=True)
    if snapshot is not None:
        chosen = args.labelled or []
        problems.extend(labelled_coverage(snapshot.catalog, chosen or default_labelled(root), chosen=bool(chosen)))
    errors = [p for p in problems if not p.warning]
    if args.json:
        for problem in problems:
            print(json.dumps(problem.to_json(), ensure_ascii=False))
    else:
        print_problems(problems, root, sys.stdout)  # the report itself: one stream, in order
    if snapshot is None or errors:
        if not args.json:
            print(f"✗ {len(errors)} error(s), {len(problems) - len(errors)} warning(s) in {root}")
        return 1
    if not args.json:
        stories = len(snapshot.catalog.stories)
        warnings = len(problems)
        scheduled = len(snapshot.catalog.schedule)
        print(
            f"✓ {stories} stories OK in {root}"
            + (f", {scheduled} scheduled broadcast(s)" if scheduled else "")
            + (f" ({warnings} warning(s))" if warnings else "")
        )
    return 0
