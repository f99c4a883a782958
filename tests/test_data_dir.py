"""Everything the bot writes goes to one data folder; never into the package or the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest
from written import CHECKOUT_VAR, tree

import bot
from bot.config import Settings
from bot.ops.blocklist import Blocklist, blocklist_path
from bot.ops.exchange import Exchange
from bot.ops.logfile import close_sinks, open_sinks
from bot.ops.salt import load_salt, salt_file

PACKAGE = Path(bot.__file__).resolve().parent


def test_the_run_points_the_data_folder_at_a_temporary_folder(data_dir: Path) -> None:
    settings = Settings.from_env()
    assert settings.data_dir == data_dir
    assert not settings.data_dir.is_relative_to(CHECKOUT_VAR.parent)


def test_default_is_var_under_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({}, dotenv=tmp_path / ".env")
    assert settings.data_dir == tmp_path / "var"
    assert not settings.data_dir.is_relative_to(PACKAGE)


def test_every_file_the_bot_writes_is_in_the_data_folder(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PACKAGE.parent)  # even when started from the checkout
    before = tree(CHECKOUT_VAR), tree(PACKAGE)
    settings = Settings.from_env({"STORYBOT_DATA_DIR": str(data_dir / "every")})
    sinks = open_sinks(settings)
    for sink in sinks:
        sink.record(Exchange(1, "private", "c_0123456789abcdef", "u_0123456789abcdef", "en", "ducks", "story"))
    close_sinks(sinks)
    load_salt(settings)
    Blocklist(blocklist_path(settings)).block("u_0123456789abcdef")
    written = {path.name for path in (data_dir / "every").iterdir()}
    assert written == {"exchanges.jsonl", "log_salt", "blocklist.json"}
    assert {settings.exchange_log, salt_file(settings), blocklist_path(settings), settings.state_db} <= {
        data_dir / "every" / name for name in (*written, "state.sqlite3")
    }
    assert (tree(CHECKOUT_VAR), tree(PACKAGE)) == before
