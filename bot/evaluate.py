"""Measuring answers on a labelled file of single questions or whole conversations, per kind, with misses."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

from bot.catalog.problems import Problem
from bot.catalog.safe_yaml import LocDict, LocList, YamlProblem, load_yaml
from bot.replies.dialogue import Dialogue
from bot.replies.model import Outcome, Reply
from bot.replies.storyteller import Storyteller

# What an `expect` may say besides story ids (see ../shared/eval/conversations.yaml's header).
SMALLTALK = "smalltalk"  # a small-talk reply
ANY_STORY = "any-story"  # some story, whichever
ON_TOPIC = "on-topic"  # a story or a "did you mean", not the no-story fallback
SINGLE = "single"  # the kind of a question from a single-question file

Expect = str | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Labelled:
    """One turn and what it should get: a story id, any of several, None (no story) or a keyword."""

    question: str
    expect: Expect
    line: int = 0


@dataclass(frozen=True, slots=True)
class Talk:
    """One fan's conversation: its kind and its turns, scored in order with the context carried."""

    kind: str
    turns: tuple[Labelled, ...]
    line: int = 0


@dataclass(frozen=True, slots=True)
class Miss:
    """A turn answered wrongly, with the turns before it."""

    question: str
    expect: Expect
    got: str | None
    outcome: str
    score: float
    line: int
    kind: str = SINGLE
    before: tuple[str, ...] = ()


@dataclass
class Tally:
    """Right answers out of a total."""

    total: int = 0
    right: int = 0

    @property
    def accuracy(self) -> float:
        """Share answered rightly."""
        return self.right / self.total if self.total else 0.0

    def add(self, right: bool) -> None:
        """Count one answer."""
        self.total += 1
        self.right += right

    def to_json(self) -> dict[str, object]:
        """Machine-readable."""
        return {"total": self.total, "right": self.right, "accuracy": round(self.accuracy, 4)}


@dataclass
class EvalResult:
    """The figures `storybot eval` prints."""

    overall: Tally = field(default_factory=Tally)
    in_scope: Tally = field(default_factory=Tally)  # turns that expect a story
    off_topic: Tally = field(default_factory=Tally)  # turns that expect no story
    kinds: dict[str, Tally] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Turns answered."""
        return self.overall.total

    @property
    def right(self) -> int:
        """Turns answered rightly."""
        return self.overall.right

    @property
    def accuracy(self) -> float:
        """Share of turns answered rightly."""
        return self.overall.accuracy

    @property
    def in_scope_accuracy(self) -> float:
        """Share of turns expecting a story that got a right one."""
        return self.in_scope.accuracy

    @property
    def off_topic_accuracy(self) -> float:
        """Share of turns expecting no story that got none."""
        return self.off_topic.accuracy

    @property
    def median_ms(self) -> float:
        """Median time to answer one turn."""
        return median(self.latencies_ms) if self.latencies_ms else 0.0

    def to_json(self) -> dict[str, object]:
        """Machine-readable figures."""
        return {
            "total": self.total,
            "accuracy": round(self.accuracy, 4),
            "in_scope": self.in_scope.to_json(),
            "off_topic": self.off_topic.to_json(),
            "kinds": {kind: tally.to_json() for kind, tally in sorted(self.kinds.items())},
            "median_ms": round(self.median_ms, 3),
            "misses": [
                {
                    "question": m.question,
                    "expect": list(m.expect) if isinstance(m.expect, tuple) else m.expect,
                    "got": m.got,
                    "outcome": m.outcome,
                    "score": round(m.score, 1),
                    "line": m.line,
                    "kind": m.kind,
                    "before": list(m.before),
                }
                for m in self.misses
            ],
        }


def is_right(reply: Reply, expect: Expect) -> bool:
    """Whether a reply is what the label asks for."""
    story = reply.story_id if reply.outcome is Outcome.STORY else None
    if expect is None:
        return story is None
    if isinstance(expect, tuple):
        return story in expect
    if expect == SMALLTALK:
        return reply.outcome is Outcome.SMALLTALK
    if expect == ANY_STORY:
        return story is not None
    if expect == ON_TOPIC:
        return reply.outcome in (Outcome.STORY, Outcome.CLARIFY)
    return story == expect


def load_labelled(path: Path) -> tuple[list[Talk], list[Problem]]:
    """Read a labelled file: `- {q, expect}` single questions or `- {kind, turns: [{q, expect}]}`."""
    try:
        data = load_yaml(path)
    except YamlProblem as exc:
        return [], [Problem(path, exc.line, "", exc.message, exc.fix)]
    if not isinstance(data, LocList):
        return [], [Problem(path, 1, "", "must be a list of questions or conversations", _FIX_ITEM)]
    talks: list[Talk] = []
    problems: list[Problem] = []
    for index, entry in enumerate(data):
        line = data.lines[index]
        if isinstance(entry, LocDict) and "turns" in entry:
            turns = entry["turns"]
            if not isinstance(turns, LocList) or not turns:
                problems.append(Problem(path, line, "turns", "must be a list of turns", _FIX_TURN))
                continue
            parsed = [_turn(path, turn, turns.lines[i], problems) for i, turn in enumerate(turns)]
            if all(t is not None for t in parsed):
                kind = str(entry.get("kind") or SINGLE)
                talks.append(Talk(kind, tuple(t for t in parsed if t is not None), line))
            continue
        turn = _turn(path, entry, line, problems)
        if turn is not None:
            talks.append(Talk(SINGLE, (turn,), line))
    return talks, problems


_FIX_ITEM = "write '- {q: \"question\", expect: story-id}' or '- {kind: followup, turns: [...]}'"
_FIX_TURN = "write 'turns: [{q: \"question\", expect: story-id}, ...]' (expect: null for no story)"


def _turn(path: Path, entry: object, line: int, problems: list[Problem]) -> Labelled | None:
    if not isinstance(entry, LocDict) or "q" not in entry or "expect" not in entry:
        problems.append(Problem(path, line, "", "each question needs 'q' and 'expect'", _FIX_TURN))
        return None
    expect = entry["expect"]
    if isinstance(expect, LocList):
        return Labelled(str(entry["q"]), tuple(str(e) for e in expect), line)
    return Labelled(str(entry["q"]), None if expect is None else str(expect), line)


def questions(talks: list[Talk]) -> list[Labelled]:
    """Every turn of every conversation, flattened (for benchmarks that time single questions)."""
    return [turn for talk in talks for turn in talk.turns]


def evaluate(
    teller: Storyteller,
    talks: list[Talk],
    dialogue: Callable[[Storyteller], Dialogue] = Dialogue,
) -> EvalResult:
    """Hold every conversation through a fresh Dialogue and score each turn."""
    result = EvalResult()
    for talk in talks:
        chat = dialogue(teller)
        before: list[str] = []
        for turn in talk.turns:
            started = time.perf_counter()
            reply = chat.say(turn.question)
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            right = is_right(reply, turn.expect)
            result.overall.add(right)
            (result.off_topic if turn.expect is None else result.in_scope).add(right)
            result.kinds.setdefault(talk.kind, Tally()).add(right)
            if not right:
                told = reply.story_id if reply.outcome is Outcome.STORY else None
                result.misses.append(
                    Miss(
                        turn.question,
                        turn.expect,
                        told,
                        reply.outcome.value,
                        reply.score,
                        turn.line,
                        talk.kind,
                        tuple(before),
                    )
                )
            before.append(turn.question)
    return result
