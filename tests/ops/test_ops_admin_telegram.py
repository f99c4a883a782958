"""Admin commands in the real application, offline: admins get answers, everyone else the usual."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fakebot import OfflineRequest
from ops_support import T0, fixture_records, write_log
from telegram import Update

from bot.config import Secret, Settings
from bot.live import CatalogStore
from bot.ops.admin import COMMANDS, AdminCommands
from bot.ops.blocklist import Blocklist
from bot.ops.exchange import pseudonym
from bot.ops.fans import handle
from bot.telegram.admin import admin_registrar, moderator_sender
from bot.telegram.app import build_application
from bot.telegram.context import App

TOKEN = "123456:TEST-token"
BOT = {"id": 123456, "is_bot": True, "first_name": "Storybot", "username": "storybot_test_bot"}
ADMIN = 111
FAN = 222


class Bot:
    """The application with the admin commands registered, fed updates by hand."""

    def __init__(self, app: App, request: OfflineRequest, admin: AdminCommands, settings: Settings) -> None:
        self.app, self.request, self.admin, self.settings = app, request, admin, settings
        self._updates = itertools.count(1)

    async def say(self, user_id: int, text: str, **extra: Any) -> list[str]:
        """Send a private message from `user_id` (`extra`: other message fields); return what the bot answered."""
        before = len(self.request.texts_to(user_id))
        update_id = next(self._updates)
        message: dict[str, Any] = {
            "message_id": update_id,
            "date": int(T0),
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Someone"},
            "text": text,
            **extra,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        await self.app.process_update(Update.de_json({"update_id": update_id, "message": message}, self.app.bot))
        return self.request.texts_to(user_id)[before:]

    def key(self, user_id: int) -> str:
        """The fan's pseudonymous key, as the log shows it."""
        return pseudonym(self.settings.log_salt.get().encode(), "user", user_id)


@pytest.fixture
async def bot(tmp_path: Path, catalog_copy: Path) -> AsyncIterator[Bot]:
    """An initialised offline bot with ADMIN as its only admin."""
    settings = Settings(
        token=Secret(TOKEN),
        stories_dir=catalog_copy,
        data_dir=tmp_path / "var",
        log_salt=Secret("test-salt"),
        admin_ids=frozenset({ADMIN}),
    )
    store = CatalogStore.open(catalog_copy)
    blocklist = Blocklist(tmp_path / "var" / "blocklist.json")
    admin = AdminCommands(
        settings.admin_ids,
        store=store,
        blocklist=blocklist,
        log_path=write_log(tmp_path / "var" / "exchanges.jsonl", fixture_records()),
        clock=lambda: T0 + 5 * 3600,
    )
    request = OfflineRequest(bot_user=BOT)
    app = build_application(settings, store, registrars=[admin_registrar(admin)], request=request, blocked=blocklist)
    await app.initialize()
    try:
        yield Bot(app, request, admin, settings)
    finally:
        await app.shutdown()


@pytest.mark.parametrize("command", COMMANDS)
async def test_every_admin_command_is_unknown_to_a_fan(bot: Bot, command: str) -> None:
    unknown = await bot.say(FAN, "/nosuchcommand")
    answer = await bot.say(FAN, f"/{command} {bot.key(FAN)}")
    assert unknown and answer == unknown  # exactly what any command the bot does not know gets
    assert bot.admin.blocklist.keys() == frozenset()
    assert bot.admin.store.generation == 1


async def test_admins_get_their_answers(bot: Bot) -> None:
    (stats,) = await bot.say(ADMIN, "/stats")
    assert stats.startswith("<b>Last 1d</b>") and "Exchanges: 42" in stats
    (misses,) = await bot.say(ADMIN, "/misses 7d")
    assert "<b>Misses, last 7d</b>: 17 in 6 groups" in misses
    (reload,) = await bot.say(ADMIN, "/reload")
    assert reload == "✅ Catalogue reloaded (generation 2)."


async def test_a_blocked_fan_gets_no_replies(bot: Bot) -> None:
    assert await bot.say(FAN, "bobby pearce")  # answered
    (blocked,) = await bot.say(ADMIN, f"/block {bot.key(FAN)}")
    assert blocked.startswith("Blocked <code>u_")
    assert await bot.say(FAN, "bobby pearce") == []
    assert await bot.say(FAN, "/start") == []
    await bot.say(ADMIN, f"/unblock {bot.key(FAN)}")
    assert await bot.say(FAN, "bobby pearce")


async def test_the_digest_goes_to_the_moderators_chat_as_html(bot: Bot) -> None:
    send = moderator_sender(bot.app, -100123)
    await send("<b>1 miss</b>")
    (call,) = [p for p in bot.request.to("sendMessage") if int(p["chat_id"]) == -100123]
    assert call["text"] == "<b>1 miss</b>" and call["parse_mode"] == "HTML"


# --- moderating from the chat: handles, taps, replies, private answers -------------------------

GROUP = -100777


async def test_misses_name_fans_and_a_tap_on_their_handle_blocks_them(bot: Bot) -> None:
    (misses,) = await bot.say(ADMIN, "/misses 7d")
    handles = re.findall(r"/block_([0-9a-f]{8})", misses)
    assert handles, misses
    (answer,) = await bot.say(ADMIN, f"/block_{handles[0]}")
    [key] = bot.admin.blocklist.keys()
    assert handle(key) == handles[0] and answer.startswith(f"Blocked <code>{key}</code>")


async def test_block_takes_a_handle_or_a_reply_to_a_digest_item(bot: Bot) -> None:
    (misses,) = await bot.say(ADMIN, "/misses 7d")
    first, second = list(dict.fromkeys(re.findall(r"/block_([0-9a-f]{8})", misses)))[:2]
    await bot.say(ADMIN, f"/block {first}")
    digest_item = {
        "message_id": 5,
        "date": int(T0),
        "chat": {"id": ADMIN, "type": "private"},
        "text": (f"• 2× where is my parcel · fan {second} /block_{second}"),
        "from": {"id": 1, "is_bot": True, "first_name": "Storybot"},
    }
    await bot.say(ADMIN, "/block", reply_to_message=digest_item)
    assert {handle(k) for k in sorted(bot.admin.blocklist.keys())} == {first, second}


async def test_admin_commands_in_a_group_answer_in_private(bot: Bot) -> None:
    group = {"id": GROUP, "type": "supergroup", "title": "Mods"}
    await bot.say(ADMIN, "/stats", chat=group)
    assert bot.request.texts_to(GROUP) == []  # the figures never reach the group
    (stats,) = bot.request.texts_to(ADMIN)
    assert "Exchanges:" in stats
