"""Which fetched updates are still being handled, so polling confirms exactly the handled ones.

Telegram confirms updates by offset: asking getUpdates with offset N confirms every update below
N. Waiting for a whole batch before asking again (the old way) let one throttled group hold back
every other chat. Instead the next getUpdates is asked at once, with the offset held at the lowest
update still in flight (never past an unhandled one), and updates fetched before are taken out of
the answer so nothing is handled twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable

from telegram import Update

_LOGGER = logging.getLogger(__name__)

# While an update is held back, Telegram answers getUpdates at once (it still has the held update
# to give): ask at most this often until something is handled, instead of in a tight loop.
HELD_BACK_POLL = 0.5
DRAIN_QUIET = 5.0  # at shutdown: how long to wait for the next update being handled to finish


class UpdateLedger:
    """The update ids fetched and not yet handled, and the highest id ever fetched."""

    def __init__(self) -> None:
        self.in_flight: set[int] = set()
        self.started: set[int] = set()  # in flight and given to the handlers
        self.highest = 0
        self._progress = asyncio.Event()

    def offset(self, asked: int | None) -> int | None:
        """The offset to ask for: PTB's, held back to the lowest update still being handled."""
        if not self.in_flight:
            return asked
        lowest = min(self.in_flight)
        return lowest if asked is None else min(asked, lowest)

    def take_new(self, results: Iterable[dict[str, object]]) -> list[dict[str, object]]:
        """The updates of a getUpdates answer not fetched before; they are now in flight."""
        fresh = []
        for update in results:
            update_id = update.get("update_id")
            if not isinstance(update_id, int):
                fresh.append(update)  # not ours to judge: PTB will say what is wrong with it
                continue
            if update_id <= self.highest:
                continue  # fetched before: in flight or already handled
            self.highest = update_id
            if not _readable(update):
                # PTB would fail on the whole batch and fetch it again forever: confirm it unread.
                _LOGGER.warning("Skipped update %d: it cannot be read", update_id)
                continue
            self.in_flight.add(update_id)
            fresh.append(update)
        return fresh

    def start(self, update: object) -> None:
        """Called when an update reaches the handlers."""
        if isinstance(update, Update) and update.update_id in self.in_flight:
            self.started.add(update.update_id)

    def handled(self, update: object) -> None:
        """Called once an update's handlers ran: its id may now be confirmed."""
        if isinstance(update, Update) and update.update_id in self.in_flight:
            self.in_flight.discard(update.update_id)
            self.started.discard(update.update_id)
            self._progress.set()

    async def wait_for_progress(self, timeout: float = HELD_BACK_POLL) -> bool:
        """Wait until some update is handled (True), or `timeout` seconds (False)."""
        self._progress.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progress.wait(), timeout)
        return self._progress.is_set()

    async def drained(self, quiet: float = DRAIN_QUIET) -> None:
        """Wait while updates are being handled, until none is or none finished for `quiet` seconds.

        One fetched as polling stopped never reaches a handler: it stays unconfirmed and Telegram
        sends it again after a restart; so does one still throttled after `quiet` seconds, and the
        restarted bot recognises it by its id if it was answered meanwhile."""
        while self.started and await self.wait_for_progress(quiet):
            pass

    def filter_answer(self, body: bytes) -> tuple[bytes, bool]:
        """A getUpdates answer without the updates fetched before; and whether it held only those."""
        try:
            answer = json.loads(body)
        except ValueError:
            return body, False
        if not isinstance(answer, dict) or not isinstance(answer.get("result"), list):
            return body, False
        results = answer["result"]
        fresh = self.take_new(u for u in results if isinstance(u, dict))
        answer["result"] = fresh
        return json.dumps(answer).encode(), bool(results) and not fresh


def _readable(update: dict[str, object]) -> bool:
    """Whether PTB can turn this update into an `Update` (its error says nothing we may log)."""
    try:
        Update.de_json(update, None)
    except Exception:
        return False
    return True
