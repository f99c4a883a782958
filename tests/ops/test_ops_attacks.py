"""Issue 15's attacks on the moderators' commands: blocking an admin, durations out of range."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Secret, Settings
from bot.live import CatalogStore
from bot.ops.exchange import pseudonym
from bot.ops.logread import parse_duration
from bot.ops.operations import Operations

ADMIN, OTHER_ADMIN = 111, 112


@pytest.fixture
def ops(tmp_path: Path, catalog_copy: Path) -> Operations:
    settings = Settings(
        token=Secret("1:x"),
        stories_dir=catalog_copy,
        data_dir=tmp_path / "var",
        log_salt=Secret("salt"),
        admin_ids=frozenset({ADMIN, OTHER_ADMIN}),
    )
    return Operations.open(settings, CatalogStore.open(catalog_copy, meaning_model="none"))


@pytest.mark.parametrize("target", [ADMIN, OTHER_ADMIN])
def test_an_admin_cannot_be_blocked(ops: Operations, target: int) -> None:
    key = pseudonym(b"salt", "user", target)
    text = ops.admin.handle(ADMIN, "/block", [key]) or ""
    assert "admins cannot be blocked" in text
    assert not ops.blocklist.is_blocked(key)


@pytest.mark.parametrize("duration", ["1" + "0" * 400 + "w", "99999999999999999999d", "nan", "100000w"])
def test_a_huge_duration_is_refused_with_the_usage(ops: Operations, duration: str) -> None:
    text = ops.admin.handle(ADMIN, "/stats", [duration]) or ""
    assert "Usage: <code>/stats [DURATION]</code>" in text
    with pytest.raises(ValueError):
        parse_duration(duration)


def test_ten_years_is_the_longest_duration() -> None:
    assert parse_duration("520w") == 520 * 604800.0
