"""`storybot broadcast`: send a story to every subscriber, see who would get it, follow progress.

The command queues the broadcast in the state database. A running bot sends it, sharing its one
rate budget with live replies (which go first); with no bot running, this command sends it itself,
so a marketer never waits for a deploy. `--resume` finishes whatever a stopped sender left.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from bot.broadcast.outbox import Outbox, Progress
from bot.broadcast.schedule import DUE, INTERVAL, LATE_LIMIT, WAITING, state_of
from bot.catalog.load import load_catalog
from bot.catalog.model import LANGS, SCHEDULE_FILE, Scheduled
from bot.commands.common import load_storyteller, settings_for
from bot.config import BROADCAST, DATA, Settings
from bot.ops.templating import render
from bot.replies.render import plain
from bot.replies.storyteller import Storyteller
from bot.replies.subscriptions import broadcast_reply

EXIT_UNKNOWN_STORY = 2
BAR = 30
REFRESH = 0.5  # seconds between redraws of the progress bar
Sleep = Callable[[float], object]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `broadcast`."""
    parser.add_argument("story", nargs="?", metavar="STORY_ID", help="the story to send")
    parser.add_argument("--lang", choices=LANGS, help="only subscribers who read this language")
    parser.add_argument("--dry-run", action="store_true", help="say how many fans would get it and show it")
    parser.add_argument("--status", action="store_true", help="each broadcast's progress; live while one runs")
    parser.add_argument("--resume", action="store_true", help="send what a stopped sender left (no bot running)")


def run(args: argparse.Namespace) -> int:
    """Queue (and, with no bot running, send) a broadcast; or show the status."""
    settings = settings_for(args, *DATA, *BROADCAST)
    outbox = Outbox(settings.state_db)
    try:
        if args.status:
            _schedule(outbox, settings.stories_dir, time.time())
            return status(outbox, follow=sys.stdout.isatty())
        if args.story is None and not args.resume:
            print("storybot broadcast: name a STORY_ID (or use --status or --resume)", file=sys.stderr)
            return EXIT_UNKNOWN_STORY
        storyteller = load_storyteller(args)
        if storyteller is None:
            return EXIT_UNKNOWN_STORY
        if args.story is not None:
            if args.story not in storyteller.snapshot.catalog.stories:
                known = ", ".join(sorted(storyteller.snapshot.catalog.stories))
                print(f"storybot broadcast: no story {args.story!r}; the catalogue has: {known}", file=sys.stderr)
                return EXIT_UNKNOWN_STORY
            if args.dry_run:
                _dry_run(outbox, storyteller, args.story, args.lang)
                return 0
            broadcast = outbox.enqueue(args.story, args.lang)
            queued = next(p for p in outbox.progress() if p.id == broadcast)
            print(f"broadcast {broadcast}: {args.story} queued for {queued.total} subscribers", file=sys.stderr)
        if outbox.sender_running():
            print("the running bot is sending it; follow with `storybot broadcast --status`", file=sys.stderr)
            return 0
        if not settings.token:
            print("no bot is running and TELEGRAM_BOT_TOKEN is not set: it stays queued until one starts")
            return 0
        asyncio.run(send_here(settings, outbox, storyteller, sys.stderr))
        return status(outbox, follow=False)
    finally:
        outbox.close()


def _dry_run(outbox: Outbox, storyteller: Storyteller, story: str, lang: str | None) -> None:
    previews = []
    for code in [lang] if lang else LANGS:
        reply = broadcast_reply(storyteller, story, code)
        if reply is not None:
            rows = [[button.label for button in row] for row in reply.buttons]
            previews.append({"lang": code, "text": plain(reply.text, keep_lines=True), "rows": rows})
    print(render("broadcast_dry_run.txt.j2", story=story, counts=outbox.subscribers(lang), previews=previews).rstrip())


