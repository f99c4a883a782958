"""Issue 15's attacks on the Telegram front end, each run against the local fake Bot API server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import socket
import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakebot import FakeTelegram
from telegram import Update
from test_attack_templates import TIME_BOMB  # tests/ is on the path (conftest.py)
from tg_support import GROUP, STORIES, MakeBot, MakeOffline, Offline, free_port, polling, webhook

from bot.config import Secret, Settings
from bot.live import CatalogStore
from bot.ops.digest import Digest
from bot.telegram import webhook as webhook_module
from bot.telegram.delivery import RetryingRateLimiter
from bot.telegram.persistence import SQLitePersistence

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


def _damage(path: Path, how: str) -> None:
    good = SQLitePersistence(path)
    asyncio.run(good.update_user_data(42, {"lang": "zh"}))
    asyncio.run(good.flush())
    if how == "random-bytes":
        path.write_bytes(bytes(range(256)) * 64)
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    elif how == "directory":
        path.unlink()
        path.mkdir()
        (path / "inside").write_text("x")
    else:
        db = sqlite3.connect(path)
        statements = {
            "bad-json-row": "INSERT INTO data VALUES ('user', '43', '{not json')",
            "non-integer-key": "INSERT INTO data VALUES ('chat', '\"abc\"', '{}')",
            "changed-schema": "ALTER TABLE data ADD COLUMN extra TEXT",
        }
        db.execute(statements[how])
        db.commit()
        db.close()


@pytest.mark.parametrize(
    "how", ["random-bytes", "truncated", "bad-json-row", "non-integer-key", "changed-schema", "directory"]
)
def test_a_damaged_state_file_is_set_aside_and_the_bot_starts_afresh(
    how: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.sqlite3"
    _damage(path, how)
    persistence = SQLitePersistence(path)
    assert persistence.set_aside is not None and persistence.set_aside.exists()
    assert asyncio.run(persistence.get_user_data()) == {}
    asyncio.run(persistence.update_user_data(7, {"lang": "en"}))
    assert asyncio.run(persistence.get_user_data()) == {7: {"lang": "en"}}
    assert any("moved it to" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    digest = Digest()
    for notice in persistence.damage_report():
        digest.add_notice(notice)
    assert persistence.set_aside.name in (digest.take() or "")


async def _through_the_processor(offline: Offline, update: dict[str, Any]) -> None:
    """Process one update as the running application does: through the update processor."""
    parsed = Update.de_json(update, offline.app.bot)
    await offline.app.update_processor.process_update(parsed, offline.app.process_update(parsed))


async def test_an_update_sent_again_after_a_restart_is_not_answered_twice(
    make_offline: MakeOffline, settings: Settings
) -> None:
    first = await make_offline(settings)
    update = first.updates.make_message(PRIVATE_FAN, "who let the ducks cross")
    await _through_the_processor(first, update)
    assert len(first.request.texts_to(PRIVATE_FAN)) == 1
    # No shutdown: as after kill -9. Telegram sends the unconfirmed update to the next process.
    second = await make_offline(settings)
    await _through_the_processor(second, update)
    assert second.request.texts_to(PRIVATE_FAN) == []


async def test_a_language_choice_is_on_disk_as_soon_as_it_is_handled(
    make_offline: MakeOffline, settings: Settings
) -> None:
    bot = await make_offline(settings)
    await _through_the_processor(bot, bot.updates.make_callback_query(PRIVATE_FAN, "l:zh"))
    # Read by another connection while the bot still runs, as a process after kill -9 would.
    db = sqlite3.connect(settings.state_db)
    try:
        rows = db.execute("SELECT value FROM data WHERE kind = 'user' AND key = ?", (str(PRIVATE_FAN),)).fetchall()
    finally:
        db.close()
    assert rows and json.loads(rows[0][0])["lang"] == "zh"


# --- the webhook server ---------------------------------------------------------------------------


def _hooked(online: Settings) -> Settings:
    return replace(
        online, webhook_url="https://storybot.example/hook", webhook_secret=Secret("s3cret"), port=free_port()
    )


def _raw(port: int, request: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes and read the answer until the server closes or stops talking."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        answer = b""
        with contextlib.suppress(TimeoutError, ConnectionError):
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        return answer


def _post_head(length: int, secret: str | None) -> bytes:
    lines = ["POST /hook HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json", f"Content-Length: {length}"]
    if secret is not None:
        lines.append(f"X-Telegram-Bot-Api-Secret-Token: {secret}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_the_webhook_refuses_a_huge_post_from_its_headers(
    server: FakeTelegram, make_bot: MakeBot, online: Settings
) -> None:
    settings = _hooked(online)
    async with webhook(make_bot(settings), settings):
        started = time.monotonic()
        no_secret = await asyncio.to_thread(_raw, settings.port, _post_head(90_000_000, None))
        too_big = await asyncio.to_thread(_raw, settings.port, _post_head(90_000_000, "s3cret"))
        assert time.monotonic() - started < 3  # answered without waiting for 90 MB that never come
        health = await asyncio.to_thread(_raw, settings.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert no_secret.startswith(b"HTTP/1.1 403")
    assert too_big.startswith(b"HTTP/1.1 413")
    assert health.startswith(b"HTTP/1.1 200")


async def test_the_webhook_holds_a_bounded_number_of_connections(
    server: FakeTelegram, make_bot: MakeBot, online: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook_module._LimitedServer, "max_connections", 5)
    servers: list[Any] = []
    original = webhook_module._LimitedServer.handle_stream

    def counting(self: Any, stream: Any, address: Any) -> None:
        servers.append(self)
        original(self, stream, address)

    monkeypatch.setattr(webhook_module._LimitedServer, "handle_stream", counting)
    settings = _hooked(online)
    async with webhook(make_bot(settings), settings):
        held = [socket.create_connection(("127.0.0.1", settings.port), timeout=5) for _ in range(5)]
        try:
            await until(lambda: servers and len(servers[0]._connections) == 5, 5, "five connections open")
            extra = await asyncio.to_thread(_raw, settings.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert extra == b""  # closed at once, unanswered
        finally:
            for sock in held:
                sock.close()
        await until(lambda: not servers[0]._connections, 5, "the held connections closed")
        again = await asyncio.to_thread(_raw, settings.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert again.startswith(b"HTTP/1.1 200")
