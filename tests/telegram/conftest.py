"""Fixtures for the Telegram front end: settings, catalogues, the fake server, running bots."""

from __future__ import annotations

import logging
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: the fakebot package

from fakebot import TOKEN, FakeTelegram
from tg_support import LONG_STORY, STORIES, MakeBot, MakeOffline, Offline, OfflineRequest, RecordingSink

from bot.config import Secret, Settings
from bot.live import CatalogStore
from bot.replies.storyteller import Storyteller
from bot.telegram.app import build_application
from bot.telegram.context import App


@pytest.fixture(scope="session")
def shipped_store() -> CatalogStore:
    """The shipped catalogue."""
    return CatalogStore.open(STORIES)


@pytest.fixture(scope="session")
def long_store(tmp_path_factory: pytest.TempPathFactory) -> CatalogStore:
    """A copy of the catalogue where one story is long enough to need several messages."""
    root = tmp_path_factory.mktemp("catalogue") / "stories"
    shutil.copytree(STORIES, root)
    path = root / f"{LONG_STORY}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for lang in ("en", "zh"):
        paragraphs = data["text"][lang].strip().split("\n\n")
        data["text"][lang] = "\n\n".join(paragraphs * 12) + "\n"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return CatalogStore.open(root)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Test settings: the fake's token, everything written in a temp folder, a known salt."""
    return Settings(
        token=Secret(TOKEN),
        stories_dir=STORIES,
        data_dir=tmp_path / "state",
        log_salt=Secret("test-salt"),
        flood_limit=50,
        flood_window=10.0,
    )


@pytest.fixture
def online(settings: Settings, server: FakeTelegram) -> Settings:
    """Settings that point the bot at the fake server."""
    return replace(settings, base_url=server.base_url)


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Restore the root logger's handlers, filters and level after configure_logging."""
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    saved_filters = {h: list(h.filters) for h in saved_handlers}
    yield
    for handler in list(root.handlers):
        if handler not in saved_handlers:
            root.removeHandler(handler)
    for handler, filters in saved_filters.items():
        handler.filters[:] = filters
    root.setLevel(saved_level)


@pytest.fixture
def sink() -> RecordingSink:
    """Where the bot's exchanges go in tests."""
    return RecordingSink()


@pytest.fixture
async def make_offline(
    settings: Settings, shipped_store: CatalogStore, sink: RecordingSink
) -> AsyncIterator[MakeOffline]:
    """Build initialised bots on offline requests (settings and build options overridable)."""
    apps: list[App] = []

    async def make(custom: Settings | None = None, store: CatalogStore | None = None, **options: Any) -> Offline:
        request = OfflineRequest()
        app = build_application(custom or settings, store or shipped_store, sinks=[sink], request=request, **options)
        await app.initialize()
        apps.append(app)
        return Offline(app, request, sink)

    yield make
    for app in apps:
        await app.shutdown()


@pytest.fixture
async def offline(make_offline: MakeOffline) -> Offline:
    """An initialised bot on an offline request."""
    return await make_offline()


@pytest.fixture
def make_bot(online: Settings, shipped_store: CatalogStore, sink: RecordingSink) -> MakeBot:
    """Build bots that talk to the fake server (settings, catalogue and options overridable)."""

    def make(custom: Settings | None = None, store: CatalogStore | None = None, **options: Any) -> App:
        return build_application(custom or online, store or shipped_store, sinks=[sink], **options)

    return make


@pytest.fixture
def teller(shipped_store: CatalogStore) -> Storyteller:
    """The shipped catalogue's storyteller, to compute what fans should see."""
    return shipped_store.storyteller()
