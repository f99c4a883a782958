"""What one conversation remembers between turns: owned by the core, kept by each front end."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from bot.replies.model import Outcome, Reply

TOLD_KEPT = 50  # stories remembered as told; more than any catalogue a fan reads in one sitting
OFFERED_KEPT = 3  # the last "did you mean" or suggestions offered


@dataclass(frozen=True, slots=True)
class Conversation:
    """The story being discussed, the stories already told, the last choices offered, and when.

    Front ends keep it per chat in private chats, per chat and fan in groups, per conversation id
    on the command line, and hand it back on the next turn. It is plain data: `to_json` and
    `restore` move it through any store, and a quiet spell (`ttl` seconds) starts afresh.
    """

    story_id: str | None = None
    told: tuple[str, ...] = ()
    offered: tuple[str, ...] = ()
    at: float = 0.0

    def after(self, reply: Reply, now: float) -> Conversation:
        """The state once `reply` has been sent."""
        if reply.outcome is Outcome.STORY and reply.story_id:
            told = (*(s for s in self.told if s != reply.story_id), reply.story_id)
            return Conversation(reply.story_id, told[-TOLD_KEPT:], (), now)
        if reply.outcome in (Outcome.CLARIFY, Outcome.FALLBACK):
            return replace(self, offered=reply.offered[:OFFERED_KEPT], at=now)
        return replace(self, at=now)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (what persistence stores)."""
        return {"story": self.story_id, "told": list(self.told), "offered": list(self.offered), "at": self.at}

    @classmethod
    def restore(cls, data: object, now: float, ttl: float) -> Conversation:
        """Back from `to_json`; anything malformed, or older than `ttl` seconds, is a new conversation."""
        if not isinstance(data, dict):
            return cls()
        at = data.get("at")
        if not isinstance(at, int | float) or isinstance(at, bool) or not 0 <= now - at <= ttl:
            return cls()
        story = data.get("story")
        return cls(
            story if isinstance(story, str) else None,
            _strings(data.get("told"))[-TOLD_KEPT:],
            _strings(data.get("offered"))[:OFFERED_KEPT],
            float(at),
        )


def _strings(value: object) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()
