"""The moderators' live view: one readable line per exchange, misses and errors marked."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.ops.exchange import Exchange

QUESTION_WIDTH = 60
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_JOINERS = frozenset({"\u200d"})  # keeps emoji sequences intact


def visible(text: str, limit: int | None = None) -> str:
    """Control, format and other invisible characters as escapes, cut to `limit` with an ellipsis.

    Fans' text goes to a moderator's terminal: an ESC, a carriage return or a bidi override
    must show as text, never act on the screen.
    """
    pieces = [_shown(ch) for ch in text]
    if limit is None or sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    out: list[str] = []
    room = limit - 1
    for piece in pieces:
        room -= len(piece)
        if room < 0:
            break
        out.append(piece)
    return "".join(out) + "…"


def _shown(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if ch not in _JOINERS and unicodedata.category(ch) in _INVISIBLE:
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return ch


def marker(exchange: Exchange) -> str:
    """`!` for an error, `✗` for a miss, a space otherwise."""
    if exchange.is_error:
        return "!"
    return "✗" if exchange.is_miss else " "


def format_line(exchange: Exchange, tz: tzinfo | None = None) -> str:
    """One exchange as a terminal line (local time unless `tz` is given)."""
    when = datetime.fromtimestamp(exchange.time, tz).strftime("%Y-%m-%d %H:%M:%S")
    if exchange.story:
        answer = f"{visible(exchange.story, 24)} {exchange.score:.0f}"
    elif exchange.alternatives:
        answer = "?" + " ?".join(visible(story, 24) for story, _ in exchange.alternatives[:2])
    else:
        answer = f"- {exchange.score:.0f}" if exchange.is_question else "-"
    parts = [
        when,
        marker(exchange),
        f"{visible(exchange.chat_type, 10):<10}",
        f"{visible(exchange.user_key, 18):<18}",
        f"{visible(exchange.lang, 2):<2}",
        f"{visible(exchange.outcome, 9):<9}",
        f"{answer:<28}",
        f'"{visible(exchange.question, QUESTION_WIDTH)}"',
    ]
    if exchange.campaign:
        parts.append(f"via {visible(exchange.campaign, 40)}")
    if exchange.error:
        parts.append(f"error: {visible(exchange.error, 120)}")
    return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Filter:
    """Which exchanges a moderator wants to see.

    `story` keeps the exchanges that told that story and the misses that offered it as a
    runner-up ("did you mean"), since those are the phrasings its file may be missing.
    """

    misses: bool = False
    story: str | None = None

    def __call__(self, exchange: Exchange) -> bool:
        """Whether the exchange passes."""
        if self.misses and not (exchange.is_miss or exchange.is_error):
            return False
        if self.story is None or exchange.story == self.story:
            return True
        offered = any(story == self.story for story, _ in exchange.alternatives)
        return offered and exchange.is_miss


def select(records: Iterable[Exchange], wanted: Filter) -> Iterator[Exchange]:
    """The records that pass the filter, in order."""
    return (record for record in records if wanted(record))
