"""Fan handles in digests, blocked fans counted apart from their messages (the Telegram side:
test_ops_admin_telegram.py)."""

from __future__ import annotations

from ops_support import ex, fan

from bot.ops.admin import stats_text
from bot.ops.digest import Digest
from bot.ops.fans import handle, mentioned, resolve
from bot.ops.report import summarise
from bot.replies.html import html_problems


def test_a_handle_is_the_key_shortened_and_names_one_fan() -> None:
    key = fan(3)
    assert key.startswith("u_") and handle(key) == key[2:10]
    assert resolve(handle(key), [fan(1), key, fan(5)]) == key
    assert resolve(key, []) == key  # a full key needs no lookup
    assert resolve("zzzzzzzz", [key]) is None and resolve(handle(key), []) is None
    assert mentioned(f"• 2× <i>x</i> · fan {handle(key)} /block_{handle(key)}") == [handle(key)]


async def test_each_digest_item_names_its_fan_and_how_to_block_them() -> None:
    digest, sent = Digest(interval=60), []

    async def send(text: str) -> None:
        sent.append(text)

    digest.record(ex(1, "where is my parcel", "fallback", user=7))
    digest.record(ex(2, "where is my parcel", "fallback", user=8))
    digest.record(ex(3, "refund please", "fallback", user=9))
    assert await digest.flush(send)
    (text,) = sent
    assert html_problems(text) == []
    parcel = next(line for line in text.splitlines() if "parcel" in line)
    assert f"/block_{handle(fan(7))}" in parcel and f"/block_{handle(fan(8))}" in parcel
    refund = next(line for line in text.splitlines() if "refund" in line)
    assert mentioned(refund) == [handle(fan(9))]


def test_stats_count_blocked_fans_and_their_messages_apart() -> None:
    records = [ex(i, "spam", "blocked", user=1 + i % 2) for i in range(5)] + [ex(9, "ducks", "story", "pearce-ducks")]
    report = summarise(records)
    assert (report.blocked, report.blocked_fans) == (5, 2)
    assert "Blocked fans: 2 · their messages: 5" in stats_text(report, 86400)
