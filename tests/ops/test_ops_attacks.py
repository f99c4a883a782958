"""Issue 15's attacks on the moderators' commands: blocking an admin, durations out of range."""

from __future__ import annotations

import errno
import time
from pathlib import Path
from typing import Any

import pytest

from bot import live
from bot.config import Secret, Settings
from bot.live import CatalogStore
from bot.ops.exchange import pseudonym
from bot.ops.logread import parse_duration
from bot.ops.operations import Operations
from bot.ops.reload import Watcher, signature
from bot.ops.salt import with_salt

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


async def test_a_story_file_written_while_it_is_read_does_not_go_live_half_written(
    catalog_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = CatalogStore.open(catalog_copy, meaning_model="none")
    watcher = Watcher(store, settle=0.0)
    path = catalog_copy / "pearce-ducks.yaml"
    full = path.read_text(encoding="utf-8")
    cut = full.index("A duck and a line") + len("A duck")  # still valid YAML: the text stops mid-sentence
    path.write_text(full[:cut] + "\n" + full[full.index("  zh: |", cut) :], encoding="utf-8")
    real_build = live.build_snapshot

    def build_while_the_editor_writes(*args: Any, **kwargs: Any) -> Any:
        built = real_build(*args, **kwargs)
        path.write_text(full, encoding="utf-8")  # the editor's second write lands during the read
        return built

    monkeypatch.setattr(live, "build_snapshot", build_while_the_editor_writes)
    await watcher._poll()
    assert store.generation == 1  # the half-written file was not swapped in
    monkeypatch.setattr(live, "build_snapshot", real_build)
    await watcher._poll()
    assert store.generation == 2
    assert "A duck and a line of ducklings" in store.current().catalog.stories["pearce-ducks"].text["en"]


def test_block_on_a_full_disk_says_so(ops: Operations, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(keys: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ops.blocklist, "_save", full)
    text = ops.admin.handle(ADMIN, "/block", ["u_0123456789abcdef"]) or ""
    assert "Could not save the block list (No space left on device)" in text
    assert not ops.blocklist.is_blocked("u_0123456789abcdef")


def test_a_data_folder_that_cannot_be_written_does_not_stop_the_start(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    settings = Settings(token=Secret("1:x"), data_dir=tmp_path / "file" / "data")
    salted = with_salt(settings)
    assert len(salted.log_salt.get()) == 64


def test_twenty_thousand_templates_cost_little_while_idle(tmp_path: Path) -> None:
    root = tmp_path / "stories"
    (root / "templates").mkdir(parents=True)
    for n in range(20_000):
        (root / "templates" / f"t{n}.html.j2").touch()
    signature(root)  # the folder listing is now in the OS's cache, as it is after the first poll
    started = time.process_time()
    before = signature(root)
    assert time.process_time() - started < 0.1  # one poll a second: a tenth of a core at most
    (root / "templates" / "t19999.html.j2").unlink()
    assert signature(root) != before  # fewer files is still a change
