"""Per-fan flood control: a sliding window of accepted messages, one notice, then silence."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from enum import Enum

_SWEEP_EVERY = 1024


class FloodVerdict(Enum):
    """What to do with one incoming message."""

    PASS = "pass"  # answer it
    NOTICE = "notice"  # too many: tell the fan once, do not answer this one
    DROP = "drop"  # still too many: ignore silently


class FloodControl:
    """At most `limit` answered messages per fan within `window` seconds; pure, clock injected."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = max(1, limit)
        self.window = window
        self._clock = clock
        self._accepted: dict[Hashable, deque[float]] = {}
        self._noticed: set[Hashable] = set()
        self._checks = 0

    def check(self, fan: Hashable) -> FloodVerdict:
        """Count one message from `fan` and decide; dropped messages do not extend the wait."""
        now = self._clock()
        self._checks += 1
        if self._checks % _SWEEP_EVERY == 0:
            self._sweep(now)
        accepted = self._accepted.setdefault(fan, deque())
        while accepted and accepted[0] <= now - self.window:
            accepted.popleft()
        if len(accepted) < self.limit:
            accepted.append(now)
            self._noticed.discard(fan)
            return FloodVerdict.PASS
        if fan in self._noticed:
            return FloodVerdict.DROP
        self._noticed.add(fan)
        return FloodVerdict.NOTICE

    def __len__(self) -> int:
        return len(self._accepted)

    def _sweep(self, now: float) -> None:
        # Forget fans who have been quiet for a whole window, so memory follows active fans only.
        quiet = [fan for fan, times in self._accepted.items() if not times or times[-1] <= now - self.window]
        for fan in quiet:
            del self._accepted[fan]
            self._noticed.discard(fan)
