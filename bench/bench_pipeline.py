"""The Telegram update pipeline end to end, in process: PTB's Update in, Bot API calls out.

The application is built as in production (gate, handlers, per-chat ordering, persistence,
exchange recording) but on a request that answers every Bot API call from memory with a canned
success, and without a rate limiter, so what is timed is the bot, not the network.
Baseline: the core alone (Storyteller.answer on the same texts).

Run: python -m bench.bench_pipeline [N]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the offline Bot API double is test support

from fakebot import OfflineRequest
from telegram import Update
from telegram.ext import BaseRateLimiter

from bench.common import ROOT
from bot.config import Secret, Settings
from bot.evaluate import load_labelled, questions
from bot.live import CatalogStore
from bot.telegram.app import build_application

TOKEN = "123456789:AAbenchTokenForThePipelineOnly_xyz1234"
BOT_ID = 123456789
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Storybot Bench", "username": "storybot_bench_bot"}
FANS = 200


class NoLimit(BaseRateLimiter[int]):
    """No rate limiting at all: call straight through."""

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self, callback: Any, args: Any, kwargs: Any, endpoint: Any, data: Any, rate_limit_args: Any
    ) -> Any:
        return await callback(*args, **kwargs)


def texts(n: int) -> list[str]:
    """n fan messages cycling through the tune set's questions (English and Chinese)."""
    talks, problems = load_labelled(ROOT / "tests" / "data" / "questions_tune.yaml")
    assert not problems, problems
    asked = [item.question for item in questions(talks)]
    return [asked[i % len(asked)] for i in range(n)]


def update_dict(update_id: int, fan: int, text: str) -> dict[str, Any]:
    """A private text message update as Telegram sends it."""
    user = {"id": fan, "is_bot": False, "first_name": "Fan", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": fan, "type": "private", "first_name": "Fan"},
            "from": user,
            "text": text,
        },
    }


async def pipeline(store: CatalogStore, messages: list[str], state: Path) -> tuple[list[float], float, int]:
    """Per-update times (ms), the total wall time and the Bot API calls made."""
    settings = Settings(
        token=Secret(TOKEN),
        stories_dir=ROOT / "stories",
        data_dir=state,
        log_salt=Secret("bench-salt"),
        flood_limit=1_000_000,
    )
    request = OfflineRequest(bot_user=BOT_USER)
    app = build_application(settings, store, request=request, rate_limiter=NoLimit())
    await app.initialize()
    try:
        updates = [
            Update.de_json(update_dict(i + 1, 1000 + i % FANS, text), app.bot) for i, text in enumerate(messages)
        ]
        for update in updates[:50]:  # warm-up (first-call caches, SQLite pages)
            await app.process_update(update)
        times: list[float] = []
        started = time.perf_counter()
        for update in updates:
            t0 = time.perf_counter()
            await app.process_update(update)
            times.append((time.perf_counter() - t0) * 1000)
        total = time.perf_counter() - started
    finally:
        await app.shutdown()
    return times, total, len(request.calls)


def core(store: CatalogStore, messages: list[str]) -> tuple[list[float], float]:
    """Per-answer times (ms) and total for Storyteller.answer alone."""
    teller = store.storyteller()
    for text in messages[:50]:
        teller.answer(text)
    times: list[float] = []
    started = time.perf_counter()
    for text in messages:
        t0 = time.perf_counter()
        teller.answer(text)
        times.append((time.perf_counter() - t0) * 1000)
    return times, time.perf_counter() - started


def main(n: int = 3000) -> None:
    store = CatalogStore.open(ROOT / "stories")
    messages = texts(n)
    with tempfile.TemporaryDirectory() as folder:
        times, total, calls = asyncio.run(pipeline(store, messages, Path(folder)))
    core_times, core_total = core(store, messages)
    rate, core_rate = n / total, n / core_total
    print(f"Pipeline benchmark: {n} text updates from {FANS} fans, {calls} Bot API calls answered in process\n")
    print("| path | median ms/update | p95 ms | updates/s |")
    print("|---|---:|---:|---:|")
    for name, values, per_second in (
        ("app.process_update (full pipeline)", times, rate),
        ("Storyteller.answer (core only)", core_times, core_rate),
    ):
        p95 = statistics.quantiles(values, n=20)[-1]
        print(f"| {name} | {statistics.median(values):.3f} | {p95:.3f} | {per_second:,.0f} |")
    print(f"\npipeline / core throughput: {rate / core_rate:.2f} (core is {core_rate / rate:.1f}x faster)")
    print(f"target >= 1,000 updates/s: {'met' if rate >= 1000 else 'NOT met'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
