"""The transport-free reply model every front end translates from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.matching.decide import Candidate, Outcome

__all__ = ["Button", "Candidate", "Outcome", "Reply"]  # the decision's own types, from the matcher to the log


@dataclass(frozen=True, slots=True)
class Button:
    """A choice offered to the fan: a plain-text label and callback data (≤ 64 bytes)."""

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send: Telegram-safe HTML, buttons, and what the core decided."""

    outcome: Outcome
    text: str
    lang: str
    question: str = ""
    story_id: str | None = None
    score: float = 0.0
    alternatives: tuple[Candidate, ...] = ()  # runner-up stories with their scores
    buttons: tuple[tuple[Button, ...], ...] = ()
    chapter: int = 0
    chapter_count: int = 1
    intent: str | None = None
    offered: tuple[str, ...] = ()  # story ids offered as choices (did you mean, suggestions)
    rule: str = ""  # why the core decided so: the rule of bot/matching/decide.py (answers only)
    preview: str | None = None  # a link the template asks to preview under the message; else none

    def to_json(self) -> dict[str, Any]:
        """The shape `storybot ask --json` prints."""
        return {
            "question": self.question,
            "outcome": self.outcome.value,
            "story": self.story_id,
            "score": round(self.score, 1),
            "alternatives": [{"story": alt.story_id, "score": round(alt.score, 1)} for alt in self.alternatives],
            "lang": self.lang,
            "reply": self.text,
            "chapter": self.chapter + 1,
            "chapters": self.chapter_count,
            "buttons": [[{"label": b.label, "data": b.data} for b in row] for row in self.buttons],
        }
