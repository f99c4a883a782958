"""A scheduled broadcast through the fake Bot API: the running bot sends an entry of broadcasts.yaml
that fell due while it was down, and a kill -9 in the middle never queues it a second time."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from fakebot import TOKEN, FakeTelegram
from tg_support import STORIES

from bot.broadcast.outbox import Outbox
from bot.broadcast.sender import in_flight

ROOT = Path(__file__).resolve().parents[2]
STORY = "pearce-ducks"


def test_a_missed_entry_is_sent_at_start_and_a_kill_never_queues_it_twice(tmp_path: Path) -> None:
    stories = tmp_path / "stories"
    shutil.copytree(STORIES, stories)
    an_hour_ago = datetime.fromtimestamp(time.time() - 3600).astimezone().isoformat(timespec="seconds")
    (stories / "broadcasts.yaml").write_text(f"broadcasts:\n  - story: {STORY}\n    at: {an_hour_ago}\n")
    fans = list(range(300_001, 300_201))
    outbox = Outbox(tmp_path / "data" / "state.sqlite3")
    for fan in fans:
        outbox.subscribe(fan, "en")
    with FakeTelegram() as server:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": server.base_url,
            "STORIES_DIR": str(stories),
            "STORYBOT_DATA_DIR": str(tmp_path / "data"),
            "STORYBOT_LOG_SALT": "test-salt",
            "MEANING_MODEL": "none",
            "BROADCAST_RATE": "100",  # two seconds for 200 fans: time to kill it half way
        }
        command = [sys.executable, "-m", "bot", "run", "--polling"]
        run = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server.wait_for(lambda: len(server.sent_messages()) >= 40, timeout=30, what="the broadcast under way")
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        polls = len(server.calls_to("getUpdates"))
        run = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            # Polling starts after post_init, where the schedule had its first look.
            server.wait_for(lambda: len(server.calls_to("getUpdates")) > polls, timeout=30, what="the restart")
            server.wait_for(lambda: {int(m["chat_id"]) for m in server.sent_messages()} >= set(fans), timeout=30)
        finally:
            run.send_signal(signal.SIGTERM)
            _, stderr = run.communicate(timeout=30)
        copies = Counter(int(m["chat_id"]) for m in server.sent_messages())
    assert run.returncode == 0, stderr
    [progress] = outbox.progress()  # one broadcast: the restart did not queue the entry again
    assert (progress.story, progress.sent, progress.left) == (STORY, len(fans), 0)
    # Only a send in flight at the kill may have gone twice (at most the sends in flight at this pace).
    assert sum(n - 1 for n in copies.values()) <= progress.doubtful <= in_flight(100), copies
    assert list(outbox.scheduled().values()) == [progress.id]
    outbox.close()
