"""Pure matching: a question in, ranked stories (or small talk, or nothing) out. No I/O."""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.catalog import Catalog
from bot.text import (
    ZH_STOPCHARS,
    cjk_bigrams,
    content_words,
    is_cjk_run,
    normalise,
    runs,
)

OFFTOPIC = "\x00offtopic"
SMALLTALK_PREFIX = "\x00smalltalk:"


class Verdict(StrEnum):
    """What the matcher concluded."""

    STORY = "story"
    CLARIFY = "clarify"
    SMALLTALK = "smalltalk"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class MatcherConfig:
    """The knobs, tuned on tests/data/questions_tune.yaml."""

    threshold: float = 50.0
    clarify_margin: float = 8.0
    clarify_floor: float = 40.0
    smalltalk_threshold: float = 86.0
    keyword_weight: float = 3.0
    unknown_weight: float = 0.7
    fuzzy_discount: float = 0.8
    cjk_unknown_per_char: float = 0.5
    phrase_weight: float = 0.35
    max_postings: int = 64
    rerank: int = 6


@dataclass(frozen=True, slots=True)
class Candidate:
    """A story and how well it fits, 0–100."""

    story_id: str
    score: float


@dataclass(frozen=True, slots=True)
class Match:
    """The matcher's answer for one question."""

    verdict: Verdict
    story_id: str | None
    score: float
    candidates: tuple[Candidate, ...]
    intent: str | None = None


@dataclass(slots=True)
class _Query:
    terms: dict[str, float]
    unknown: float
    text: str
    content: str


