"""Issue 15's attacks on the Telegram front end, each run against the local fake Bot API server."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from pathlib import Path

import pytest
from fakebot import FakeTelegram
from test_attack_templates import TIME_BOMB  # tests/ is on the path (conftest.py)
from tg_support import GROUP, STORIES, MakeBot, polling

from bot.live import CatalogStore
from bot.telegram.delivery import RetryingRateLimiter

PRIVATE_FAN = 4242


async def until(predicate: object, timeout: float, what: str) -> None:
    """Poll predicate() every 20 ms without blocking the bot's loop."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


async def test_a_throttled_group_holds_back_no_private_fan(server: FakeTelegram, make_bot: MakeBot) -> None:
    # Telegram allows a group 20 messages a minute; here one a second, so the attack is quick.
    bot = make_bot(rate_limiter=RetryingRateLimiter(group_max_rate=1, group_time_period=1.0))
    members = range(601, 607)
    async with polling(bot):
        group_ids = [server.group_message(GROUP, "who let the ducks cross", mention=True, user_id=m) for m in members]
        await until(lambda: server.sent_messages(GROUP), 10, "the group's first reply")
        server.message(PRIVATE_FAN, "who let the ducks cross")
        await until(lambda: server.sent_messages(PRIVATE_FAN), 3, "the private fan's reply")
        answered_in_group = len(server.sent_messages(GROUP))
        assert answered_in_group < len(group_ids) - 2, "the private fan waited for the group"
        # The group's unanswered updates are not confirmed: a crash now would not lose them.
        pending = {u["update_id"] for u in server.pending_updates}
        assert group_ids[-1] in pending
        await until(lambda: len(server.sent_messages(GROUP)) == len(group_ids), 15, "every group reply")
        assert await server.async_wait_confirmed(group_ids[-1])
    assert len(server.sent_messages(GROUP)) == len(group_ids)  # each answered once
    assert len(server.sent_messages(PRIVATE_FAN)) == 1


async def test_an_update_the_library_cannot_read_is_logged_once_and_confirmed(
    server: FakeTelegram, make_bot: MakeBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_bot()
    async with polling(bot):
        await server.async_wait_polling()
        before = len(server.calls_to("getUpdates"))
        bad = server.push_update({"message": {"message_id": "not a number", "chat": "nowhere"}})
        good = server.message(PRIVATE_FAN, "who let the ducks cross")
        await until(lambda: server.sent_messages(PRIVATE_FAN), 5, "the reply after the unreadable update")
        assert await server.async_wait_confirmed(bad)
        assert await server.async_wait_confirmed(good)
        await asyncio.sleep(0.3)  # a wedged poller would ask ~30 more times meanwhile
        assert len(server.calls_to("getUpdates")) - before < 8
    skipped = [r for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(skipped) == 1 and skipped[0].levelno == logging.WARNING


async def test_a_template_time_bomb_costs_one_fan_one_reply(
    server: FakeTelegram, make_bot: MakeBot, tmp_path: Path
) -> None:
    root = tmp_path / "stories"
    shutil.copytree(STORIES, root)
    fallback = root / "templates" / "fallback.en.html.j2"
    fallback.write_text(fallback.read_text(encoding="utf-8") + TIME_BOMB, encoding="utf-8")
    store = CatalogStore.open(root, meaning_model="none")
    teller = store.storyteller()
    bot = make_bot(store=store)
    async with polling(bot):
        server.message(PRIVATE_FAN, "xyzzy plugh")
        server.message(PRIVATE_FAN + 1, "who let the ducks cross")
        await until(lambda: server.sent_messages(PRIVATE_FAN) and server.sent_messages(PRIVATE_FAN + 1), 5, "replies")
    assert server.sent_texts(PRIVATE_FAN) == [teller.notice("error", "en").text]
    assert server.sent_texts(PRIVATE_FAN + 1) == [teller.answer("who let the ducks cross", "en").text]
