"""Shared fixtures: a temporary data folder for the whole run, the shipped catalogue, copies of it to
break, generated catalogues, the fake server."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from fakebot import FakeTelegram
from talk import Fan
from written import CHECKOUT_VAR, tree

from bot.live import Snapshot, build_snapshot
from bot.replies.storyteller import Storyteller

ROOT = Path(__file__).resolve().parent.parent
STORIES = ROOT / "stories"
BROKEN_BASE = Path(__file__).resolve().parent / "fixtures" / "broken" / "base"


@pytest.fixture(scope="session", autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """STORYBOT_DATA_DIR for the whole run (child processes too): everything the bot writes goes to
    a temporary folder, and the run fails if the checkout's var/ changed."""
    before = tree(CHECKOUT_VAR)
    folder = tmp_path_factory.mktemp("storybot-data")
    patch = pytest.MonkeyPatch()
    patch.setenv("STORYBOT_DATA_DIR", str(folder))
    yield folder
    patch.undo()
    assert tree(CHECKOUT_VAR) == before, f"the test run wrote into {CHECKOUT_VAR}"


@pytest.fixture(scope="session")
def shipped_snapshot() -> Snapshot:
    """The shipped catalogue, checked and ready to answer (built once per run)."""
    snapshot, problems = build_snapshot(STORIES)
    assert snapshot is not None, [p.format(ROOT) for p in problems if not p.warning]
    return snapshot


@pytest.fixture(scope="session")
def storyteller(shipped_snapshot: Snapshot) -> Storyteller:
    """A storyteller over the shipped catalogue."""
    return Storyteller(shipped_snapshot)


@pytest.fixture
def server() -> Iterator[FakeTelegram]:
    """The fake Bot API server (tests/fakebot), checked for its own crashes afterwards."""
    with FakeTelegram() as fake:
        yield fake
        assert not fake.errors, fake.errors


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A private copy of stories/ to edit; returns the copy's folder (named `stories`)."""
    target = tmp_path / "stories"
    shutil.copytree(STORIES, target)
    return target


@pytest.fixture
def base_copy(tmp_path: Path) -> Path:
    """A copy of the tiny test catalogue (alpha, beta, gamma) with the shipped templates."""
    return copy_base(tmp_path)


def copy_base(tmp_path: Path) -> Path:
    """Copy tests/fixtures/broken/base and the shipped templates into `tmp_path/stories`."""
    target = tmp_path / "stories"
    shutil.copytree(BROKEN_BASE, target)
    shutil.copytree(STORIES / "templates", target / "templates")
    return target


def story_yaml(story_id: str, **overrides: Any) -> str:
    """A valid story file for `story_id` (fields can be overridden), as YAML text."""
    number = story_id.rsplit("-", 1)[-1]
    data: dict[str, Any] = {
        "id": story_id,
        "title": {"en": f"Generated story {number}", "zh": f"生成的故事{number}"},
        "questions": {
            "en": [f"what happened in generated story number {number}"],
            "zh": [f"第{number}号生成故事讲了什么"],
        },
        "keywords": {"en": [f"keyword{number}"], "zh": [f"关键词{number}"]},
        "text": {
            "en": f"<b>Story {number}.</b> Something small and kind happened.",
            "zh": f"<b>故事{number}。</b>发生了一件小而善良的事。",
        },
        "related": [],
        "sources": [{"title": f"Source {number}", "url": f"https://example.com/{number}"}],
    }
    data.update(overrides)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.fixture
def generated_catalog(tmp_path: Path) -> Callable[..., Path]:
    """Build a catalogue of generated stories: `count` numbered ones plus `ids`, with the
    shipped templates, UI strings and small talk; `overrides` replace fields of every story."""

    def build(count: int = 0, ids: Sequence[str] = (), **overrides: Any) -> Path:
        root = tmp_path / "generated"
        root.mkdir()
        shutil.copytree(STORIES / "templates", root / "templates")
        for name in ("ui.yaml", "smalltalk.yaml", "offtopic.yaml"):
            shutil.copy(STORIES / name, root / name)
        for story_id in [f"story-{index:02d}" for index in range(1, count + 1)] + list(ids):
            (root / f"{story_id}.yaml").write_text(story_yaml(story_id, **overrides), encoding="utf-8")
        return root

    return build


@pytest.fixture
def teller_for() -> Callable[[Path], Storyteller]:
    """A storyteller over any catalogue folder that must check clean."""

    def build(root: Path) -> Storyteller:
        snapshot, problems = build_snapshot(root)
        assert snapshot is not None, [p.format(root) for p in problems if not p.warning]
        return Storyteller(snapshot)

    return build


def visible(html_text: str) -> str:
    """What a fan sees of Telegram HTML, without any whitespace (cuts may move it)."""
    return re.sub(r"\s+", "", html.unescape(re.sub(r"<[^<>]*>", "", html_text)))


@pytest.fixture(scope="session")
def visible_text() -> Callable[[str], str]:
    """`visible` as a fixture, for test modules (conftest is not importable by name)."""
    return visible


@pytest.fixture
def fan(storyteller: Storyteller) -> Fan:
    """A new fan in a new conversation with the shipped catalogue."""
    return Fan(storyteller)
