"""Each broadcast's reach in the exchange log: delivered, blocked, failed, and taps on its buttons."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bot.ops.exchange import Exchange

DELIVERY, TAP = "broadcast", "broadcast_tap"
KINDS = frozenset({DELIVERY, TAP})


@dataclass(frozen=True, slots=True)
class BroadcastReach:
    """One broadcast (its campaign name, like broadcast-3) as the log saw it."""

    campaign: str
    story: str
    delivered: int
    blocked: int
    failed: int
    taps: int


def broadcast_reach(records: Iterable[Exchange]) -> tuple[BroadcastReach, ...]:
    """Per broadcast, each chat counted once by its last outcome (a doubtful message sent again counts once)."""
    last: dict[tuple[str, str], str] = {}
    stories: dict[str, str] = {}
    taps: Counter[str] = Counter()
    for r in records:
        if not r.campaign or r.kind not in KINDS:
            continue
        if r.kind == TAP:
            taps[r.campaign] += 1
            continue
        last[(r.campaign, r.chat_key)] = r.outcome
        stories[r.campaign] = r.story or ""
    outcomes: dict[str, Counter[str]] = {name: Counter() for name in stories}
    for (name, _), outcome in last.items():
        outcomes[name][outcome] += 1
    names = sorted(stories.keys() | taps.keys(), key=_order)
    return tuple(
        BroadcastReach(
            name,
            stories.get(name, ""),
            outcomes.get(name, Counter())["delivered"],
            outcomes.get(name, Counter())["bot_blocked"],
            outcomes.get(name, Counter())["failed"],
            taps[name],
        )
        for name in names
    )


def _order(name: str) -> tuple[int, str]:
    number = name.rpartition("-")[2]
    return (int(number) if number.isdigit() else 0, name)
