"""Broadcast throughput: one process drains the outbox to an unthrottled fake Bot API server.

    python -m bench.bench_broadcast [--fans 3000] [--runs 3] [--senders 4] [--same-process]

The rate limit is lifted (BROADCAST_RATE=0); every message goes through PTB over real HTTP to
tests/fakebot on 127.0.0.1, with each delivery committed to SQLite and logged as an exchange, as the
running bot does. The fake server runs in a process of its own (a real Bot API server is not in the
sender's process either); `--same-process` puts it in the sender's, sharing its CPU and GIL.

Each run alternates the bot's transport (bot/telegram/http.py, aiohttp) with PTB's own HTTPXRequest
as the baseline, in the same process; the figures are medians over the runs and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakebot import TOKEN, FakeTelegram  # noqa: E402
from telegram.ext import ExtBot  # noqa: E402
from telegram.request import BaseRequest, HTTPXRequest  # noqa: E402

from bot.broadcast.outbox import Outbox  # noqa: E402
from bot.broadcast.sender import SENDERS, Broadcaster, live_first_limiter  # noqa: E402
from bot.live import CatalogStore  # noqa: E402
from bot.ops.logfile import FileSink  # noqa: E402
from bot.telegram.app import DEFAULTS  # noqa: E402
from bot.telegram.http import AiohttpRequest  # noqa: E402

TRANSPORTS: dict[str, Callable[[], BaseRequest]] = {
    "PTB HTTPXRequest (baseline)": HTTPXRequest,
    "AiohttpRequest (the bot's)": AiohttpRequest,
}


async def deliver(base_url: str, folder: Path, fans: int, senders: int, request: BaseRequest) -> float:
    """Seconds to send one story to `fans` subscribers."""
    outbox = Outbox(folder / "state.sqlite3")
    for fan in range(1, fans + 1):
        outbox.subscribe(fan, "en" if fan % 3 else "zh")
    outbox.enqueue("pearce-ducks")
    teller = CatalogStore.open(ROOT / "stories", "none").storyteller()
    sink = FileSink(folder / "exchanges.jsonl")
    bot: ExtBot[None] = ExtBot(
        TOKEN, base_url=base_url, defaults=DEFAULTS, request=request, rate_limiter=live_first_limiter(0)
    )
    async with bot:
        sender = Broadcaster(outbox, bot, teller, salt=b"bench", rate=0, sinks=[sink], senders=senders)
        started = time.perf_counter()
        await sender.drain(until_idle=True)
        elapsed = time.perf_counter() - started
    sink.close()
    left = outbox.has_pending()
    outbox.close()
    assert not left, "the broadcast did not finish"
    return elapsed


class Server:
    """The fake Bot API, in this process or in its own; counts the messages it took."""

    def __init__(self, own_process: bool) -> None:
        self.own_process = own_process
        self.base_url = ""
        self._local: FakeTelegram | None = None
        self._pipe: Connection | None = None

    @contextmanager
    def running(self) -> Iterator[Server]:
        """Start it, yield, stop it."""
        if not self.own_process:
            with FakeTelegram() as fake:
                self._local, self.base_url = fake, fake.base_url
                yield self
            return
        mine, theirs = multiprocessing.Pipe()
        process = multiprocessing.Process(target=_serve, args=(theirs,), daemon=True)
        process.start()
        self._pipe, self.base_url = mine, mine.recv()
        try:
            yield self
        finally:
            mine.send("stop")
            process.join(10)

    def messages(self) -> int:
        """How many messages it has taken so far."""
        if self._local is not None:
            return len(self._local.sent_messages())
        assert self._pipe is not None
        self._pipe.send("count")
        return int(self._pipe.recv())


def _serve(pipe: Connection) -> None:
    with FakeTelegram() as fake:
        pipe.send(fake.base_url)
        while pipe.recv() == "count":
            pipe.send(len(fake.sent_messages()))


def main() -> None:
    """Run the transports in turn and print the medians and the ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--fans", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--senders", type=int, default=SENDERS)
    parser.add_argument("--same-process", action="store_true", help="the fake server in this process")
    args = parser.parse_args()
    rates: dict[str, list[float]] = {name: [] for name in TRANSPORTS}
    with Server(not args.same_process).running() as server:
        for _ in range(args.runs):
            for name, transport in TRANSPORTS.items():
                before = server.messages()
                with tempfile.TemporaryDirectory() as folder:
                    elapsed = asyncio.run(deliver(server.base_url, Path(folder), args.fans, args.senders, transport()))
                sent = server.messages() - before
                assert sent >= args.fans, f"{name}: the server took {sent} of {args.fans}"
                rates[name].append(sent / elapsed)
    where = "in the sender's process" if args.same_process else "in its own process"
    print(f"{args.fans} subscribers, {args.senders} sends in flight, fake server {where}, {args.runs} runs")
    print("| transport | median messages/s | runs |")
    print("|---|---|---|")
    for name, values in rates.items():
        runs = ", ".join(f"{v:,.0f}" for v in values)
        print(f"| {name} | {statistics.median(values):,.0f} | {runs} |")
    baseline, ours = (statistics.median(v) for v in rates.values())
    print(f"ratio: {ours / baseline:.2f}x the baseline")


if __name__ == "__main__":
    main()
