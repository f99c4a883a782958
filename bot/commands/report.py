"""`storybot report`: hits, misses grouped, campaigns; as text, JSON or one HTML page."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bot.commands.common import settings_for
from bot.commands.logs import duration
from bot.config import DATA
from bot.live import Snapshot, build_snapshot
from bot.ops.logread import read_records
from bot.ops.report import summarise
from bot.ops.report_view import render_html, render_json, render_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `report`."""
    parser.add_argument("--since", type=duration, metavar="DURATION", help="only this long ago (30s, 15m, 2h, 7d)")
    parser.add_argument(
        "--file", type=Path, metavar="PATH", help="the log (default: the data folder's exchanges.jsonl)"
    )
    parser.add_argument("--html", type=Path, metavar="FILE", help="also write one HTML page here")
    parser.add_argument("--json", action="store_true", help="the figures as JSON")


def run(args: argparse.Namespace) -> int:
    """Summarise the log (rotated files included) and print or write the report."""
    settings = settings_for(args, *DATA)
    path: Path = args.file or settings.exchange_log
    since = time.time() - args.since if args.since is not None else None
    if not path.exists():
        print(f"note: there is no exchange log at {path} (yet)", file=sys.stderr)
    snapshot = _snapshot(settings.stories_dir)
    titles = {s.id: s.title["en"] for s in snapshot.catalog.stories.values()} if snapshot else None
    report = summarise(read_records(path, since), since, snapshot.matcher if snapshot else None, titles)
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(render_html(report), encoding="utf-8")
        print(f"wrote {args.html}", file=sys.stderr)
    print(render_json(report) if args.json else render_text(report))
    return 0


def _snapshot(root: Path) -> Snapshot | None:
    """The catalogue (matcher, titles) for suggestions; None (with a note) when it cannot be loaded."""
    snapshot, _ = build_snapshot(root)
    if snapshot is None:
        print(
            f"note: the catalogue in {root} has errors; no closest story is suggested (run `storybot check`)",
            file=sys.stderr,
        )
        return None
    return snapshot