class Matcher:
    """Scores a question against every story, the off-topic examples and small talk."""

    def __init__(self, catalog: Catalog, config: MatcherConfig | None = None) -> None:
        self.config = config or MatcherConfig()
        self._classes: list[str] = []
        self._phrasings: list[list[str]] = []
        weights: dict[str, dict[int, float]] = defaultdict(dict)
        for story in catalog.stories.values():
            texts = [q for qs in story.questions.values() for q in qs] + list(story.title.values())
            keywords = [k for ks in story.keywords.values() for k in ks]
            self._add_class(story.id, texts, keywords, weights)
        offtopic = [q for qs in catalog.offtopic.values() for q in qs]
        if offtopic:
            self._add_class(OFFTOPIC, offtopic, [], weights)
        self._smalltalk: list[str] = []
        self._smalltalk_intent: list[str] = []
        for intent in catalog.smalltalk.values():
            phrasings = [q for qs in intent.questions.values() for q in qs]
            self._add_class(SMALLTALK_PREFIX + intent.intent, phrasings, [], weights)
            for phrasing in phrasings:
                self._smalltalk.append(normalise(phrasing))
                self._smalltalk_intent.append(intent.intent)
        self._story_count = len(catalog.stories)
        n = max(len(self._classes), 1)
        self._unknown_idf = math.log(1 + n)
        self._postings: dict[str, tuple[tuple[int, float], ...]] = {}
        self._idf: dict[str, float] = {}
        for term, by_class in weights.items():
            total = sum(by_class.values())
            self._idf[term] = math.log(1 + n / len(by_class))
            best = heapq.nlargest(self.config.max_postings, by_class.items(), key=lambda kv: kv[1])
            self._postings[term] = tuple((cls, w / total) for cls, w in best)
        self._deletes: dict[str, list[str]] = defaultdict(list)
        for term in self._postings:
            if len(term) >= 4 and term.isascii():
                for key in _deletions(term):
                    self._deletes[key].append(term)
        self._longest_cjk = max((len(t) for t in self._postings if is_cjk_run(t)), default=2)

    def _add_class(
        self,
        key: str,
        phrasings: Iterable[str],
        keywords: Iterable[str],
        weights: dict[str, dict[int, float]],
    ) -> None:
        index = len(self._classes)
        self._classes.append(key)
        contents: list[str] = []
        for phrasing in phrasings:
            terms, content = _terms_of(normalise(phrasing))
            contents.append(content)
            for term in set(terms):
                weights[term][index] = weights[term].get(index, 0.0) + 1.0
        for keyword in keywords:
            norm = normalise(keyword)
            terms, _ = _terms_of(norm)
            for run in runs(norm):
                if is_cjk_run(run):
                    terms.append(run)
            for term in set(terms):
                weights[term][index] = weights[term].get(index, 0.0) + self.config.keyword_weight
        self._phrasings.append(contents)

    # --- query side -------------------------------------------------------------------------

    def _query(self, question: str) -> _Query:
        norm = normalise(question)
        terms: dict[str, float] = {}
        unknown = 0.0
        content: list[str] = []
        for run in runs(norm):
            if is_cjk_run(run):
                found, uncovered = self._cjk_terms(run)
                for term in found:
                    terms[term] = max(terms.get(term, 0.0), 1.0)
                unknown += uncovered * self.config.cjk_unknown_per_char
                content.append(run)
                continue
            for word in content_words(run):
                content.append(word)
                if word in self._postings:
                    terms[word] = 1.0
                    continue
                fixed = self._correct(word)
                if fixed is not None:
                    terms[fixed] = max(terms.get(fixed, 0.0), self.config.fuzzy_discount)
                else:
                    unknown += 1.0
        return _Query(terms, unknown, norm, " ".join(content))

    def _cjk_terms(self, run: str) -> tuple[list[str], int]:
        covered = [False] * len(run)
        found: list[str] = []
        for size in range(min(self._longest_cjk, len(run)), 0, -1):
            for start in range(len(run) - size + 1):
                piece = run[start : start + size]
                if piece in self._postings and (size > 1 or piece not in ZH_STOPCHARS):
                    found.append(piece)
                    for i in range(start, start + size):
                        covered[i] = True
        uncovered = sum(1 for i, ch in enumerate(run) if not covered[i] and ch not in ZH_STOPCHARS)
        return found, uncovered

    def _correct(self, word: str) -> str | None:
        if len(word) < 4 or not word.isascii():
            return None
        options: set[str] = set()
        for key in _deletions(word):
            options.update(self._deletes.get(key, ()))
        if not options:
            return None
        limit = 2 if len(word) >= 8 else 1
        best = min(options, key=lambda t: (OSA.distance(word, t), -len(self._postings[t]), t))
        return best if OSA.distance(word, best) <= limit else None

    # --- scoring ----------------------------------------------------------------------------

    def _scores(self, query: _Query) -> dict[int, float]:
        raw: dict[int, float] = defaultdict(float)
        mass = 0.0
        for term, weight in query.terms.items():
            qw = weight * self._idf[term]
            mass += qw
            for cls, share in self._postings[term]:
                raw[cls] += qw * share
        denominator = mass + self.config.unknown_weight * query.unknown * self._unknown_idf
        if denominator <= 0:
            return {}
        return {cls: 100.0 * value / denominator for cls, value in raw.items()}

    def _phrase(self, cls: int, content: str) -> float:
        if not content or not self._phrasings[cls]:
            return 0.0
        best = process.extractOne(content, self._phrasings[cls], scorer=fuzz.token_set_ratio)
        return float(best[1]) if best else 0.0

    def rank(self, question: str, limit: int = 10) -> list[Candidate]:
        """Stories ranked by fit, best first (off-topic and small talk left out)."""
        query = self._query(question)
        scores = self._scores(query)
        story_scores = [(cls, s) for cls, s in scores.items() if cls < self._story_count]
        top = heapq.nlargest(max(limit, self.config.rerank), story_scores, key=lambda kv: kv[1])
        w = self.config.phrase_weight
        blended = [
            (cls, (1 - w) * s + w * self._phrase(cls, query.content) * min(1.0, s / 30.0))
            for cls, s in top
        ]
        blended.sort(key=lambda kv: (-kv[1], self._classes[kv[0]]))
        return [Candidate(self._classes[cls], round(s, 1)) for cls, s in blended[:limit]]

    def match(self, question: str) -> Match:
        """Decide: a story, a "did you mean", small talk, or nothing."""
        config = self.config
        query = self._query(question)
        scores = self._scores(query)
        ranked = self.rank(question, limit=3)
        best = ranked[0] if ranked else None
        rejects = max((s for cls, s in scores.items() if cls >= self._story_count), default=0.0)
        small = self._smalltalk_match(query.text)
        if best is not None and best.score >= config.threshold and best.score > rejects:
            second = ranked[1] if len(ranked) > 1 else None
            if (
                second is not None
                and second.score >= config.clarify_floor
                and best.score - second.score < config.clarify_margin
            ):
                return Match(Verdict.CLARIFY, None, best.score, tuple(ranked))
            return Match(Verdict.STORY, best.story_id, best.score, tuple(ranked))
        if small is not None:
            intent, score = small
            return Match(Verdict.SMALLTALK, None, score, tuple(ranked), intent)
        return Match(Verdict.NONE, None, best.score if best else 0.0, tuple(ranked))

    def _smalltalk_match(self, text: str) -> tuple[str, float] | None:
        if not self._smalltalk or not text:
            return None
        found = process.extractOne(
            text, self._smalltalk, scorer=fuzz.ratio, score_cutoff=self.config.smalltalk_threshold
        )
        if found is None:
            return None
        return self._smalltalk_intent[found[2]], float(found[1])


def _terms_of(norm: str) -> tuple[list[str], str]:
    terms: list[str] = []
    content: list[str] = []
    for run in runs(norm):
        if is_cjk_run(run):
            terms.extend(cjk_bigrams(run))
            content.append(run)
        else:
            words = content_words(run)
            terms.extend(words)
            content.extend(words)
    return terms, " ".join(content)


def _deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}
