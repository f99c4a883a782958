"""Search as you type: prefixes and partial words, in English and Chinese, answered from a short cache."""

from __future__ import annotations

import pytest

from bot.catalog.model import Catalog
from bot.live import Snapshot
from bot.matching.search import CACHE_SECONDS, SearchIndex


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def catalog(shipped_snapshot: Snapshot) -> Catalog:
    """The shipped catalogue."""
    return shipped_snapshot.catalog


@pytest.mark.parametrize(
    ("typed", "story_id"),
    [
        ("du", "pearce-ducks"),
        ("DUCK", "pearce-ducks"),
        ("鸭", "pearce-ducks"),
        ("kenya hock", "kenya-ice-hockey"),
        ("eb", "ebay-2003"),
        ("淘", "ebay-2003"),
    ],
)
def test_a_prefix_finds_its_story_first(catalog: Catalog, typed: str, story_id: str) -> None:
    assert SearchIndex(catalog).search(typed)[0][0] == story_id


@pytest.mark.parametrize("typed", ["d", "", "  ", "kenya zzqx", "the"])
def test_one_latin_letter_unknown_words_and_stopwords_find_nothing(catalog: Catalog, typed: str) -> None:
    assert SearchIndex(catalog).search(typed) == ()


def test_answers_are_cached_for_a_few_seconds(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    index = SearchIndex(catalog, clock=clock)
    calls: list[str] = []
    search = index._search
    monkeypatch.setattr(index, "_search", lambda q, n: calls.append(q) or search(q, n))
    first = index.search("duc")
    assert index.search(" Duc ") == first and calls == ["duc"]
    clock.now += CACHE_SECONDS + 0.1
    assert index.search("duc") == first and calls == ["duc", "duc"]
