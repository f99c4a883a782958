"""Resident memory of the running bot (`storybot run`) with 1,000 stories, after real traffic.

Run: python -m bench.bench_memory   (the fake Bot API server from tests/ stands in for Telegram)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.bench_core import write_catalogue
from bench.common import ROOT

sys.path.insert(0, str(ROOT / "tests"))  # the fake Bot API server is test support, not product
from fakebot import TOKEN, FakeTelegram

MESSAGES = 300


def rss_mb(pid: int) -> float:
    """VmRSS of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def measure(stories: Path, tmp: Path) -> float:
    """Start the bot on `stories`, send it MESSAGES questions, return its RSS in MB."""
    with FakeTelegram() as server, (tmp / "bot.log").open("w") as log:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": server.base_url,
            "STORIES_DIR": str(stories),
            "STORYBOT_DATA_DIR": str(tmp),
            "STORYBOT_LOG_SALT": "bench",
            "LOG_LEVEL": "WARNING",
        }
        bot = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, stdout=log, stderr=log)
        try:
            server.wait_polling(timeout=60)
            for n in range(MESSAGES):
                server.message(1000 + n % 50, ["ducks", "who founded alibaba", "kenya hockey"][n % 3])
            server.wait_for(lambda: len(server.sent_messages()) >= MESSAGES, timeout=120)
            return rss_mb(bot.pid)
        finally:
            bot.terminate()
            bot.wait(timeout=30)


def main() -> None:
    """Print the table for BENCHMARKS.md."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        small = measure(write_catalogue(base / "eight", 8), base)
        big = measure(write_catalogue(base / "thousand", 1000), base)
    print("| running bot, after 300 questions | RSS | ratio to 8 stories |")
    print("|---|---|---|")
    print(f"| 8 stories | {small:.0f} MB | 1.00× |")
    print(f"| 1,000 stories | {big:.0f} MB | {big / small:.2f}× |")


if __name__ == "__main__":
    main()
