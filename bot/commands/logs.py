"""`storybot logs`: the exchange log, one readable line an exchange, live with --follow."""

from __future__ import annotations

import argparse
import json
import time
from collections import deque
from collections.abc import Iterable
from datetime import UTC
from itertools import chain
from pathlib import Path

from bot.commands.common import settings_for
from bot.config import DATA
from bot.ops.exchange import Exchange
from bot.ops.logread import LogTail, follow, parse_duration, read_records
from bot.ops.tail import Filter, format_line, select

FOLLOW_CONTEXT = 10


def duration(text: str) -> float:
    """argparse type for DURATION."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `logs`."""
    parser.add_argument("-f", "--follow", action="store_true", help="keep showing new exchanges")
    parser.add_argument("--misses", action="store_true", help="only misses and errors")
    parser.add_argument("--story", metavar="ID", help="only exchanges about this story")
    parser.add_argument(
        "--since",
        type=duration,
        metavar="DURATION",
        help="from this long ago (30s, 15m, 2h, 7d), rotated files included",
    )
    parser.add_argument("-n", "--lines", type=int, metavar="N", help="only the last N of the past")
    parser.add_argument(
        "--file", type=Path, metavar="PATH", help="the log (default: the data folder's exchanges.jsonl)"
    )
    parser.add_argument("--json", action="store_true", help="the JSON records as they are")
    parser.add_argument("--utc", action="store_true", help="times in UTC, not local time")


def run(args: argparse.Namespace) -> int:
    """Print the past exchanges that pass the filters, then follow the log if asked."""
    path: Path = args.file or settings_for(args, *DATA).exchange_log
    wanted = Filter(misses=args.misses, story=args.story)
    since = time.time() - args.since if args.since is not None else None
    limit = args.lines
    if limit is None and args.follow and since is None:
        limit = FOLLOW_CONTEXT
    # The live file is opened before it is read, so following continues exactly where the
    # history stopped: nothing is shown twice and nothing is skipped.
    with LogTail(path, from_start=True) as tail:
        rotated = read_records(path, since, live=False) if since is not None else iter(())
        live = (r for r in tail.poll() if since is None or r.time >= since)
        history: Iterable[Exchange] = select(chain(rotated, live), wanted)
        if limit is not None:
            history = deque(history, maxlen=max(limit, 0))
        _show(history, args)
        if args.follow:
            _show(select(follow(tail), wanted), args)
    return 0


def _show(records: Iterable[Exchange], args: argparse.Namespace) -> None:
    tz = UTC if args.utc else None
    for record in records:
        if args.json:
            print(json.dumps(record.to_json(), ensure_ascii=False), flush=True)
        else:
            print(format_line(record, tz), flush=True)
