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


def test_storybot_run_answers_logs_reloads_reports_and_stops_on_sigterm(tmp_path: Path) -> None:
    stories = tmp_path / "stories"
    shutil.copytree(ROOT / "stories", stories)
    log = tmp_path / "data" / "exchanges.jsonl"
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "STORIES_DIR": str(stories),
        "STORYBOT_DATA_DIR": str(tmp_path / "data"),
        "STORYBOT_LOG_SALT": "test-salt",
        "RELOAD_INTERVAL": "0.2",
        "MODERATOR_CHAT_ID": str(MODERATORS),
        "DIGEST_INTERVAL": "0.3",
        "LOG_LEVEL": "DEBUG",
    }
    with FakeTelegram() as server:
        env["TELEGRAM_BASE_URL"] = server.base_url
        output_file = (tmp_path / "bot-output.txt").open("w", encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            cwd=tmp_path,
            stdout=output_file,  # a file, not a pipe: DEBUG logging would fill a pipe and block the bot
            stderr=subprocess.STDOUT,
        )
        try:
            server.wait_polling(timeout=30)
            server.message(4242, "who let the ducks cross", user_id=4242, first_name="Ada")
            server.wait_for(lambda: server.sent_messages(4242), timeout=15)
            assert "Bobby Pearce" in server.sent_messages(4242)[0]["text"]

            # A broken edit is rejected whole; the moderators hear where and why.
            ducks = stories / "pearce-ducks.yaml"
            good = ducks.read_text(encoding="utf-8")
            ducks.write_text(good.replace("title:\n  en: ", "title:\n  en: Broken: ", 1), encoding="utf-8")
            server.wait_for(lambda: any("pearce-ducks.yaml:3" in m["text"] for m in server.sent_messages(MODERATORS)))
            server.message(4343, "ducks", user_id=4343)
            server.wait_for(lambda: server.sent_messages(4343))
            assert server.sent_messages(4343)[0]["text"].startswith("<b>The rower who stopped")

            # A valid edit goes live without a restart.
            ducks.write_text(good.replace("title:\n  en: ", "title:\n  en: Freshly edited - ", 1), encoding="utf-8")
            server.wait_for(lambda: _ask_and_see(server, "Freshly edited - "), timeout=20)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            output_file.close()
    output = (tmp_path / "bot-output.txt").read_text(encoding="utf-8")
    assert process.returncode == 0, output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    first = records[0]
    assert first["story"] == "pearce-ducks" and first["outcome"] == "story"
    assert first["user_key"].startswith("u_") and "4242" not in json.dumps(first) and "Ada" not in json.dumps(first)


MODERATORS = -100777
_asked: list[int] = []


def _ask_and_see(server: FakeTelegram, marker: str) -> bool:
    """Ask again whenever the last question was answered, and look for the edited title."""
    if not _asked or server.sent_messages(_asked[-1]):
        _asked.append(6000 + len(_asked))
        server.message(_asked[-1], "ducks", user_id=_asked[-1])
    return any(marker in m["text"] for m in server.sent_messages())
