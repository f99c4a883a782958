"""Scheduled broadcasts: the running bot queues each entry of broadcasts.yaml once it is due, once.

The entries come from the live catalogue, so a reload brings new ones without a restart. Whether an
entry was queued lives in the state (`scheduled`, written in the same commit as the broadcast):
a restart, a kill -9 or a second process never queues it again. An entry that fell due while the
bot was down is queued at start, unless it is more than LATE_LIMIT late: then it is recorded as
not sent and logged, so an old catalogue on a fresh data folder does not resend its history.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from bot.broadcast.outbox import Outbox
from bot.catalog.model import Scheduled
from bot.ops.periodic import Periodic

_LOGGER = logging.getLogger(__name__)
INTERVAL = 15.0  # seconds between looks: an entry goes out at most this long after its moment
LATE_LIMIT = 24 * 3600.0  # seconds late after which an entry is not sent any more
WAITING, DUE, TOO_LATE = "waiting", "due", "too late"

Entries = Callable[[], Sequence[Scheduled]]
Clock = Callable[[], float]


def state_of(entry: Scheduled, now: float, late_limit: float = LATE_LIMIT) -> str:
    """Where an entry not yet recorded stands: waiting for its moment, due, or too late to send."""
    late = now - entry.at.timestamp()
    if late < 0:
        return WAITING
    return DUE if late <= late_limit else TOO_LATE


class Scheduler:
    """Queues due entries in the outbox; `tick` is one look (the running bot's Periodic, or a test)."""

    def __init__(
        self,
        outbox: Outbox,
        entries: Entries,
        *,
        clock: Clock = time.time,
        interval: float = INTERVAL,
        late_limit: float = LATE_LIMIT,
    ) -> None:
        self.outbox = outbox
        self.entries = entries
        self.clock = clock
        self.late_limit = late_limit
        self._recorded: set[tuple[str, str, str]] | None = None  # read from the state at the first tick
        self._periodic = Periodic("the broadcast schedule", interval, self._tick)

    def tick(self) -> list[int]:
        """Queue every due entry not queued before (record the too-late ones); the broadcasts queued."""
        now = self.clock()
        if self._recorded is None:
            self._recorded = set(self.outbox.scheduled())
        queued: list[int] = []
        for entry in self.entries():
            if entry.key in self._recorded:
                continue
            state = state_of(entry, now, self.late_limit)
            if state == WAITING:
                continue
            broadcast = self.outbox.enqueue_scheduled(entry.story, entry.moment, entry.lang, send=state == DUE)
            self._recorded.add(entry.key)
            if broadcast is not None:
                queued.append(broadcast)
                _LOGGER.info("scheduled broadcast %d queued: %s at %s", broadcast, entry.story, entry.at.isoformat())
            elif state == TOO_LATE:
                _LOGGER.warning(
                    "scheduled broadcast of %s at %s not sent: more than %.0f h late (the bot was not running)",
                    entry.story,
                    entry.at.isoformat(),
                    self.late_limit / 3600,
                )
        return queued

    def start(self) -> None:
        """Queue what fell due while the bot was down, then look every `interval` (in post_init)."""
        try:
            self.tick()
        except Exception:  # the state may be busy or damaged: the next look tries again
            _LOGGER.exception("the broadcast schedule failed at start; it runs again shortly")
        self._periodic.start()

    async def stop(self) -> None:
        """Stop looking (in post_stop)."""
        await self._periodic.stop()

    async def _tick(self) -> None:
        self.tick()
