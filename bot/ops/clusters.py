"""Misses grouped into clusters of similar questions, each with the story it comes closest to."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process

from bot.matching.matcher import Matcher
from bot.matching.text import normalise, terms
from bot.ops.advice import Advice, advise

# token_set_ratio over content words (stop words dropped, stemmed; Chinese as bigrams): 75 joins
# "how do I get a refund" / "refund please" / "can I get my refund" and "where is my order" /
# "track my order", and keeps "where is my parcel" apart from "where is jack ma" (31) or
# "who is the ceo" apart from "who is the founder" (25). On whole normalised text the stop words
# alone put those last pairs at 67–83, which is why the words are filtered first.
THRESHOLD = 75.0
EXAMPLES = 3
VOTERS = 10  # distinct phrasings asked for the closest story


@dataclass(frozen=True, slots=True)
class Cluster:
    """Similar missed questions: how many, a few of them, and the closest story to suggest."""

    count: int
    examples: tuple[str, ...]
    closest: str | None = None
    closest_score: float = 0.0
    fans: tuple[str, ...] = ()  # the user keys of the fans who asked, most frequent phrasing first
    advice: str = ""  # where the group belongs: an `Advice` (story, followup, smalltalk, offtopic)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "count": self.count,
            "examples": list(self.examples),
            "closest": self.closest,
            "closest_score": round(self.closest_score, 1),
            "fans": list(self.fans),
            "advice": self.advice,
        }


def cluster_key(question: str) -> str:
    """What two questions are compared on: their content words and Chinese bigrams."""
    return " ".join(terms(question)) or normalise(question)


def cluster(
    questions: Iterable[str],
    matcher: Matcher | None = None,
    *,
    threshold: float = THRESHOLD,
    examples: int = EXAMPLES,
    fans: Iterable[str] = (),
) -> list[Cluster]:
    """Greedy leader clustering, most frequent phrasings first; largest cluster first.

    `fans`, when given, runs beside `questions`: who asked each, kept with each cluster.
    """
    spellings: dict[str, Counter[str]] = {}  # normalised phrasing → how fans spelled it
    askers: dict[str, dict[str, None]] = {}  # normalised phrasing → its fans, in order
    fan_of = iter(fans)
    for question in questions:
        norm = normalise(question)
        spellings.setdefault(norm, Counter())[question.strip()] += 1
        asker = next(fan_of, "")
        if asker:
            askers.setdefault(norm, {})[asker] = None
    order = sorted(spellings, key=lambda n: (-spellings[n].total(), n))
    leaders: list[str] = []
    members: list[list[str]] = []
    for norm in order:
        key = cluster_key(norm)
        found = process.extractOne(key, leaders, scorer=fuzz.token_set_ratio, score_cutoff=threshold)
        if found is None or not key:
            leaders.append(key)
            members.append([norm])
        else:
            members[found[2]].append(norm)
    clusters = [
        replace(
            _cluster([_shown(spellings[n]) for n in norms], matcher, examples),
            fans=tuple(dict.fromkeys(fan for n in norms for fan in askers.get(n, {}))),
        )
        for norms in members
    ]
    clusters.sort(key=lambda c: (-c.count, c.examples))
    return clusters


def _shown(originals: Counter[str]) -> tuple[str, int]:
    """A phrasing's most common spelling (the first seen on a tie), and its count."""
    return max(originals, key=originals.__getitem__), originals.total()


def _cluster(phrasings: list[tuple[str, int]], matcher: Matcher | None, examples: int) -> Cluster:
    """`phrasings` come most frequent first (the order the greedy pass met them)."""
    closest, score = _closest(phrasings[:VOTERS], matcher)
    count = sum(n for _, n in phrasings)
    advice = advise(phrasings[0][0], closest, matcher) if phrasings else Advice.OFFTOPIC
    return Cluster(count, tuple(t for t, _ in phrasings[:examples]), closest, score, advice=advice.value)


def _closest(ranked: list[tuple[str, int]], matcher: Matcher | None) -> tuple[str | None, float]:
    """The story the cluster's phrasings point to most: each votes its top story, by score × count."""
    if matcher is None:
        return None, 0.0
    votes: dict[str, float] = {}
    best: dict[str, float] = {}
    for text, count in ranked:
        top = matcher.rank(text, limit=1)
        if top and top[0].score > 0:
            votes[top[0].story_id] = votes.get(top[0].story_id, 0.0) + top[0].score * count
            best[top[0].story_id] = max(best.get(top[0].story_id, 0.0), top[0].score)
    if not votes:
        return None, 0.0
    story = min(votes, key=lambda s: (-votes[s], s))
    return story, best[story]
