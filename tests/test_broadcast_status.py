"""`storybot broadcast --status`: the progress bar's line, and following a broadcast to its end."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.broadcast.outbox import BLOCKED, SENT, Outbox, Progress
from bot.commands.broadcast import REFRESH, bar, status

STORY = "pearce-ducks"
RESUME = "storybot broadcast --resume"  # what the note about a stalled broadcast tells the marketer to run


def progress(number: int, *, sent: int = 0, blocked: int = 0, failed: int = 0, left: int = 0) -> Progress:
    """A broadcast's row as the outbox reports it."""
    return Progress(number, STORY, None, 0.0, sent, blocked, failed, left, 0)


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    """Four English subscribers and one broadcast to them, half of it sent (one delivered, one blocked)."""
    box = Outbox(tmp_path / "state.sqlite3")
    for fan in range(1, 5):
        box.subscribe(fan, "en")
    box.enqueue(STORY)
    send_one(box)
    send_one(box, BLOCKED)
    yield box
    box.close()


def send_one(outbox: Outbox, state: str = SENT) -> None:
    """What the sender does for the next delivery."""
    (delivery,) = outbox.claim(1)
    outbox.finish(delivery, state, message_id=delivery.chat_id)


def frames(out: io.StringIO) -> list[str]:
    """The bar as it was redrawn, one string per redraw (the table before it left out)."""
    return out.getvalue().split("\r")[1:]


def test_the_bar_of_a_half_done_broadcast() -> None:
    line = bar([progress(1, sent=3, blocked=1, failed=1, left=5)])
    assert line == "[###############...............] 5/10 · sent 3 · blocked 1 · failed 1 · left 5"


def test_the_bar_covers_the_broadcasts_still_running_or_else_the_last() -> None:
    done, running = progress(1, sent=8), progress(2, sent=1, left=3)
    assert bar([done, running]) == "[#######.......................] 1/4 · sent 1 · blocked 0 · failed 0 · left 3"
    assert bar([running, done]).endswith("1/4 · sent 1 · blocked 0 · failed 0 · left 3")
    assert bar([done]) == "[" + "#" * 30 + "] 8/8 · sent 8 · blocked 0 · failed 0 · left 0"
    assert bar([progress(3)]) == "[" + "#" * 30 + "] 0/0 · sent 0 · blocked 0 · failed 0 · left 0"  # no subscribers


def test_status_follows_a_running_broadcast_until_it_is_done(outbox: Outbox) -> None:
    assert outbox.take_lease()  # this process sends, as a running bot would
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # between two redraws the sender gets one more message out
        waits.append(seconds)
        send_one(outbox)

    out = io.StringIO()
    assert status(outbox, follow=True, out=out, sleep=sleep) == 0
    table = out.getvalue().split("\r")[0]
    (row,) = [line.split() for line in table.splitlines() if STORY in line]
    assert row == ["1", STORY, "all", "1", "1", "0", "2", "0"]  # sent, blocked, failed, left, doubtful
    assert table.splitlines()[-1] == "subscribers: 4 (en: 4)"
    assert frames(out) == [
        "[###############...............] 2/4 · sent 1 · blocked 1 · failed 0 · left 2",
        "[######################........] 3/4 · sent 2 · blocked 1 · failed 0 · left 1",
        "[##############################] 4/4 · sent 3 · blocked 1 · failed 0 · left 0\n",
    ]
    assert waits == [REFRESH, REFRESH]
    assert RESUME not in out.getvalue()


def test_status_does_not_wait_for_a_broadcast_nothing_is_sending(outbox: Outbox) -> None:
    def sleep(seconds: float) -> None:
        raise AssertionError("waited for a bar that cannot move")

    out = io.StringIO()
    assert status(outbox, follow=True, out=out, sleep=sleep) == 0
    assert frames(out) == [] and RESUME in out.getvalue()


def test_status_stops_following_when_the_sender_stops(outbox: Outbox) -> None:
    assert outbox.take_lease()

    def sleep(seconds: float) -> None:  # one more message, then the bot is stopped
        send_one(outbox)
        outbox.release_lease()

    out = io.StringIO()
    status(outbox, follow=True, out=out, sleep=sleep)
    *_, last = frames(out)
    shown, note = last.splitlines()
    assert shown == "[######################........] 3/4 · sent 2 · blocked 1 · failed 0 · left 1"
    assert RESUME in note


def test_status_without_a_terminal_prints_the_table_once(outbox: Outbox) -> None:
    assert outbox.take_lease()
    out = io.StringIO()
    status(outbox, follow=False, out=out)
    assert frames(out) == [] and RESUME not in out.getvalue()
    assert len([line for line in out.getvalue().splitlines() if STORY in line]) == 1


def test_status_before_any_broadcast(tmp_path: Path) -> None:
    empty = Outbox(tmp_path / "state.sqlite3")
    out = io.StringIO()
    status(empty, follow=True, out=out)
    empty.close()
    assert out.getvalue() == "no broadcast yet\n"
