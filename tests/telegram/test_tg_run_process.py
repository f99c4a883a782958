"""`storybot run` as a real process against the fake Bot API: operations wired in, clean SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from fakebot import TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


def test_storybot_run_answers_logs_and_stops_on_sigterm(tmp_path: Path) -> None:
    stories = tmp_path / "stories"
    shutil.copytree(ROOT / "stories", stories)
    log = tmp_path / "exchanges.jsonl"
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "STORIES_DIR": str(stories),
        "STATE_DB": str(tmp_path / "state.sqlite3"),
        "EXCHANGE_LOG": str(log),
        "STORYBOT_LOG_SALT": "test-salt",
        "LOG_LEVEL": "DEBUG",
    }
    with FakeTelegram() as server:
        env["TELEGRAM_BASE_URL"] = server.base_url
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            server.wait_polling(timeout=30)
            server.message(4242, "who let the ducks cross", user_id=4242, first_name="Ada")
            server.wait_for(lambda: server.sent_messages(4242), timeout=15)
            assert "Bobby Pearce" in server.sent_messages(4242)[0]["text"]

        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    first = records[0]
    assert first["story"] == "pearce-ducks" and first["outcome"] == "story"
    assert first["user_key"].startswith("u_") and "4242" not in json.dumps(first) and "Ada" not in json.dumps(first)
