"""`storybot run` from the outside: configuration errors, lazy imports, a graceful SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fakebot import TOKEN, FakeTelegram
from tg_support import STORIES

from bot.cli import main
from bot.config import PROJECT_ROOT
from bot.replies.storyteller import Storyteller

DUCKS = "who stopped rowing to let the ducks cross?"
_OURS = ("TELEGRAM_", "WEBHOOK_", "STORIES_DIR", "STORYBOT_", "PORT", "LOG_LEVEL", "EXCHANGE_")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any Storybot setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env.update(extra)
    return env


def storybot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_without_a_token_says_how_to_get_one(tmp_path: Path) -> None:
    done = storybot("run", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "@BotFather" in lines[0] and "storybot chat" in lines[0]
    assert "Traceback" not in done.stderr


def test_ask_never_imports_telegram(tmp_path: Path) -> None:
    code = (
        "import sys, bot.cli; code = bot.cli.main(['ask', 'ducks']); "
        "assert 'telegram' not in sys.modules, 'telegram was imported'; sys.exit(code)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=clean_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "pearce-ducks" in done.stdout


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """An environment with only a token set, and no .env file in the working folder."""
    for name in list(os.environ):
        if name.startswith(_OURS):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    return monkeypatch


@pytest.mark.parametrize("secret", ["", "has spaces", "x" * 257])
def test_webhook_mode_requires_a_valid_secret(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], secret: str
) -> None:
    env.setenv("WEBHOOK_URL", "https://bot.example.com/hook")
    env.setenv("WEBHOOK_SECRET", secret)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "WEBHOOK_SECRET" in err


def test_a_broken_catalogue_is_reported_and_nothing_starts(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "stories"
    shutil.copytree(STORIES, broken)
    story = broken / "founding.yaml"
    story.write_text(story.read_text(encoding="utf-8").replace("title:", "titel:", 1))
    assert main(["run", "--stories", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "founding.yaml" in err
    assert "Traceback" not in err


stopping: list[float] = []  # seconds from each SIGTERM to the process's exit


def sigterm_when(ready: Callable[[], object], cwd: Path, *args: str, **env: str) -> tuple[int, str]:
    """Start `python -m bot run ARGS`, send SIGTERM once `ready()` returns; (exit code, stderr)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", *args],
        cwd=cwd,
        env=clean_env(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready()
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        _, stderr = process.communicate(timeout=30)
        stopping.append(time.monotonic() - signalled)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, stderr


def test_sigterm_lets_the_reply_in_flight_arrive(server: FakeTelegram, tmp_path: Path, teller: Storyteller) -> None:
    def reply_held_back() -> None:
        server.wait_polling(timeout=30)
        server.fail_next("sendMessage", "retry_after", retry_after=1)
        server.message(42, DUCKS)
        server.wait_for_calls("sendMessage")  # refused with 429: the reply now waits to retry

    code, stderr = sigterm_when(
        reply_held_back,
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=server.base_url,
        STORYBOT_DATA_DIR=str(tmp_path / "data"),
    )
    assert code == 0, stderr
    assert server.sent_texts(42) == [teller.answer(DUCKS).text]
    assert server.pending_updates == []  # confirmed to Telegram, so not delivered twice
    assert TOKEN not in stderr


MODERATORS = -100999


def test_sigterm_stops_within_two_seconds_the_last_digest_sent(server: FakeTelegram, tmp_path: Path) -> None:
    def a_miss_answered() -> None:
        server.wait_polling(timeout=30)
        server.message(42, "where can i buy a rowing boat")  # no story: an item for the moderators' digest
        server.wait_for_calls("sendMessage")

    code, stderr = sigterm_when(
        a_miss_answered,
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=server.base_url,
        STORYBOT_DATA_DIR=str(tmp_path / "data"),
        MODERATOR_CHAT_ID=str(MODERATORS),
        DIGEST_INTERVAL="3600",  # only the final flush can send it
    )
    assert code == 0, stderr
    assert stopping[-1] < 2.0, f"stopped {stopping[-1]:.2f} s after SIGTERM"
    assert any("rowing boat" in text for text in server.sent_texts(MODERATORS)), server.sent_texts(MODERATORS)
    assert TOKEN not in stderr
