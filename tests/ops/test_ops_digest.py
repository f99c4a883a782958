"""The moderators' digest: batched, short, escaped, and silent when there is nothing."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from ops_support import ex

from bot.catalog.problems import Problem
from bot.ops.digest import Digest
from bot.replies.html import MESSAGE_LIMIT, html_problems


class Outbox:
    """An async `send` that keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def __call__(self, text: str) -> None:
        self.sent.append(text)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_fifty_misses_make_one_digest_within_the_limit() -> None:
    digest, outbox = Digest(interval=60), Outbox()
    for i in range(50):
        digest.record(ex(i, f"how do I get a refund for order {i % 7}", "fallback", user=i))
    assert await digest.flush(outbox)
    (text,) = outbox.sent
    assert len(text) <= MESSAGE_LIMIT
    assert html_problems(text) == []  # valid Telegram HTML
    assert "<b>50 misses</b> (0 “did you mean”, 50 no match); top:" in text
    assert re.search(r"• 8× <i>how do I get a refund for order 0</i>", text)
    assert "… and 2 other phrasings." in text
    assert not await digest.flush(outbox)  # everything went in that one message


async def test_nothing_to_say_sends_nothing() -> None:
    digest, outbox = Digest(), Outbox()
    digest.record(ex(1, "bobby pearce", "story", "pearce-ducks"))
    digest.record(ex(2, "hello", "smalltalk"))
    assert not digest.pending()
    assert not await digest.flush(outbox)
    assert outbox.sent == []


async def test_long_questions_are_cut_and_html_escaped() -> None:
    digest, outbox = Digest(), Outbox()
    digest.record(ex(1, "<b>bold</b> & <a href='x'>link</a> " + "very long " * 100, "fallback"))
    digest.record(ex(2, "line one\nline two", "clarify"))
    await digest.flush(outbox)
    (text,) = outbox.sent
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href=&#39;x&#39;&gt;link&lt;/a&gt;" in text
    assert "<a href" not in text and "<b>bold" not in text
    assert "line one\\nline two" in text
    longest = max(re.findall(r"<i>(.*?)</i>", text), key=len)
    assert len(longest) <= 160 and longest.endswith("…")
    assert html_problems(text) == []


async def test_thousands_of_distinct_long_misses_still_fit() -> None:
    digest, outbox = Digest(), Outbox()
    for i in range(3000):
        digest.record(ex(i, f"{i} " + "<&>" * 200, "fallback"))
        digest.record(ex(i, "x", "error", error=f"Error {i}: " + "<" * 400))
    digest.add_problems(
        [Problem(Path(f"/s/story-{i}.yaml"), i, "questions", "<bad>" * 60, "fix it") for i in range(40)]
    )
    await digest.flush(outbox)
    (text,) = outbox.sent
    assert len(text) <= MESSAGE_LIMIT and html_problems(text) == []
    assert "<b>3000 misses</b>" in text and "<b>3000 errors</b>" in text


async def test_errors_and_rejected_edits_are_reported() -> None:
    digest, outbox = Digest(root=Path("/srv/bot")), Outbox()
    digest.record(ex(1, "hello", "error", error="TimedOut: send_message\ntraceback..."))
    digest.record(ex(2, "hello", "error", error="TimedOut: send_message\ntraceback..."))
    problem = Problem(
        Path("/srv/bot/stories/pearce-ducks.yaml"), 6, "questions", "YAML syntax: unclosed [", "close the ["
    )
    digest.add_problems([problem])
    await digest.flush(outbox)
    (text,) = outbox.sent
    assert "<b>2 errors</b>:" in text and "• 2× <code>TimedOut: send_message</code>" in text
    assert "A catalogue edit was rejected" in text
    assert "<code>stories/pearce-ducks.yaml:6: error: questions: YAML syntax: unclosed [" in text
    assert "misses" not in text


async def test_at_most_one_digest_per_interval() -> None:
    clock = Clock()
    digest, outbox = Digest(interval=60, clock=clock), Outbox()
    digest.record(ex(1, "refund", "fallback"))
    assert await digest.flush(outbox)
    digest.record(ex(2, "refund again", "fallback"))
    clock.now += 59
    assert not await digest.flush(outbox)  # too soon: it waits
    clock.now += 1
    assert await digest.flush(outbox)
    assert len(outbox.sent) == 2 and "refund again" in outbox.sent[1]


async def test_the_run_loop_flushes_every_interval() -> None:
    digest, outbox = Digest(interval=60), Outbox()
    ticks = asyncio.Queue[float]()
    sent = asyncio.Event()

    async def sleep(seconds: float) -> None:
        await ticks.put(seconds)
        if ticks.qsize() > 1:
            sent.set()
            await asyncio.Event().wait()  # park: the test stops the loop

    digest.record(ex(1, "refund", "fallback"))
    task = asyncio.create_task(digest.run(outbox, sleep=sleep))
    await asyncio.wait_for(sent.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ticks.get_nowait() == 60
    assert len(outbox.sent) == 1


async def test_a_failing_send_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def down(text: str) -> None:
        raise ConnectionError("telegram is down")

    digest = Digest()
    digest.record(ex(1, "refund", "fallback"))
    assert not await digest.flush(down)
    assert "could not send the moderators' digest" in caplog.text


async def test_start_and_stop_flush_what_is_left() -> None:
    digest, outbox = Digest(interval=3600), Outbox()
    digest.start(outbox)
    digest.record(ex(1, "refund", "fallback"))
    await digest.stop(outbox)
    assert len(outbox.sent) == 1
