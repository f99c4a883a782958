"""How many broadcast sends are on their way at once: the pace decides, or BROADCAST_IN_FLIGHT.

The sends in flight are also the most a kill -9 can leave in doubt, so 1 must mean one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.broadcast.outbox import Outbox
from bot.broadcast.sender import SENDERS, Broadcaster, in_flight
from bot.config import Settings
from bot.replies.storyteller import Storyteller

FANS = 24


class CountingBot:
    """Stands in for PTB's bot: each send takes a few turns of the loop; counts sends at once."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self.sent: list[int] = []

    async def send_message(self, chat_id: int, text: str, **_: Any) -> SimpleNamespace:
        self.now += 1
        self.most = max(self.most, self.now)
        for _turn in range(3):
            await asyncio.sleep(0)
        self.now -= 1
        self.sent.append(chat_id)
        return SimpleNamespace(message_id=len(self.sent))


async def _most_at_once(tmp_path: Path, storyteller: Storyteller, senders: int | None) -> int:
    outbox = Outbox(tmp_path / "state.sqlite3")
    for fan in range(1, FANS + 1):
        outbox.subscribe(fan, "en")
    outbox.enqueue("pearce-ducks")
    bot = CountingBot()
    broadcaster = Broadcaster(outbox, bot, storyteller, salt=b"t", rate=0, senders=senders)  # type: ignore[arg-type]
    await broadcaster.drain(until_idle=True)
    assert sorted(bot.sent) == list(range(1, FANS + 1))
    outbox.close()
    return bot.most


@pytest.mark.parametrize(("senders", "most"), [(None, SENDERS), (1, 1), (6, 6)])
async def test_no_more_sends_at_once_than_asked(
    tmp_path: Path, storyteller: Storyteller, senders: int | None, most: int
) -> None:
    assert await _most_at_once(tmp_path, storyteller, senders) == most


def test_the_pace_decides_when_nobody_does() -> None:
    assert in_flight(0) == in_flight(25) == SENDERS == 4  # the free pace
    assert in_flight(1000) == 150  # a paid pace: 0.15 s round trips


def test_the_setting_is_read() -> None:
    assert Settings.from_env({"BROADCAST_IN_FLIGHT": "1"}, dotenv=Path("/nonexistent/.env")).broadcast_in_flight == 1
    assert Settings.from_env({}, dotenv=Path("/nonexistent/.env")).broadcast_in_flight == 0
