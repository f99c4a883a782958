"""Settings as an operator meets them: .env files, one clear line per bad value, nothing else broken."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings, SettingsError, shipped_stories

TOKEN = "123456789:AAFakeStorybotTokenForTests_0123456789"


def storybot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` with only `env` as Storybot settings."""
    ours = ("TELEGRAM_", "WEBHOOK_", "STORIES_DIR", "PORT", "LOG_LEVEL", "EXCHANGE_", "FLOOD_", "ADMIN_IDS")
    base = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**base, "PYTHONPATH": str(Path(__file__).resolve().parent.parent), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_dotenv_comments_quotes_export_and_multiline_values(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}   # from BotFather\n"
        "export LOG_LEVEL=debug\n"
        "WEBHOOK_SECRET='quoted_secret'\n"
        'STORYBOT_LOG_SALT="first line\nsecond line"\n'
        "# PORT=1\n",
        encoding="utf-8",
    )
    settings = Settings.from_env({}, dotenv=dotenv)
    assert settings.problems == ()
    assert settings.token.get() == TOKEN
    assert settings.log_level == "DEBUG"
    assert settings.webhook_secret.get() == "quoted_secret"
    assert settings.log_salt.get() == "first line\nsecond line"
    assert settings.port == 8443


def test_the_environment_wins_over_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=1000\n", encoding="utf-8")
    assert Settings.from_env({"PORT": "2000"}, dotenv=tmp_path / ".env").port == 2000


# Each variable: values it refuses, and words of what it accepts.
REFUSED = {
    "PORT": (("abc", "99999", "0"), "a whole number from 1 to 65535"),
    "FLOOD_LIMIT": (("many", "0"), "a whole number, at least 1"),
    "RELOAD_INTERVAL": (("fast", "nan", "-1"), "a number of seconds above 0"),
    "ADMIN_IDS": (("12,bob",), "Telegram user ids separated by commas"),
    "MODERATOR_CHAT_ID": (("@mods",), "a Telegram chat id"),
    "WEBHOOK_URL": (("http://bot.example.com/hook", "bot.example.com"), "https://"),
    "EXCHANGE_LOG_STDOUT": (("maybe",), "true or false"),
    "LOG_LEVEL": (("LOUD",), "DEBUG, INFO"),
    "BROADCAST_RATE": (("fast", "2000"), "messages a second from 0 to 1000"),
    "BROADCAST_IN_FLIGHT": (("many", "-1", "1001"), "a whole number from 0 to 1000"),
}


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [(name, value, accepted) for name, (values, accepted) in REFUSED.items() for value in values],
)
def test_a_bad_value_is_one_line_naming_it(name: str, value: str, accepted: str) -> None:
    settings = Settings.from_env({name: value}, dotenv=Path("/nonexistent/.env"))
    with pytest.raises(SettingsError) as caught:
        settings.require(name)
    (line,) = str(caught.value).splitlines()
    assert line.startswith(f"storybot: {name} is {value!r}; expected ")
    assert accepted in line


@pytest.mark.parametrize("name", ["TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET"])
def test_a_bad_secret_is_never_shown(name: str) -> None:
    value = "not valid: has spaces and 123:abc"
    settings = Settings.from_env({name: value}, dotenv=Path("/nonexistent/.env"))
    with pytest.raises(SettingsError) as caught:
        settings.require(name)
    assert value not in str(caught.value) and "123:abc" not in str(caught.value)
    assert f"{name} is <hidden, {len(value)} characters>" in str(caught.value)


def test_the_sample_catalogue_is_the_default() -> None:
    assert Settings.from_env({}, dotenv=Path("/nonexistent/.env")).stories_dir == shipped_stories()
    assert (shipped_stories() / "pearce-ducks.yaml").is_file()


@pytest.mark.parametrize("command", [["check"], ["ask", "ducks"], ["list"], ["chat"]])
def test_offline_commands_are_not_broken_by_bot_settings(command: list[str], tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("FLOOD_LIMIT=lots\nADMIN_IDS=me\n", encoding="utf-8")
    done = storybot(*command, cwd=tmp_path, PORT="abc", RELOAD_INTERVAL="x", MODERATOR_CHAT_ID="mods")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_run_names_every_bad_setting_at_once_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("FLOOD_LIMIT=lots\n", encoding="utf-8")
    done = storybot(
        "run", cwd=tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, PORT="99999", WEBHOOK_URL="http://x.example", ADMIN_IDS="me"
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert [line.split(" is ")[0] for line in lines] == [
        "storybot: WEBHOOK_URL",
        "storybot: PORT",
        "storybot: ADMIN_IDS",
        "storybot: FLOOD_LIMIT",
        "storybot: WEBHOOK_SECRET",
    ]
    assert "Traceback" not in done.stderr and TOKEN not in done.stderr


def test_polling_does_not_need_the_webhook_settings(tmp_path: Path) -> None:
    done = storybot("run", "--polling", cwd=tmp_path, PORT="abc", WEBHOOK_URL="http://x.example")
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()  # only the missing token
    assert line.startswith("storybot: TELEGRAM_BOT_TOKEN is not set;")


@pytest.mark.parametrize("secret", ["a", "ab_", "x-1"])
def test_a_webhook_secret_under_four_characters_is_refused(secret: str) -> None:
    settings = Settings.from_env({"WEBHOOK_SECRET": secret}, dotenv=Path("/nonexistent/.env"))
    with pytest.raises(SettingsError, match="4-256 characters"):
        settings.require("WEBHOOK_SECRET")
