"""The operations services wired from the settings: log, digest, watcher, block list, admin."""

from __future__ import annotations

from pathlib import Path

from ops_support import ex

from bot.config import Settings
from bot.live import CatalogStore
from bot.ops.digest import Digest
from bot.ops.logfile import FileSink
from bot.ops.logread import read_records
from bot.ops.operations import Operations


def settings_for(tmp_path: Path, stories: Path, **changes: object) -> Settings:
    """Settings with everything under tmp_path."""
    return Settings(
        stories_dir=stories,
        data_dir=tmp_path / "var",
        **changes,  # type: ignore[arg-type]
    )


def test_without_a_moderators_chat_there_is_no_digest(tmp_path: Path, catalog_copy: Path) -> None:
    ops = Operations.open(settings_for(tmp_path, catalog_copy), CatalogStore.open(catalog_copy))
    assert ops.digest is None
    assert [type(s) for s in ops.sinks] == [FileSink]
    assert ops.admin.admin_ids == frozenset()
    assert ops.blocklist.path == tmp_path / "var" / "blocklist.json"


async def test_misses_and_rejected_edits_reach_the_moderators(tmp_path: Path, catalog_copy: Path) -> None:
    settings = settings_for(
        tmp_path, catalog_copy, moderator_chat_id=-100123, admin_ids=frozenset({7}), digest_interval=3600
    )
    store = CatalogStore.open(catalog_copy)
    ops = Operations.open(settings, store)
    assert isinstance(ops.digest, Digest) and ops.digest in ops.sinks
    sent: list[str] = []

    async def send(text: str) -> None:
        sent.append(text)

    ops.start(send)
    for sink in ops.sinks:
        sink.record(ex(1, "how do I get a refund", "fallback"))
    (catalog_copy / "pearce-ducks.yaml").write_text("id: [broken\n", encoding="utf-8")
    assert ops.watcher.check_once() is not None
    assert ops.admin.handle(7, "stats") is not None
    await ops.stop()

    (digest,) = sent
    assert "<b>1 miss</b>" in digest and "how do I get a refund" in digest
    assert "A catalogue edit was rejected" in digest and "stories/pearce-ducks.yaml:1" in digest
    assert [r.question for r in read_records(settings.exchange_log)] == ["how do I get a refund"]
