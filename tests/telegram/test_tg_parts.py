"""The small parts on their own: flood control, persistence, ordering, retries, run options."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

from bot.config import Secret, Settings
from bot.telegram.app import ALLOWED_UPDATES, polling_options, webhook_options
from bot.telegram.delivery import ChatOrderedProcessor, RetryingRateLimiter
from bot.telegram.guard import FloodControl, FloodVerdict
from bot.telegram.handlers import describe
from bot.telegram.persistence import SQLitePersistence


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- flood control ------------------------------------------------------------------------------


def test_flood_allows_the_limit_then_one_notice_then_silence_until_the_window_passes() -> None:
    clock = Clock()
    flood = FloodControl(limit=3, window=10, clock=clock)
    verdicts = [flood.check("fan") for _ in range(6)]
    assert verdicts == [FloodVerdict.PASS] * 3 + [FloodVerdict.NOTICE] + [FloodVerdict.DROP] * 2
    assert flood.check("someone else") is FloodVerdict.PASS
    clock.now += 9.9
    assert flood.check("fan") is FloodVerdict.DROP
    clock.now += 0.2
    assert flood.check("fan") is FloodVerdict.PASS
    assert [flood.check("fan") for _ in range(3)] == [
        FloodVerdict.PASS,
        FloodVerdict.PASS,
        FloodVerdict.NOTICE,  # a new flood gets a new notice
    ]


def test_button_taps_have_their_own_looser_budget() -> None:
    clock = Clock()
    flood = FloodControl(limit=3, window=10, clock=clock)
    assert [flood.check("fan") for _ in range(4)][-1] is FloodVerdict.NOTICE
    # A fan over the message limit can still turn pages, once a second or faster.
    taps = []
    for _ in range(flood.tap_limit):
        taps.append(flood.check("fan", tap=True))
        clock.now += 0.5
    assert taps == [FloodVerdict.PASS] * flood.tap_limit and flood.tap_limit > 3
    assert flood.check("fan", tap=True) is FloodVerdict.NOTICE  # a hundred taps a second is still a flood


@given(
    limit=st.integers(1, 6),
    gaps=st.lists(st.floats(0, 4, allow_nan=False), min_size=1, max_size=60),
)
def test_flood_never_lets_more_than_the_limit_through_in_any_window(limit: int, gaps: list[float]) -> None:
    clock = Clock()
    flood = FloodControl(limit=limit, window=5, clock=clock)
    passed: list[float] = []
    verdicts: list[FloodVerdict] = []
    for gap in gaps:
        clock.now += gap
        verdicts.append(flood.check(1))
        if verdicts[-1] is FloodVerdict.PASS:
            passed.append(clock.now)
            assert sum(1 for t in passed if t > clock.now - 5) <= limit
    # Every run of refused messages starts with exactly one notice; the rest are dropped.
    runs = "".join("." if v is FloodVerdict.PASS else v.value[0] for v in verdicts).split(".")
    assert all(run == "" or run == "n" + "d" * (len(run) - 1) for run in runs)


def test_flood_forgets_quiet_fans() -> None:
    clock = Clock()
    flood = FloodControl(limit=2, window=1, clock=clock)
    for fan in range(2000):
        flood.check(fan)
        clock.now += 0.01
    assert len(flood) < 2000


# --- persistence --------------------------------------------------------------------------------


async def test_persistence_round_trips_json_and_creates_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state.sqlite3"
    first = SQLitePersistence(path)
    await first.update_user_data(42, {"lang": "zh", "last_story": "pearce-ducks"})
    await first.update_chat_data(-100, {"seen": [1, 2]})
    await first.update_bot_data({"started": 3})
    await first.update_conversation("talk", (42, 42), "asking")
    await first.update_user_data(7, {"lang": "en"})
    await first.drop_user_data(7)
    await first.update_user_data(8, {"not json": object()})  # skipped, not fatal
    await first.flush()

    again = SQLitePersistence(path)
    assert await again.get_user_data() == {42: {"lang": "zh", "last_story": "pearce-ducks"}}
    assert await again.get_chat_data() == {-100: {"seen": [1, 2]}}
    assert await again.get_bot_data() == {"started": 3}
    assert await again.get_conversations("talk") == {(42, 42): "asking"}
    assert await again.get_callback_data() is None
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    await again.flush()


# --- ordering -----------------------------------------------------------------------------------


def _message_update(update_id: int, chat_id: int) -> Update:
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": chat_id, "type": "private"},
                "text": "hi",
            },
        },
        None,
    )


async def test_updates_of_one_chat_keep_their_order_while_other_chats_go_ahead() -> None:
    processor = ChatOrderedProcessor(8)
    done: list[tuple[int, int]] = []
    release_first = asyncio.Event()

    async def handle(update_id: int, chat: int) -> None:
        if update_id == 1:
            await release_first.wait()
        done.append((chat, update_id))

    tasks = [
        asyncio.create_task(processor.process_update(_message_update(i, chat), handle(i, chat)))
        for i, chat in [(1, 10), (2, 10), (3, 20), (4, 10)]
    ]
    await tasks[2]  # the other chat is not held up by chat 10's slow first update
    assert done == [(20, 3)]
    release_first.set()
    await asyncio.gather(*tasks)
    assert [u for chat, u in done if chat == 10] == [1, 2, 4]


# --- retries ------------------------------------------------------------------------------------


class Flaky:
    """A Bot API call that fails with the given errors first."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> bool:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return True


async def _send(limiter: RetryingRateLimiter, call: Flaky) -> Any:
    return await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 1}, None)


async def test_network_failures_are_retried_a_bounded_number_of_times() -> None:
    limiter = RetryingRateLimiter(network_retries=2, backoff=0.001)
    flaky = Flaky(NetworkError("Internal Server Error"), TimedOut())
    assert await _send(limiter, flaky) is True
    assert flaky.calls == 3
    hopeless = Flaky(*[NetworkError("down")] * 5)
    with pytest.raises(NetworkError):
        await _send(limiter, hopeless)
    assert hopeless.calls == 3


@pytest.mark.parametrize("error", [BadRequest("Bad Request: can't parse entities"), Forbidden("x")])
async def test_the_requests_own_faults_are_not_retried(error: Exception) -> None:
    flaky = Flaky(error)
    with pytest.raises(type(error)):
        await _send(RetryingRateLimiter(backoff=0.001), flaky)
    assert flaky.calls == 1


# --- running options and error reports ---------------------------------------------------------


def test_webhook_options_listen_on_the_urls_path_with_the_secret() -> None:
    settings = Settings(webhook_url="https://bot.example.com/tg/hook", webhook_secret=Secret("abc_DEF-1"), port=8080)
    options = webhook_options(settings)
    assert options["url_path"] == "tg/hook"
    assert options["port"] == 8080
    assert options["secret_token"] == "abc_DEF-1"
    assert options["webhook_url"] == settings.webhook_url
    assert options["allowed_updates"] == polling_options()["allowed_updates"]
    assert "edited_message" not in ALLOWED_UPDATES


def test_describe_names_the_update_never_what_it_holds() -> None:
    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert describe(Hostile()) == "<Hostile>"
    assert describe("x" * 100_000) == "<str>"
    assert describe(_message_update(5, 1)) == "update 5 (message)"
