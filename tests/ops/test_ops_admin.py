"""Admin commands and the block list: for admins they work, for anyone else they do not exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ops_support import T0, fan, write_log

from bot.live import CatalogStore
from bot.ops.admin import COMMANDS, AdminCommands
from bot.ops.blocklist import Blocklist
from bot.ops.exchange import Exchange
from bot.ops.reload import Watcher
from bot.replies.html import MESSAGE_LIMIT, html_problems

ADMIN = 111
FAN = 222


@pytest.fixture
def store(catalog_copy: Path) -> CatalogStore:
    """A live store over a private copy of the shipped catalogue."""
    return CatalogStore.open(catalog_copy)


@pytest.fixture
def admin(tmp_path: Path, store: CatalogStore, records: list[Exchange]) -> AdminCommands:
    """Admin commands over the fixture log, as if it were 14:00 on the fixture's day."""
    log = write_log(tmp_path / "var" / "exchanges.jsonl", records)
    return AdminCommands(
        [ADMIN],
        store=store,
        blocklist=Blocklist(tmp_path / "var" / "blocklist.json"),
        log_path=log,
        watcher=Watcher(store),
        clock=lambda: T0 + 5 * 3600,
    )


@pytest.mark.parametrize("command", [*COMMANDS, "/stats", "/STATS@storybot", "/block"])
@pytest.mark.parametrize("user", [FAN, None])
def test_for_anyone_else_the_commands_do_not_exist(
    admin: AdminCommands, store: CatalogStore, command: str, user: int | None
) -> None:
    assert admin.handle(user, command, [fan(1)]) is None
    assert admin.blocklist.keys() == frozenset()
    assert store.generation == 1


def test_other_commands_are_not_ours(admin: AdminCommands) -> None:
    assert admin.handle(ADMIN, "/start") is None
    assert admin.handle(ADMIN, "help") is None


def test_stats(admin: AdminCommands) -> None:
    text = admin.handle(ADMIN, "/stats")
    assert text is not None and len(text) <= MESSAGE_LIMIT and html_problems(text) == []
    assert text.startswith("<b>Last 1d</b>")
    assert "Exchanges: 42 · fans: 16" in text
    assert "• answered: 13 (39.4%)" in text
    assert "<code>olympics-ad</code> 3 (2 fans)" in text
    assert "Exchanges: 0" in (admin.handle(ADMIN, "/stats@storybot", ["30m"]) or "")


def test_misses(admin: AdminCommands) -> None:
    text = admin.handle(ADMIN, "misses")
    assert text is not None and html_problems(text) == []
    assert "<b>Misses, last 1d</b>: 17 in 6 groups" in text
    assert "1. <b>5×</b> <i>how do I get a refund</i>" in text
    assert "1. <b>5×</b> <i>how do I get a refund</i>" in text.split("→ off-topic: offtopic.yaml")[0]
    assert "&lt;script&gt;" in text and "<script" not in text


def test_a_bad_duration_gets_the_usage(admin: AdminCommands) -> None:
    assert "Usage: <code>/stats [DURATION]</code>" in (admin.handle(ADMIN, "stats", ["soon"]) or "")


def test_reload(admin: AdminCommands, store: CatalogStore) -> None:
    assert admin.handle(ADMIN, "/reload") == "✅ Catalogue reloaded (generation 2)."
    path = store.root / "pearce-ducks.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n  - [broken\n", encoding="utf-8")
    text = admin.handle(ADMIN, "/reload") or ""
    assert text.startswith("❌ The catalogue was not reloaded: the bot still serves generation 2.")
    assert re.search(r"<code>stories/pearce-ducks\.yaml:\d+: error: ", text)
    assert store.generation == 2


def test_block_and_unblock(admin: AdminCommands, tmp_path: Path) -> None:
    key = fan(7)
    assert admin.handle(ADMIN, "/block", [key]) == (
        f"Blocked <code>{key}</code>: the bot no longer replies to this fan."
    )
    assert admin.blocklist.is_blocked(key) and admin.blocklist(key)
    assert admin.handle(ADMIN, "/block", [key]) == f"<code>{key}</code> was already blocked."
    stored = json.loads((tmp_path / "var" / "blocklist.json").read_text(encoding="utf-8"))
    assert stored == {"blocked": [key]}
    assert Blocklist(tmp_path / "var" / "blocklist.json").is_blocked(key)  # survives a restart
    assert admin.handle(ADMIN, "/unblock", [key]) == f"Unblocked <code>{key}</code>."
    assert admin.handle(ADMIN, "/unblock", [key]) == f"<code>{key}</code> was not blocked."
    assert not Blocklist(tmp_path / "var" / "blocklist.json").is_blocked(key)


@pytest.mark.parametrize("args", [[], ["u_1", "u_2"], ["12345"], ["<b>x</b>"], ["c_0123456789abcdef"]])
def test_block_needs_one_fan_key(admin: AdminCommands, args: list[str]) -> None:
    text = admin.handle(ADMIN, "/block", args) or ""
    assert "Usage: <code>/block u_0123456789abcdef</code>" in text
    assert "<b>x" not in text
    assert admin.blocklist.keys() == frozenset()


def test_a_damaged_block_list_starts_empty(tmp_path: Path) -> None:
    path = tmp_path / "blocklist.json"
    path.write_text("{not json", encoding="utf-8")
    assert Blocklist(path).keys() == frozenset()
    path.write_text(json.dumps({"blocked": [fan(1), "junk", 3]}), encoding="utf-8")
    assert Blocklist(path).keys() == {fan(1)}
