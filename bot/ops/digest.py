"""The moderators' chat feed: misses, errors and rejected edits, batched into rare short digests."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.catalog.problems import Problem
from bot.matching.text import normalise
from bot.ops.exchange import Exchange
from bot.ops.periodic import Periodic, Sleep
from bot.ops.templating import render_fitting
from bot.replies.html import MESSAGE_LIMIT

Send = Callable[[str], Awaitable[None]]

KEEP = 500  # distinct phrasings (and error messages) kept per batch; beyond, only counted
ERROR_CHARS = 300
FANS_SHOWN = 2  # fans named (with their /block_ handle) beside each missed phrasing
PROBLEM_CHARS = 400
# Tried in order until the digest fits one message: (examples shown, characters per example).
LAYOUTS = ((5, 120), (5, 60), (3, 60), (1, 40), (0, 0))

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Batch:
    """What happened since the last digest."""

    first: float | None = None
    last: float | None = None
    clarify: int = 0
    fallback: int = 0
    phrasings: Counter[str] = field(default_factory=Counter)  # by normalised text
    examples: dict[str, str] = field(default_factory=dict)  # normalised → first seen
    fans: dict[str, dict[str, None]] = field(default_factory=dict)  # normalised → who asked, in order
    errors: Counter[str] = field(default_factory=Counter)
    error_total: int = 0
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # the bot's own troubles (a state file set aside)

    def empty(self) -> bool:
        return not (self.clarify or self.fallback or self.error_total or self.problems or self.notices)


class Digest:
    """An ExchangeSink that batches misses and errors; flush() sends at most one message."""

    def __init__(
        self,
        *,
        interval: float = 60.0,
        root: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.root = root
        self._clock = clock
        self._batch = _Batch()
        self._lock = threading.Lock()
        self._last_sent: float | None = None
        self._sending: Periodic | None = None

    def record(self, exchange: Exchange) -> None:
        """Keep a miss or an error for the next digest (thread-safe, never raises)."""
        if not (exchange.is_miss or exchange.is_error):
            return
        try:
            with self._lock:
                self._add(exchange)
        except Exception:
            log.exception("could not queue an exchange for the moderators' digest")

    def _add(self, exchange: Exchange) -> None:
        batch = self._batch
        batch.first = exchange.time if batch.first is None else min(batch.first, exchange.time)
        batch.last = exchange.time if batch.last is None else max(batch.last, exchange.time)
        if exchange.is_error:
            batch.error_total += 1
            lines = (exchange.error or exchange.outcome).strip().splitlines()
            message = lines[0][:ERROR_CHARS] if lines else exchange.outcome
            if message in batch.errors or len(batch.errors) < KEEP:
                batch.errors[message] += 1
            return
        if exchange.outcome == "clarify":
            batch.clarify += 1
        else:
            batch.fallback += 1
        key = normalise(exchange.question)
        if key in batch.phrasings or len(batch.phrasings) < KEEP:
            batch.phrasings[key] += 1
            batch.examples.setdefault(key, exchange.question.strip())
            if exchange.user_key:
                batch.fans.setdefault(key, {})[exchange.user_key] = None

    def add_problems(self, problems: list[Problem]) -> None:
        """Report a rejected catalogue edit (the hot-reload watcher's on_problems)."""
        with self._lock:
            self._batch.problems = list(problems)  # the latest attempt is the one to fix

    def add_notice(self, text: str) -> None:
        """Tell the moderators something about the bot itself in the next digest."""
        with self._lock:
            self._batch.notices.append(text)

    def pending(self) -> bool:
        """Whether anything waits to be sent."""
        with self._lock:
            return not self._batch.empty()

    def take(self) -> str | None:
        """The digest text for everything queued (emptying the queue); None when nothing."""
        with self._lock:
            batch, self._batch = self._batch, _Batch()
        return None if batch.empty() else compose(batch, self.root)

    async def flush(self, send: Send) -> bool:
        """Send one digest when there is something and the last one is `interval` old."""
        now = self._clock()
        if self._last_sent is not None and now - self._last_sent < self.interval:
            return False
        text = self.take()
        if text is None:
            return False
        self._last_sent = now
        try:
            await send(text)
        except Exception:
            log.exception("could not send the moderators' digest; its items were dropped")
            return False
        return True

    async def run(self, send: Send, sleep: Sleep = asyncio.sleep) -> None:
        """Flush every `interval` seconds until cancelled."""
        await Periodic("the digest", self.interval, lambda: self.flush(send), sleep).run()

    def start(self, send: Send) -> None:
        """Send digests from the running event loop (the Telegram app's post_init)."""
        if self._sending is None:
            self._sending = Periodic("the digest", self.interval, lambda: self.flush(send))
        self._sending.start()

    async def stop(self, send: Send | None = None) -> None:
        """Stop the loop; with `send`, flush what is left if the flood limit allows."""
        if self._sending is not None:
            await self._sending.stop()
        if send is not None:
            await self.flush(send)


def compose(batch: _Batch, root: Path | None = None) -> str:
    """The digest for one batch, shortened (fewer, shorter examples) until it fits a message."""
    ranked = sorted(
        (
            (count, batch.examples[key], tuple(batch.fans.get(key, {}))[:FANS_SHOWN])
            for key, count in batch.phrasings.items()
        ),
        key=lambda kv: (-kv[0], kv[1]),
    )
    errors = sorted(batch.errors.items(), key=lambda kv: (-kv[1], kv[0]))
    problems = [p.format(root) for p in batch.problems if not p.warning]
    layouts = [
        {
            "top": ranked[:shown],
            "other": len(ranked) - min(shown, len(ranked)),
            "chars": chars,
            "top_errors": errors[:shown],
            "problems": problems[: max(shown * 2, 1)],
            "more_problems": max(len(problems) - max(shown * 2, 1), 0),
            "problem_chars": PROBLEM_CHARS if shown else 200,
        }
        for shown, chars in LAYOUTS
    ]
    return render_fitting(
        "digest.html.j2",
        layouts,
        MESSAGE_LIMIT,
        first=batch.first,
        last=batch.last,
        misses=batch.clarify + batch.fallback,
        clarify=batch.clarify,
        fallback=batch.fallback,
        errors=batch.error_total,
        notices=batch.notices,
    )
