"""Every way `storybot run` can end without a network, and the token in none of their output."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from fakebot import TOKEN, FakeTelegram
from tg_support import STORIES, free_port

from bot.config import PROJECT_ROOT

REJECTED_TOKEN = "987654321:" + "B" * 35  # the right shape, unknown to the fake: getMe answers 401
SECRETS = (TOKEN, TOKEN.split(":")[1], REJECTED_TOKEN.split(":")[1], "hook_secret_42")
_OURS = ("TELEGRAM_", "WEBHOOK_", "STORIES_DIR", "STORYBOT_", "PORT", "LOG_LEVEL", "EXCHANGE_")


def start(tmp_path: Path, name: str, *args: str, **settings: str) -> tuple[subprocess.Popen[str], Path]:
    """`storybot run ARGS` in its own folder with only `settings`; output to a file (never a full pipe)."""
    folder = tmp_path / name
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    env.update(PYTHONPATH=str(PROJECT_ROOT), LOG_LEVEL="DEBUG", **settings)
    output = folder / "output.txt"
    with output.open("w", encoding="utf-8") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", *args],
            cwd=folder,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            text=True,
        )
    return process, output


def finish(process: subprocess.Popen[str], output: Path, timeout: float = 90) -> tuple[int, str]:
    """Wait for the exit; the code and everything printed."""
    try:
        code = process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return code, output.read_text(encoding="utf-8")


def listening(port: int) -> bool:
    """Whether the bot's webhook server accepts connections (it is serving, past its set-up)."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def stopped_by(
    signum: int, ready: Callable[[], object], process: subprocess.Popen[str], output: Path
) -> tuple[int, str]:
    """Wait until `ready`, send the signal, and finish."""
    try:
        ready()
    finally:
        process.send_signal(signum)
    return finish(process, output, timeout=30)


def test_every_exit_of_run_keeps_the_token_out_of_the_output(tmp_path: Path) -> None:
    broken = tmp_path / "broken-stories"
    shutil.copytree(STORIES, broken)
    (broken / "founding.yaml").write_text("id: [\n", encoding="utf-8")
    hook = {"WEBHOOK_URL": "https://bot.example.com/hook", "WEBHOOK_SECRET": "hook_secret_42"}
    results: dict[str, tuple[int, str]] = {}
    with FakeTelegram() as server:
        api = {"TELEGRAM_BASE_URL": server.base_url}
        # The slowest first: an unreachable Bot API is retried a few times before giving up.
        unreachable = start(
            tmp_path, "unreachable", TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=f"http://127.0.0.1:{free_port()}/bot"
        )
        refusals = {
            "no token": start(tmp_path, "no-token", **api),
            "malformed token": start(tmp_path, "malformed", TELEGRAM_BOT_TOKEN="abc", **api),
            "token with a comment": start(tmp_path, "comment", TELEGRAM_BOT_TOKEN=TOKEN + " # BotFather", **api),
            "bad settings": start(tmp_path, "bad", TELEGRAM_BOT_TOKEN=TOKEN, PORT="99999", FLOOD_LIMIT="x", **hook),
            "http webhook": start(tmp_path, "http", TELEGRAM_BOT_TOKEN=TOKEN, WEBHOOK_URL="http://bot.example.com/h"),
            "webhook without secret": start(tmp_path, "nosecret", "--webhook", TELEGRAM_BOT_TOKEN=TOKEN, **api),
            "broken catalogue": start(tmp_path, "broken", TELEGRAM_BOT_TOKEN=TOKEN, STORIES_DIR=str(broken), **api),
            "rejected token": start(tmp_path, "rejected", TELEGRAM_BOT_TOKEN=REJECTED_TOKEN, **api),
        }
        for name, (process, output) in refusals.items():
            results[name] = finish(process, output)
        assert not [c for c in server.calls if c.token != REJECTED_TOKEN]  # refused before anything was sent

        polling = start(tmp_path, "polling", "--polling", TELEGRAM_BOT_TOKEN=TOKEN, **api, **hook)
        results["polling, SIGTERM"] = stopped_by(signal.SIGTERM, lambda: server.wait_polling(timeout=30), *polling)
        polling = start(tmp_path, "polling-int", TELEGRAM_BOT_TOKEN=TOKEN, **api)
        results["polling, SIGINT"] = stopped_by(signal.SIGINT, lambda: server.wait_polling(timeout=30), *polling)
        port = free_port()
        webhook = start(tmp_path, "webhook", "--webhook", TELEGRAM_BOT_TOKEN=TOKEN, PORT=str(port), **api, **hook)
        results["webhook, SIGTERM"] = stopped_by(
            signal.SIGTERM, lambda: server.wait_for(lambda: listening(port)), *webhook
        )
    results["unreachable Bot API"] = finish(*unreachable)

    codes = {name: code for name, (code, _) in results.items()}
    assert codes == {
        "no token": 2,
        "malformed token": 2,
        "token with a comment": 2,
        "bad settings": 2,
        "http webhook": 2,
        "webhook without secret": 2,
        "broken catalogue": 2,
        "rejected token": 2,
        "polling, SIGTERM": 0,
        "polling, SIGINT": 0,
        "webhook, SIGTERM": 0,
        "unreachable Bot API": 1,
    }, {name: text[-2000:] for name, (_, text) in results.items()}
    for name, (_, text) in results.items():
        assert not [secret for secret in SECRETS if secret in text], f"{name}:\n{text}"
    for name in ("no token", "malformed token", "token with a comment", "bad settings", "http webhook"):
        assert "Traceback" not in results[name][1], results[name][1]
        assert all(line.startswith("storybot: ") for line in results[name][1].splitlines()), results[name][1]
    assert (
        results["rejected token"][1]
        .rstrip()
        .endswith("storybot run: Telegram rejected the token; check TELEGRAM_BOT_TOKEN (from @BotFather).")
    )
    first_line = results["polling, SIGTERM"][1].splitlines()[0]
    assert first_line.startswith("storybot run: long polling · catalogue ")
    assert "stories) · data " in first_line and first_line.endswith(" · bot 123456789:***")
    assert results["webhook, SIGTERM"][1].startswith("storybot run: webhook https://bot.example.com/hook on port ")
