"""One exchange (an update handled and what the bot answered), as a record and a JSON line."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


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

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to the exchange log."""
        record = asdict(self)
        record["alternatives"] = [{"story": s, "score": round(v, 1)} for s, v in self.alternatives]
        record["score"] = round(self.score, 1)
        record["latency_ms"] = round(self.latency_ms, 2)
        return record


class ExchangeSink(Protocol):
    """Anything that takes exchanges: the log file, stdout, the moderators' digest."""

    def record(self, exchange: Exchange) -> None:
        """Take one exchange; must not raise and must not block for long."""


def pseudonym(salt: bytes, kind: str, value: int | str | None) -> str:
    """A stable keyed hash for a chat or user id: the same fan gets the same key, never the id."""
    if value is None:
        return ""
    digest = hmac.new(salt, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind[0]}_{digest[:16]}"
