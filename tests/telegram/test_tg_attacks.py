"""Issue 15's attacks on the Telegram front end, each run against the local fake Bot API server."""

from __future__ import annotations

import asyncio
import contextlib
import io
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
from fakebot import BOT_USER, TOKEN, FakeTelegram
from telegram import Update
from test_attack_templates import TIME_BOMB
from test_tg_cli import sigterm_when, storybot  # tests/ is on the path (conftest.py)
from tg_support import GROUP, STORIES, MakeBot, MakeOffline, Offline, free_port, polling, until, webhook

from bot.commands.run import REJECTED
from bot.config import Secret, Settings
from bot.live import CatalogStore
from bot.ops.admin import AdminCommands
from bot.ops.blocklist import Blocklist
from bot.ops.digest import Digest
from bot.ops.exchange import Exchange
from bot.ops.logfile import FileSink
from bot.telegram import webhook as webhook_module
from bot.telegram.admin import admin_registrar
from bot.telegram.delivery import RetryingRateLimiter
from bot.telegram.logging_setup import configure_logging
from bot.telegram.persistence import SQLitePersistence

PRIVATE_FAN = 4242


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


# --- privacy -------------------------------------------------------------------------------------


async def test_a_blocked_fans_words_are_never_stored(make_offline: MakeOffline) -> None:
    bot = await make_offline(blocked=lambda key: True)
    update_id = await bot.feed(bot.updates.make_message(PRIVATE_FAN, "my phone number is 555 0199"))
    (exchange,) = bot.sink.for_update(update_id)
    assert exchange.outcome == "blocked" and exchange.question == ""


async def test_a_failing_update_is_logged_without_names_ids_or_words(
    make_offline: MakeOffline, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await make_offline()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the core failed")

    monkeypatch.setattr(bot.teller, "answer", broken)
    caplog.set_level(logging.DEBUG)
    update = bot.updates.make_message(PRIVATE_FAN, "secret words", first_name="Zelda", username="zelda_fan")
    await bot.feed(update)
    # Ours at every level; the libraries' at WARNING and above (configure_logging keeps them there).
    ours = [r for r in caplog.records if r.name.startswith("bot.") or r.levelno >= logging.WARNING]
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in ours)
    assert "the core failed" in logged  # the failure itself is logged
    for private in ("secret words", "Zelda", "zelda_fan", str(PRIVATE_FAN)):
        assert private not in logged


def test_library_loggers_stay_at_warning_unless_debug_is_asked(root_logging: None) -> None:
    configure_logging("INFO", stream=io.StringIO())
    assert logging.getLogger("telegram.ext.Application").getEffectiveLevel() == logging.WARNING
    configure_logging("DEBUG", stream=io.StringIO())
    assert logging.getLogger("telegram.ext.Application").getEffectiveLevel() == logging.DEBUG


def test_a_lone_surrogate_does_not_drop_the_exchange_record(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "exchanges.jsonl")
    sink.record(Exchange(1, "private", "c_1", "u_1", "en", "ducks \ud800 please", "fallback"))
    sink.close()
    (line,) = (tmp_path / "exchanges.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["question"] == "ducks ? please"


class _FullDisk:
    """A state database on a full disk: every statement fails as SQLite says it then."""

    def __init__(self, real: sqlite3.Connection) -> None:
        self.real = real

    def execute(self, *args: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    def close(self) -> None:
        self.real.close()


async def test_a_full_disk_costs_one_warning_not_a_traceback_per_update(
    make_offline: MakeOffline, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await make_offline(settings)
    persistence = bot.app.persistence
    assert isinstance(persistence, SQLitePersistence)
    persistence._db = _FullDisk(persistence._db)  # type: ignore[assignment]
    for n in range(5):
        await _through_the_processor(bot, bot.updates.make_message(PRIVATE_FAN + n, "who let the ducks cross"))
    assert all(bot.request.texts_to(PRIVATE_FAN + n) for n in range(5))  # every fan answered
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("bot.")]
    assert len(warnings) == 1 and "Could not write the state file" in warnings[0].getMessage()
    assert not any(r.exc_info for r in warnings)
    await persistence.flush()  # what SIGTERM does last: no exception


# --- smaller ones --------------------------------------------------------------------------------


async def test_a_deep_link_to_no_story_counts_for_no_campaign(make_offline: MakeOffline) -> None:
    bot = await make_offline()
    update_id = await bot.feed(bot.updates.make_command(PRIVATE_FAN, "/start spring__no-such-story"))
    (exchange,) = bot.sink.for_update(update_id)
    assert exchange.campaign is None


async def test_a_text_mention_of_the_bot_is_taken_out_of_the_question(make_offline: MakeOffline) -> None:
    bot = await make_offline()
    mention = {"type": "text_mention", "offset": 0, "length": 8, "user": BOT_USER}
    update = bot.updates.make_message(
        GROUP, "Storybot who let the ducks cross", chat_type="supergroup", user_id=501, entities=[mention]
    )
    update_id = await bot.feed(update)
    (exchange,) = bot.sink.for_update(update_id)
    assert exchange.question == "who let the ducks cross"


async def test_an_admin_command_in_a_group_is_answered_privately(make_offline: MakeOffline, tmp_path: Path) -> None:
    store = CatalogStore.open(STORIES, meaning_model="none")
    admin = AdminCommands(
        [501], store=store, blocklist=Blocklist(tmp_path / "blocklist.json"), log_path=tmp_path / "x.jsonl"
    )
    bot = await make_offline(registrars=[admin_registrar(admin)])
    await bot.feed(bot.updates.make_command(GROUP, "/stats", chat_type="supergroup", user_id=501))
    assert bot.request.texts_to(GROUP) == []
    assert bot.request.texts_to(501)


@pytest.mark.parametrize("mode", ["--polling", "--webhook"])
def test_a_rejected_token_is_one_line_without_a_traceback(mode: str, server: FakeTelegram, tmp_path: Path) -> None:
    done = storybot(
        "run",
        mode,
        cwd=tmp_path,
        TELEGRAM_BOT_TOKEN="987654321:" + "B" * 35,  # the right shape, unknown to the fake: 401
        TELEGRAM_BASE_URL=server.base_url,
        WEBHOOK_URL="https://bot.example.com/hook",
        WEBHOOK_SECRET="hook_secret_42",
        PORT=str(free_port()),
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.rstrip().endswith(REJECTED)


def test_sigterm_while_the_webhook_is_being_set_is_a_clean_exit(server: FakeTelegram, tmp_path: Path) -> None:
    server.fail_next("setWebhook", "server_error", count=10)  # Telegram down: the bot keeps trying
    started: list[float] = []

    def setting_the_webhook() -> None:
        server.wait_for_calls("setWebhook", answered=True)
        started.append(time.monotonic())

    code, stderr = sigterm_when(
        setting_the_webhook,
        tmp_path,
        "--webhook",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=server.base_url,
        STORYBOT_DATA_DIR=str(tmp_path / "data"),
        WEBHOOK_URL="https://bot.example.com/hook",
        WEBHOOK_SECRET="hook_secret_42",
        PORT=str(free_port()),
    )
    assert code == 0, stderr
    assert time.monotonic() - started[0] < 5
    assert "Traceback" not in stderr
