"""Search as you type (inline mode): stories whose words start with what the fan has typed so far.

The matcher answers questions; a half-typed `kenya hock` or `鸭` is not one yet. Here every
English term (two letters or more) must begin a word of the story's title, keywords, tags or
phrasings, and every Chinese term (one character or more) must appear in its Chinese ones.
Pure and synchronous; answers are kept for a few seconds, since Telegram asks once a keystroke.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_left
from collections.abc import Callable

from bot.catalog.model import Catalog, Story
from bot.matching.words import word_list

MIN_ENGLISH = 2  # one Latin letter matches half the catalogue: wait for the second
CACHE_SECONDS = 10.0
CACHE_SIZE = 2048
TITLE_WEIGHT = 2  # a term found in the title counts double
_TERM = re.compile(r"[a-z0-9]+|[\u3400-\u9fff\uf900-\ufaff]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class SearchIndex:
    """Prefix search over one catalogue, with a short-lived cache of answers."""

    def __init__(self, catalog: Catalog, clock: Callable[[], float] = time.monotonic) -> None:
        self._stories = list(catalog.stories.values())
        self._order = {s.id: i for i, s in enumerate(catalog.featured() + self._stories)}
        stop = word_list("stopwords.en")
        postings: dict[str, set[int]] = {}
        self._title_words: list[frozenset[str]] = []
        self._chinese: list[str] = []
        self._chinese_titles: list[str] = []
        for index, story in enumerate(self._stories):
            for word in _english_words(story):
                if word not in stop:
                    postings.setdefault(word, set()).add(index)
            self._title_words.append(frozenset(_words(" ".join(story.title.values()))))
            self._chinese.append(" ".join(_chinese_texts(story)).lower())
            self._chinese_titles.append(story.title.get("zh", ""))
        self._vocabulary = sorted(postings)
        self._postings = postings
        self._clock = clock
        self._cache: dict[str, tuple[float, tuple[tuple[str, float], ...]]] = {}

    def search(self, query: str, limit: int = 10) -> tuple[tuple[str, float], ...]:
        """(story id, score) of the stories every term of `query` finds, best first."""
        key = " ".join(query.lower().split())
        now = self._clock()
        cached = self._cache.get(key)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1][:limit]
        found = self._search(key, max(limit, 10))
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()  # the cache only saves keystrokes; starting over is cheap
        self._cache[key] = (now, found)
        return found[:limit]

    def _search(self, query: str, limit: int) -> tuple[tuple[str, float], ...]:
        terms = [t for t in _TERM.findall(query) if _CJK.match(t) or len(t) >= MIN_ENGLISH]
        if not terms:
            return ()
        scores: dict[int, float] = {}
        for position, term in enumerate(terms):
            hits = self._chinese_hits(term) if _CJK.match(term) else self._english_hits(term)
            scores = hits if position == 0 else {i: s + hits[i] for i, s in scores.items() if i in hits}
            if not scores:
                return ()
        ranked = sorted(scores, key=lambda i: (-scores[i], self._order[self._stories[i].id]))
        most = TITLE_WEIGHT * len(terms)
        return tuple((self._stories[i].id, round(100 * scores[i] / most, 1)) for i in ranked[:limit])

    def _english_hits(self, prefix: str) -> dict[int, float]:
        hits: dict[int, float] = {}
        start = bisect_left(self._vocabulary, prefix)
        for word in self._vocabulary[start:]:
            if not word.startswith(prefix):
                break
            for index in self._postings[word]:
                in_title = any(w.startswith(prefix) for w in self._title_words[index])
                hits[index] = max(hits.get(index, 0.0), TITLE_WEIGHT if in_title else 1.0)
        return hits

    def _chinese_hits(self, term: str) -> dict[int, float]:
        return {
            index: TITLE_WEIGHT if term in self._chinese_titles[index] else 1.0
            for index, text in enumerate(self._chinese)
            if term in text
        }


def _words(text: str) -> list[str]:
    return [t for t in _TERM.findall(text.lower()) if not _CJK.match(t)]


def _english_words(story: Story) -> set[str]:
    texts = [story.id.replace("-", " "), *story.title.values(), *story.tags]
    for lang in story.keywords:
        texts.extend(story.keywords[lang])
        texts.extend(story.questions.get(lang, ()))
    return set(_words(" ".join(texts)))


def _chinese_texts(story: Story) -> list[str]:
    return [story.title.get("zh", ""), *story.keywords.get("zh", ()), *story.questions.get("zh", ())]


_LAST: list[tuple[Catalog, SearchIndex]] = []


def index_for(catalog: Catalog) -> SearchIndex:
    """The search index of `catalog`, built once per catalogue (a reload brings a new one)."""
    if _LAST and _LAST[0][0] is catalog:
        return _LAST[0][1]
    index = SearchIndex(catalog)
    _LAST[:] = [(catalog, index)]
    return index
