"""One exchange (an update handled and what the bot answered), as a record and a JSON line."""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

MISS_OUTCOMES = frozenset({"fallback", "clarify"})
ANSWER_OUTCOMES = frozenset({"story", "clarify", "fallback", "smalltalk"})
# Inline queries arrive once per keystroke ("b", "bo", "bob"...), so they are counted apart and
# their empty results are not misses.
QUESTION_KINDS = frozenset({"message"})


@dataclass(frozen=True, slots=True)
class Exchange:
    """What happened for one update. Keys are pseudonymous; no names, usernames or phones."""

    update_id: int | None
    chat_type: str  # private, group, supergroup, channel, inline, callback, console
    chat_key: str
    user_key: str
    lang: str
    question: str
    outcome: str  # story, clarify, fallback, smalltalk, menu, blocked, error, ...
    story: str | None = None
    score: float = 0.0
    alternatives: tuple[tuple[str, float], ...] = ()
    campaign: str | None = None
    latency_ms: float = 0.0
    kind: str = "message"  # message, command, callback, inline, deep_link, non_text
    error: str | None = None
    time: float = field(default_factory=time.time)
    rule: str = ""  # which rule of the core's decision chose the answer (bot/matching/decide.py)

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to the exchange log."""
        record = asdict(self)
        record["alternatives"] = [{"story": s, "score": round(v, 1)} for s, v in self.alternatives]
        record["score"] = round(self.score, 1)
        record["latency_ms"] = round(self.latency_ms, 2)
        return record

    @property
    def is_miss(self) -> bool:
        """The bot did not find the story for a message: a "did you mean" or no match."""
        return self.outcome in MISS_OUTCOMES and self.kind != "inline"

    @property
    def is_error(self) -> bool:
        """Handling this update failed."""
        return self.error is not None or self.outcome == "error"

    @property
    def is_question(self) -> bool:
        """A message the matcher answered (not a button, command, deep link or inline query)."""
        return self.kind in QUESTION_KINDS and self.outcome in ANSWER_OUTCOMES

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Exchange:
        """Read back a logged object; unknown fields are ignored, wrong types raise ValueError."""
        try:
            return cls(
                update_id=_opt_int(record.get("update_id")),
                chat_type=str(record.get("chat_type") or ""),
                chat_key=str(record.get("chat_key") or ""),
                user_key=str(record.get("user_key") or ""),
                lang=str(record.get("lang") or ""),
                question=str(record.get("question") or ""),
                outcome=str(record.get("outcome") or ""),
                story=_opt_str(record.get("story")),
                score=float(record.get("score") or 0.0),
                alternatives=tuple(
                    (str(alt["story"]), float(alt["score"])) for alt in record.get("alternatives") or ()
                ),
                campaign=_opt_str(record.get("campaign")),
                latency_ms=float(record.get("latency_ms") or 0.0),
                kind=str(record.get("kind") or "message"),
                error=_opt_str(record.get("error")),
                time=float(record["time"]),
                rule=str(record.get("rule") or ""),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not an exchange record: {exc}") from exc


class ExchangeSink(Protocol):
    """Anything that takes exchanges: the log file, stdout, the moderators' digest."""

    def record(self, exchange: Exchange) -> None:
        """Take one exchange; must not raise and must not block for long."""


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: object) -> int | None:
    return None if value is None else int(str(value))


@functools.lru_cache(maxsize=65536)  # the same fans come back; an HMAC per update adds up
def pseudonym(salt: bytes, kind: str, value: int | str | None) -> str:
    """A stable keyed hash for a chat or user id: the same fan gets the same key, never the id."""
    if value is None:
        return ""
    digest = hmac.new(salt, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind[0]}_{digest[:16]}"
