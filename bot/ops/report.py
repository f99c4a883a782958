"""The figures of an exchange log: pure functions from records to a Report, no rendering."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.matching.matcher import Matcher
from bot.matching.text import normalise
from bot.ops.clusters import Cluster, cluster
from bot.ops.exchange import Exchange
from bot.ops.report_broadcast import DELIVERY as BROADCAST_DELIVERY
from bot.ops.report_broadcast import KINDS as BROADCAST_KINDS
from bot.ops.report_broadcast import BroadcastReach, broadcast_reach

HOUR = 3600
DAY = 86400
WEEK = 7 * DAY
MAX_BUCKETS = 200
MINUTE = 60
MINUTE_SIZES = (1, 5, 10, 15, 30)  # minutes a bucket, for spans under MINUTES_UNTIL
MINUTES_UNTIL = 3 * HOUR
ASKED_AGAIN = 60.0  # seconds: a fan who asks again this soon after a story probably got the wrong one
ERROR_CHARS = 200


@dataclass(frozen=True, slots=True)
class StoryCount:
    """A story's figures: times told, told as an answer, and misses that came closest to it."""

    story: str
    told: int
    asked: int
    missed: int = 0


@dataclass(frozen=True, slots=True)
class CampaignCount:
    """Exchanges and distinct fans that came with a campaign's deep link."""

    campaign: str
    exchanges: int
    fans: int


@dataclass(frozen=True, slots=True)
class Bucket:
    """Answered and missed questions in one hour or day."""

    start: float
    hits: int
    misses: int


@dataclass(frozen=True, slots=True)
class Rephrased:
    """A story told as an answer, then the same fan asking again within ASKED_AGAIN seconds:
    likely the wrong story, though it counts as answered."""

    story: str
    question: str
    again: str
    count: int


@dataclass(frozen=True, slots=True)
class Report:
    """Everything `storybot report`, /stats and /misses show."""

    since: float | None
    first: float | None
    last: float | None
    exchanges: int
    fans: int
    questions: int
    hits: int
    clarify: int
    fallback: int
    smalltalk: int
    errors: int
    blocked: int  # messages (and presses) from blocked fans
    inline: int = 0
    blocked_fans: int = 0
    stories: tuple[StoryCount, ...] = ()
    campaigns: tuple[CampaignCount, ...] = ()
    error_messages: tuple[tuple[str, int], ...] = ()
    bucket_seconds: int = HOUR
    timeline: tuple[Bucket, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    broadcasts: tuple[BroadcastReach, ...] = ()
    rephrased: tuple[Rephrased, ...] = ()
    titles: tuple[tuple[str, str], ...] = ()  # (story id, title) for the stories named

    def title(self, story: str) -> str:
        """A story's title as marketers know it (its id when the catalogue does not have it)."""
        return dict(self.titles).get(story, story)

    @property
    def misses(self) -> int:
        """Questions answered with "did you mean" or nothing."""
        return self.clarify + self.fallback

    def rate(self, count: int) -> float:
        """`count` as a share of the questions (0 when there were none)."""
        return count / self.questions if self.questions else 0.0

    @property
    def hit_rate(self) -> float:
        """Questions answered with a story, as a share of all questions."""
        return self.rate(self.hits)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "since": self.since,
            "first": self.first,
            "last": self.last,
            "exchanges": self.exchanges,
            "fans": self.fans,
            "questions": self.questions,
            "hits": self.hits,
            "hit_rate": round(self.hit_rate, 4),
            "clarify": self.clarify,
            "clarify_rate": round(self.rate(self.clarify), 4),
            "fallback": self.fallback,
            "no_match_rate": round(self.rate(self.fallback), 4),
            "smalltalk": self.smalltalk,
            "errors": self.errors,
            "blocked": self.blocked,
            "blocked_fans": self.blocked_fans,
            "inline": self.inline,
            "stories": [vars_of(s) for s in self.stories],
            "campaigns": [vars_of(c) for c in self.campaigns],
            "error_messages": [{"error": e, "count": n} for e, n in self.error_messages],
            "bucket_seconds": self.bucket_seconds,
            "timeline": [vars_of(b) for b in self.timeline],
            "clusters": [c.to_json() for c in self.clusters],
            "broadcasts": [vars_of(b) for b in self.broadcasts],
            "rephrased": [vars_of(r) for r in self.rephrased],
            "titles": dict(self.titles),
        }


def vars_of(item: StoryCount | CampaignCount | Bucket | BroadcastReach | Rephrased) -> dict[str, Any]:
    """A slotted dataclass as a dict."""
    return {name: getattr(item, name) for name in item.__slots__}


