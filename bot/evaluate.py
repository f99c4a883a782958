"""Measuring matching on a labelled file: accuracy overall, in scope and off-topic, with misses."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

from bot.catalog.problems import Problem
from bot.catalog.safe_yaml import LocDict, LocList, YamlProblem, load_yaml
from bot.replies.model import Outcome
from bot.replies.storyteller import Storyteller


@dataclass(frozen=True, slots=True)
class Labelled:
    """One question and the story it means (None: no story fits)."""

    question: str
    expect: str | None
    line: int = 0


@dataclass(frozen=True, slots=True)
class Miss:
    """A question answered wrongly."""

    question: str
    expect: str | None
    got: str | None
    outcome: str
    score: float
    line: int


@dataclass
class EvalResult:
    """The figures `storybot eval` prints."""

    total: int = 0
    right: int = 0
    in_scope: int = 0
    in_scope_right: int = 0
    off_topic: int = 0
    off_topic_right: int = 0
    misses: list[Miss] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Share of questions answered rightly."""
        return self.right / self.total if self.total else 0.0

    @property
    def in_scope_accuracy(self) -> float:
        """Share of in-scope questions that got the right story."""
        return self.in_scope_right / self.in_scope if self.in_scope else 0.0

    @property
    def off_topic_accuracy(self) -> float:
        """Share of off-topic, small-talk and hostile questions that got no story."""
        return self.off_topic_right / self.off_topic if self.off_topic else 0.0

    @property
    def median_ms(self) -> float:
        """Median time to answer one question."""
        return median(self.latencies_ms) if self.latencies_ms else 0.0

    def to_json(self) -> dict[str, object]:
        """Machine-readable figures."""
        return {
            "total": self.total,
            "accuracy": round(self.accuracy, 4),
            "in_scope": {"total": self.in_scope, "accuracy": round(self.in_scope_accuracy, 4)},
            "off_topic": {"total": self.off_topic, "accuracy": round(self.off_topic_accuracy, 4)},
            "median_ms": round(self.median_ms, 3),
            "misses": [
                {
                    "question": m.question,
                    "expect": m.expect,
                    "got": m.got,
                    "outcome": m.outcome,
                    "score": round(m.score, 1),
                    "line": m.line,
                }
                for m in self.misses
            ],
        }


def load_labelled(path: Path) -> tuple[list[Labelled], list[Problem]]:
    """Read `- {q: ..., expect: id-or-null}` lines; problems name the line."""
    try:
        data = load_yaml(path)
    except YamlProblem as exc:
        return [], [Problem(path, exc.line, "", exc.message, exc.fix)]
    if not isinstance(data, LocList):
        return [], [Problem(path, 1, "", "must be a list of questions", "write '- {q: ..., expect: ...}'")]
    items: list[Labelled] = []
    problems: list[Problem] = []
    for index, entry in enumerate(data):
        line = data.lines[index]
        if not isinstance(entry, LocDict) or "q" not in entry or "expect" not in entry:
            problems.append(
                Problem(
                    path,
                    line,
                    "",
                    "each entry needs 'q' and 'expect'",
                    "write '- {q: \"question\", expect: story-id}' (expect: null for none)",
                )
            )
            continue
        expect = entry["expect"]
        items.append(Labelled(str(entry["q"]), None if expect is None else str(expect), line))
    return items, problems


def evaluate(teller: Storyteller, items: list[Labelled]) -> EvalResult:
    """Answer every question and score: right story in scope, no story off-topic."""
    result = EvalResult()
    for item in items:
        started = time.perf_counter()
        reply = teller.answer(item.question)
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
        told = reply.story_id if reply.outcome is Outcome.STORY else None
        right = told == item.expect
        result.total += 1
        result.right += right
        if item.expect is None:
            result.off_topic += 1
            result.off_topic_right += right
        else:
            result.in_scope += 1
            result.in_scope_right += right
        if not right:
            result.misses.append(Miss(item.question, item.expect, told, reply.outcome.value, reply.score, item.line))
    return result
