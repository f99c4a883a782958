"""Broadcast throughput: one process drains the outbox to an unthrottled fake Bot API server.

    python -m bench.bench_broadcast [--fans 5000] [--senders 8]

The rate limit is lifted (BROADCAST_RATE=0); every message goes through PTB over real HTTP to
tests/fakebot on 127.0.0.1, with each delivery committed to SQLite and logged as an exchange.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakebot import TOKEN, FakeTelegram  # noqa: E402
from telegram.ext import ExtBot  # noqa: E402

from bot.broadcast.outbox import Outbox  # noqa: E402
from bot.broadcast.sender import Broadcaster, live_first_limiter  # noqa: E402
from bot.live import CatalogStore  # noqa: E402
from bot.ops.logfile import FileSink  # noqa: E402
from bot.telegram.app import DEFAULTS  # noqa: E402


async def deliver(server: FakeTelegram, folder: Path, fans: int, senders: int) -> tuple[float, int]:
    """Seconds to send one story to `fans` subscribers, and how many the server got."""
    outbox = Outbox(folder / "state.sqlite3")
    for fan in range(1, fans + 1):
        outbox.subscribe(fan, "en" if fan % 3 else "zh")
    outbox.enqueue("pearce-ducks")
    teller = CatalogStore.open(ROOT / "stories", "none").storyteller()
    sink = FileSink(folder / "exchanges.jsonl")
    bot: ExtBot[int] = ExtBot(TOKEN, base_url=server.base_url, defaults=DEFAULTS, rate_limiter=live_first_limiter(0))
    async with bot:
        sender = Broadcaster(outbox, bot, teller, salt=b"bench", rate=0, sinks=[sink], senders=senders)
        started = time.perf_counter()
        await sender.drain(until_idle=True)
        elapsed = time.perf_counter() - started
    sink.close()
    outbox.close()
    return elapsed, len(server.sent_messages())


def main() -> None:
    """Run once and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--fans", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, FakeTelegram() as server:
        elapsed, sent = asyncio.run(deliver(server, Path(folder), args.fans, args.senders))
    print(f"{sent} broadcast messages in {elapsed:.2f}s = {sent / elapsed:.0f} messages/s ({args.senders} in flight)")


if __name__ == "__main__":
    main()