def summarise(
    records: Iterable[Exchange],
    since: float | None = None,
    matcher: Matcher | None = None,
    titles: Mapping[str, str] | None = None,
) -> Report:
    """Count the records at or after `since`; cluster the misses (closest story from `matcher`)."""
    kept = [r for r in records if since is None or r.time >= since]
    questions = [r for r in kept if r.is_question]
    outcomes = Counter(r.outcome for r in questions)
    # An inline "story" is a card offered while typing, not a story told.
    told = Counter(r.story for r in kept if r.outcome == "story" and r.story and r.kind != "inline")
    asked = Counter(r.story for r in questions if r.outcome == "story" and r.story)
    campaign_fans: dict[str, set[str]] = defaultdict(set)
    campaign_count: Counter[str] = Counter()
    for r in kept:
        if r.campaign and r.kind not in BROADCAST_KINDS:  # broadcasts have their own reach
            campaign_count[r.campaign] += 1
            campaign_fans[r.campaign].add(r.user_key or r.chat_key)
    errors = [r for r in kept if r.is_error]
    first = min((r.time for r in kept), default=None)
    last = max((r.time for r in kept), default=None)
    size, timeline = _timeline(questions, since if since is not None else first, last)
    missed_questions = [r for r in questions if r.is_miss]
    clusters = cluster((r.question for r in missed_questions), matcher, fans=(r.user_key for r in missed_questions))
    missed: Counter[str] = Counter()
    for group in clusters:
        if group.closest:
            missed[group.closest] += group.count
    return Report(
        since=since,
        first=first,
        last=last,
        exchanges=sum(r.kind != BROADCAST_DELIVERY for r in kept),  # deliveries have their reach
        fans=len({r.user_key for r in kept if r.user_key}),
        questions=len(questions),
        hits=outcomes["story"],
        clarify=outcomes["clarify"],
        fallback=outcomes["fallback"],
        smalltalk=outcomes["smalltalk"],
        errors=len(errors),
        blocked=sum(r.outcome == "blocked" for r in kept),
        blocked_fans=len({r.user_key for r in kept if r.outcome == "blocked" and r.user_key}),
        inline=sum(r.kind == "inline" for r in kept),
        stories=tuple(
            StoryCount(story, told[story], asked[story], missed[story])
            for story in sorted(told.keys() | missed.keys(), key=lambda s: (-told[s], -missed[s], s))
        ),
        campaigns=tuple(
            CampaignCount(name, n, len(campaign_fans[name]))
            for name, n in sorted(campaign_count.items(), key=lambda kv: (-kv[1], kv[0]))
        ),
        error_messages=tuple(
            sorted(
                Counter(_first_line(r.error or r.outcome) for r in errors).items(),
                key=lambda kv: (-kv[1], kv[0]),
            )
        ),
        bucket_seconds=size,
        timeline=timeline,
        clusters=tuple(clusters),
        broadcasts=broadcast_reach(kept),
        rephrased=asked_again(kept),
        titles=tuple(sorted((titles or {}).items())),
    )


def asked_again(records: list[Exchange], within: float = ASKED_AGAIN) -> tuple[Rephrased, ...]:
    """Stories told as an answer that the same fan followed with another question within `within` s."""
    last: dict[tuple[str, str], Exchange] = {}  # (fan, chat) → their last typed question
    found: Counter[tuple[str, str, str]] = Counter()
    for r in sorted(records, key=lambda r: r.time):
        if r.kind != "message" or not r.is_question or not r.user_key:
            continue
        fan = (r.user_key, r.chat_key)
        before = last.get(fan)
        if (
            before is not None
            and before.outcome == "story"
            and before.story
            and r.time - before.time <= within
            and r.outcome != "smalltalk"  # "thanks" or "hi" after a story is not asking again
            and r.story != before.story  # a question about the same story is a follow-up, not a retry
            and normalise(r.question) != normalise(before.question)
        ):
            found[(before.story, before.question.strip(), r.question.strip())] += 1
        last[fan] = r
    return tuple(
        Rephrased(story, question, again, n)
        for (story, question, again), n in sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return line[:ERROR_CHARS]


def _timeline(questions: list[Exchange], start: float | None, end: float | None) -> tuple[int, tuple[Bucket, ...]]:
    """Hits and misses per hour (per day or week for longer spans), empty buckets included."""
    if start is None or end is None or end < start:
        return HOUR, ()
    span = end - start
    if span < MINUTES_UNTIL:  # a ten-minute span drawn in minutes, not as one wide hour
        size = next(m * MINUTE for m in MINUTE_SIZES if span / (m * MINUTE) <= 60)
    elif span <= 2 * DAY:
        size = HOUR
    elif span <= MAX_BUCKETS * DAY:
        size = DAY
    else:
        size = WEEK * max(1, math.ceil(span / (WEEK * MAX_BUCKETS)))
    origin = math.floor(start / size) * size
    count = int((end - origin) // size) + 1
    hits = [0] * count
    misses = [0] * count
    for r in questions:
        index = int((r.time - origin) // size)
        if 0 <= index < count:
            if r.outcome == "story":
                hits[index] += 1
            elif r.is_miss:
                misses[index] += 1
    return size, tuple(Bucket(origin + i * size, hits[i], misses[i]) for i in range(count))