async def send_here(settings: Settings, outbox: Outbox, storyteller: Storyteller, out: TextIO | None) -> None:
    """Send everything queued from this process (no bot running), with a live progress bar on `out`."""
    # Imported here so that --status and --dry-run never load python-telegram-bot.
    from telegram.ext import ExtBot

    from bot.broadcast.sender import Broadcaster, live_first_limiter
    from bot.ops.logfile import close_sinks, open_sinks
    from bot.ops.salt import with_salt
    from bot.telegram.app import DEFAULTS
    from bot.telegram.http import AiohttpRequest

    settings = with_salt(settings)
    sinks = open_sinks(settings)
    bot: ExtBot[int] = ExtBot(
        settings.token.get(),
        base_url=settings.base_url,
        defaults=DEFAULTS,
        request=AiohttpRequest(),
        rate_limiter=live_first_limiter(settings.broadcast_rate),
    )
    try:
        async with bot:
            broadcaster = Broadcaster.configured(settings, outbox, bot, storyteller, sinks)
            task = asyncio.create_task(broadcaster.drain(until_idle=True))
            while not task.done():
                await asyncio.wait({task}, timeout=REFRESH)
                if out is not None:
                    print("\r" + bar(outbox.progress()), end="", file=out, flush=True)
            if out is not None:
                print(file=out)
            await task
    finally:
        close_sinks(sinks)


def bar(progress: list[Progress]) -> str:
    """One line: a bar over the broadcasts still running (or the last one), with its counts."""
    running = [p for p in progress if not p.done] or progress[-1:]
    total = sum(p.total for p in running)
    left = sum(p.left for p in running)
    return render(
        "broadcast_bar.txt.j2",
        width=BAR,
        filled=BAR * (total - left) // total if total else BAR,
        total=total,
        sent=sum(p.sent for p in running),
        blocked=sum(p.blocked for p in running),
        failed=sum(p.failed for p in running),
        left=left,
    )


def _schedule(outbox: Outbox, root: Path, now: float) -> None:
    """The entries of broadcasts.yaml and where each stands (nothing when none is scheduled)."""
    catalog, _ = load_catalog(root)
    recorded = outbox.scheduled() if catalog is not None and catalog.schedule else {}
    rows = [] if catalog is None else [_scheduled_row(e, recorded, now) for e in catalog.schedule]
    text = render(
        "broadcast_schedule.txt.j2",
        file=root / SCHEDULE_FILE if catalog is None else SCHEDULE_FILE,
        broken=catalog is None,
        rows=rows,
        running=outbox.sender_running(now),
        interval=f"{INTERVAL:.0f}",
        late_hours=f"{LATE_LIMIT / 3600:.0f}",
    )
    if text.strip():
        print(text.rstrip())


def _scheduled_row(entry: Scheduled, recorded: dict[tuple[str, str, str], int | None], now: float) -> dict[str, Any]:
    row: dict[str, Any] = {"at": entry.at.isoformat(timespec="minutes"), "story": entry.story, "lang": entry.lang}
    if entry.key in recorded:
        broadcast = recorded[entry.key]
        return row | ({"state": "queued", "broadcast": broadcast} if broadcast is not None else {"state": "skipped"})
    state = state_of(entry, now)
    if state == WAITING:
        minutes = int((entry.at.timestamp() - now) // 60) + 1
        wait = {"days": minutes // 1440, "hours": minutes // 60 % 24, "minutes": minutes % 60}
        return row | {"state": "waiting", "wait": wait}
    return row | {"state": "due" if state == DUE else "late"}


def status(outbox: Outbox, *, follow: bool, out: TextIO | None = None, sleep: Sleep = time.sleep) -> int:
    """`--status`: each broadcast's row and the subscribers; with `follow`, a live bar until all are sent."""
    out = sys.stdout if out is None else out
    progress = outbox.progress()
    unsent = any(not p.done for p in progress)
    stalled = unsent and not outbox.sender_running()  # queued, but no bot or command is sending it
    table = render("broadcast_status.txt.j2", progress=progress, subscribers=outbox.subscribers())
    print(table.rstrip("\n"), file=out)
    if follow and unsent and not stalled:
        stalled = not watch(outbox, out, sleep=sleep)
    if stalled:
        print(render("broadcast_stalled.txt.j2"), file=out)
    return 0


def watch(outbox: Outbox, out: TextIO, *, sleep: Sleep = time.sleep) -> bool:
    """Redraw the bar every REFRESH seconds until all is sent (True) or no sender is left to send it (False)."""
    while True:
        sending = outbox.sender_running()  # asked first: a sender that just finished has let go by then
        progress = outbox.progress()
        print("\r" + bar(progress), end="", file=out, flush=True)
        done = all(p.done for p in progress)
        if done or not sending:
            print(file=out)
            return done
        sleep(REFRESH)
