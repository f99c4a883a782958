"""Hot reload: a good edit goes live, a broken one is rejected whole and reported."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from bot.catalog.problems import Problem
from bot.live import CatalogStore
from bot.ops.reload import Watcher, signature

QUESTION = "the geese story"


def add_phrasing(root: Path) -> None:
    """A marketer adds a phrasing fans use to the ducks story."""
    path = root / "pearce-ducks.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  en:\n", f"  en:\n    - {QUESTION}\n", 1), encoding="utf-8")


def break_yaml(root: Path) -> int:
    """A YAML syntax error in the ducks story; returns its line."""
    path = root / "pearce-ducks.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    where = next(i for i, line in enumerate(lines) if line == "  en:\n")
    lines.insert(where + 1, f"    - [{QUESTION}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return where + 2


def break_template(root: Path) -> None:
    """A template that does not compile."""
    path = root / "templates" / "story.en.html.j2"
    path.write_text(path.read_text(encoding="utf-8") + "\n{% if %}\n", encoding="utf-8")


class Reports:
    """Collects what the watcher reports."""

    def __init__(self) -> None:
        self.problems: list[list[Problem]] = []
        self.generations: list[int] = []


@pytest.fixture
def store(catalog_copy: Path) -> CatalogStore:
    """A live store over a private copy of the shipped catalogue."""
    return CatalogStore.open(catalog_copy, meaning_model="none")  # words only: the test is about reloading


@pytest.fixture
def reports() -> Reports:
    """A fresh collector."""
    return Reports()


@pytest.fixture
def watcher(store: CatalogStore, reports: Reports) -> Watcher:
    """A watcher reporting into `reports`."""
    return Watcher(store, on_problems=reports.problems.append, on_reload=reports.generations.append)


def test_nothing_changed_nothing_reloaded(watcher: Watcher, store: CatalogStore) -> None:
    assert watcher.check_once() is None
    assert store.generation == 1


def test_a_good_edit_goes_live(
    watcher: Watcher, store: CatalogStore, reports: Reports, caplog: pytest.LogCaptureFixture
) -> None:
    teller = store.storyteller()
    assert teller.answer(QUESTION).outcome.value == "fallback"
    in_flight = store.current()  # a reply being written while the edit lands

    add_phrasing(store.root)
    with caplog.at_level(logging.INFO, logger="bot.ops.reload"):
        assert watcher.check_once() == (True, [])

    reply = teller.answer(QUESTION)
    assert (reply.outcome.value, reply.story_id) == ("story", "pearce-ducks")
    assert store.generation == 2 and reports.generations == [2]
    assert "catalogue reloaded (generation 2)" in caplog.text
    assert in_flight.matcher.decide(QUESTION).outcome.value == "fallback"  # it finishes on the old one
    assert watcher.check_once() is None  # reloaded once, not at every poll


def test_a_template_edit_goes_live(watcher: Watcher, store: CatalogStore) -> None:
    path = store.root / "templates" / "story.en.html.j2"
    path.write_text(path.read_text(encoding="utf-8") + "\n<i>Thanks for asking!</i>", encoding="utf-8")
    assert watcher.check_once() == (True, [])
    assert "Thanks for asking!" in store.storyteller().answer("bobby pearce").text


@pytest.mark.parametrize("kind", ["yaml", "template"])
def test_a_broken_edit_is_rejected_whole(
    kind: str,
    watcher: Watcher,
    store: CatalogStore,
    reports: Reports,
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = store.storyteller().answer("bobby pearce")
    if kind == "yaml":
        add_phrasing(store.root)  # a good change and a broken one in the same save
        line = break_yaml(store.root)
        where = f"stories/pearce-ducks.yaml:{line}:"
    else:
        add_phrasing(store.root)
        break_template(store.root)
        where = "stories/templates/story.en.html.j2:"

    with caplog.at_level(logging.INFO, logger="bot.ops.reload"):
        swapped, problems = watcher.check_once() or (None, [])
    assert swapped is False
    assert store.generation == 1
    # The last good catalogue keeps serving, the good half of the edit included: nothing of it.
    assert store.storyteller().answer("bobby pearce").text == before.text
    assert store.storyteller().answer(QUESTION).outcome.value == "fallback"
    (reported,) = reports.problems
    assert reported == problems and problems
    shown = [p.format(store.root.parent) for p in problems]
    assert any(text.startswith(where) and "Fix:" in text for text in shown), shown
    assert where in caplog.text and "still serving generation 1" in caplog.text
    assert watcher.check_once() is None  # not reported again until the next edit


def test_fixing_a_broken_edit_goes_live(watcher: Watcher, store: CatalogStore, reports: Reports) -> None:
    path = store.root / "pearce-ducks.yaml"
    good = path.read_text(encoding="utf-8")
    break_yaml(store.root)
    assert watcher.check_once() == (False, reports.problems[0])
    path.write_text(good, encoding="utf-8")
    add_phrasing(store.root)
    assert watcher.check_once() == (True, [])
    assert store.storyteller().answer(QUESTION).story_id == "pearce-ducks"


def test_new_and_deleted_files_count_as_changes(store: CatalogStore) -> None:
    before = signature(store.root)
    extra = store.root / "templates" / "notes.txt"
    extra.write_text("hello", encoding="utf-8")
    assert signature(store.root) != before
    extra.unlink()
    assert signature(store.root) == before


def test_reload_now_reloads_without_a_change(watcher: Watcher, store: CatalogStore) -> None:
    assert watcher.reload_now() == (True, [])
    assert store.generation == 2


def test_a_failing_callback_does_not_stop_the_watcher(store: CatalogStore) -> None:
    def explode(problems: list[Problem]) -> None:
        raise RuntimeError("moderators' chat is down")

    watcher = Watcher(store, on_problems=explode)
    break_yaml(store.root)
    assert watcher.check_once() is not None  # logged, not raised


async def test_the_running_watcher_reports_a_broken_edit(store: CatalogStore) -> None:
    reported = asyncio.Event()
    seen: list[list[Problem]] = []

    def on_problems(problems: list[Problem]) -> None:
        seen.append(problems)
        reported.set()

    watcher = Watcher(store, interval=0.02, settle=0.01, on_problems=on_problems)
    watcher.start()
    try:
        break_template(store.root)
        await asyncio.wait_for(reported.wait(), timeout=10)
    finally:
        await watcher.stop()
    assert store.generation == 1 and seen and seen[0]


async def test_a_good_edit_is_live_within_two_seconds(store: CatalogStore) -> None:
    live = asyncio.Event()
    watcher = Watcher(store, interval=1.0, on_reload=lambda generation: live.set())
    watcher.start()
    try:
        started = time.monotonic()
        add_phrasing(store.root)
        await asyncio.wait_for(live.wait(), timeout=2.0)
        elapsed = time.monotonic() - started
    finally:
        await watcher.stop()
    assert elapsed < 2.0
    assert store.storyteller().answer(QUESTION).story_id == "pearce-ducks"
