"""Broadcasts through the fake Bot API: opt in and out, exactly once through faults and kills."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakebot import TOKEN, FakeTelegram
from tg_support import STORIES, MakeOffline, Offline, polling, until

from bot.broadcast.outbox import Outbox
from bot.broadcast.sender import SENDERS, Broadcaster
from bot.cli import main
from bot.config import Settings
from bot.live import CatalogStore
from bot.ops.exchange import Exchange, pseudonym
from bot.ops.logfile import to_line
from bot.ops.report import summarise
from bot.replies.subscriptions import broadcast_reply
from bot.telegram.app import build_bot
from bot.telegram.subscriptions import subscriptions_registrar

ROOT = Path(__file__).resolve().parents[2]
STORY = "pearce-ducks"


def _last(bot: Offline) -> dict[str, Any]:
    return bot.request.to("sendMessage")[-1]


def _markup(params: dict[str, Any]) -> str:
    markup = params.get("reply_markup") or ""
    return markup if isinstance(markup, str) else json.dumps(markup, ensure_ascii=False)


def _buttons(params: dict[str, Any]) -> list[str]:
    """The callback data of the buttons under a sent message, row by row."""
    rows = json.loads(_markup(params) or "{}").get("inline_keyboard", [])
    return [str(button["callback_data"]) for row in rows for button in row]


def _tap(bot: Offline, message: dict[str, Any], data: str) -> dict[str, Any]:
    """A fan's press on the button `data` under `message`, a message the bot sent them."""
    update = bot.updates.make_callback_query(int(message["chat"]["id"]), data)
    update["callback_query"]["message"] = message
    return update


# --- opting in and out ---------------------------------------------------------------------------


async def test_fans_opt_in_and_out_in_their_language(make_offline: object, settings: Settings) -> None:
    outbox = Outbox(settings.state_db)
    bot: Offline = await make_offline(registrars=[subscriptions_registrar(outbox)])  # type: ignore[operator]
    up = bot.updates
    # /start offers "🔔 New stories"; tapping it subscribes in the fan's language.
    await bot.feed(up.make_command(7, "/start"))
    start = _last(bot)
    assert "n:en:1" in _markup(start) and "New stories" in _markup(start)
    await bot.feed(up.make_callback_query(7, "n:en:1"))
    assert outbox.subscribers() == {"en": 1}
    assert "I'll send you each new story" in _last(bot)["text"]
    # A Chinese fan subscribes with the command, and is told in Chinese.
    await bot.feed(up.make_command(8, "/subscribe", language_code="zh-hans"))
    assert "有新故事时" in _last(bot)["text"]
    assert outbox.subscribers() == {"en": 1, "zh": 1}
    # Choosing another language moves the subscription with it.
    await bot.feed(up.make_callback_query(7, "l:zh"))
    assert outbox.subscribers() == {"zh": 2}
    await bot.feed(up.make_command(8, "/unsubscribe", language_code="zh-hans"))
    assert "不会再给你推送" in _last(bot)["text"]
    assert "n:zh:1" in _markup(_last(bot))  # may opt back in
    await bot.feed(up.make_command(8, "/unsubscribe", language_code="zh-hans"))
    assert "not subscribed" not in _last(bot)["text"]  # said in Chinese, not English
    assert outbox.subscribers() == {"zh": 1}
    # A subscriber is not offered the button again on /start.
    await bot.feed(up.make_command(7, "/start"))
    assert "n:" not in _markup(_last(bot))
    assert not [e for e in bot.sink.exchanges if e.kind == "broadcast_tap"]  # no broadcast, no taps on one
    outbox.close()


async def test_the_first_whole_story_offers_new_stories_once(make_offline: object, settings: Settings) -> None:
    outbox = Outbox(settings.state_db)
    bot: Offline = await make_offline(registrars=[subscriptions_registrar(outbox)])  # type: ignore[operator]
    await bot.feed(bot.updates.make_message(9, "who let the ducks cross"))
    assert "n:en:1" in _markup(_last(bot))
    await bot.feed(bot.updates.make_message(9, "tell me about the ice hockey team from kenya"))
    assert "n:en:1" not in _markup(_last(bot))
    outbox.close()


# --- what moderators see: each delivery and each tap in the log, the reach in the report ----------


async def test_each_delivery_and_tap_of_a_broadcast_is_logged_and_the_report_shows_its_reach(
    make_offline: MakeOffline, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outbox = Outbox(settings.state_db)
    for fan, lang in ((11, "en"), (12, "en"), (13, "zh")):
        outbox.subscribe(fan, lang)
    bot = await make_offline(registrars=[subscriptions_registrar(outbox)])
    outbox.enqueue(STORY)
    # One sender takes the chats in order: 11 blocked the bot, 12's chat is gone, 13 gets the story.
    bot.request.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    bot.request.fail_next("sendMessage", 400, "Bad Request: chat not found")
    salt = settings.log_salt.get().encode()
    sender = Broadcaster(outbox, bot.app.bot, bot.teller, salt=salt, rate=0, sinks=[bot.sink], senders=1)
    await sender.drain(until_idle=True)
    [broadcast] = bot.request.messages_to(13)
    buttons = _buttons(_last(bot))
    assert buttons[-1] == "n:zh:0"  # the one-tap unsubscribe under the story's own buttons
    # The fan taps a story under it (answered in a new message), then a button under that answer
    # (not the broadcast's), then unsubscribes under the broadcast.
    await bot.feed(_tap(bot, broadcast, buttons[0]))
    answer = bot.request.messages_to(13)[-1]
    assert answer["message_id"] != broadcast["message_id"]
    await bot.feed(_tap(bot, answer, _buttons(_last(bot))[0]))
    await bot.feed(_tap(bot, broadcast, "n:zh:0"))
    assert not outbox.is_subscribed(13)
    # Each delivery is an exchange, pseudonymous like the rest: the chat's key, never its id, and no fan key.
    deliveries = [e for e in bot.sink.exchanges if e.kind == "broadcast"]
    assert [(e.chat_key, e.outcome) for e in deliveries] == [
        (pseudonym(salt, "chat", 11), "bot_blocked"),
        (pseudonym(salt, "chat", 12), "failed"),
        (pseudonym(salt, "chat", 13), "delivered"),
    ]
    assert {(e.campaign, e.story, e.user_key) for e in deliveries} == {("broadcast-1", STORY, "")}
    taps = [e for e in bot.sink.exchanges if e.kind == "broadcast_tap"]
    assert [(e.question, e.campaign, e.chat_key) for e in taps] == [
        (buttons[0], "broadcast-1", pseudonym(salt, "chat", 13)),
        ("n:zh:0", "broadcast-1", pseudonym(salt, "chat", 13)),
    ]
    # `storybot report` and its HTML page show the reach: delivered, blocked, failed, taps.
    log = tmp_path / "exchanges.jsonl"
    log.write_text("".join(to_line(e) + "\n" for e in bot.sink.exchanges), encoding="utf-8")
    assert not re.search(r'"chat_key":"1[123]"', log.read_text())
    page = tmp_path / "report.html"
    assert main(["report", "--file", str(log), "--html", str(page)]) == 0
    text = capsys.readouterr().out
    (row,) = [line.split() for line in text.splitlines() if line.strip().startswith("broadcast-1")]
    assert row == ["broadcast-1", STORY, "1", "1", "1", "2"], text
    html = page.read_text(encoding="utf-8")
    table = re.search(r'<table id="broadcasts">(.*?)</table>', html, re.S)
    assert table is not None, "no broadcasts table in the page"
    (cells,) = [
        re.findall(r"<td[^>]*>(.*?)</td>", row)
        for row in re.findall(r"<tr class=\"broadcast\">(.*?)</tr>", table.group(1))
    ]
    assert cells == ["<code>broadcast-1</code>", f"<code>{STORY}</code>", "1", "1", "1", "2"]
    # A broadcast is not a deep-link campaign, and subscribers are not fans who asked: the one who tapped is.
    # Nor are deliveries exchanges with fans: the count holds the taps and the bot's answers to them.
    report = summarise(bot.sink.exchanges)
    assert (report.campaigns, report.questions, report.fans) == ((), 0, 1)
    assert report.exchanges == len(bot.sink.exchanges) - len(deliveries)
    outbox.close()


async def test_stats_in_the_moderators_chat_counts_subscribers_per_language_and_the_reach(
    server: FakeTelegram, online: Settings, shipped_store: CatalogStore
) -> None:
    admin, moderators, fans = 500, -100900, (21, 22, 23)
    settings = replace(online, admin_ids=frozenset({admin}), moderator_chat_id=moderators, broadcast_rate=0)
    app, _ = build_bot(settings, shipped_store)
    async with polling(app):  # the bot as `storybot run` assembles it
        for fan, app_lang in zip(fans, ("en", "en-GB", "zh-hans"), strict=True):
            server.command(fan, "/subscribe", language_code=app_lang)
        await server.async_wait_for(lambda: all(server.sent_texts(fan) for fan in fans), what="3 replies")
        server.command(moderators, "/stats", user_id=admin, chat_type="supergroup")
        [before] = await server.async_wait_for(lambda: server.sent_texts(admin), what="the /stats answer")
        # A marketer queues a story (as `storybot broadcast` does); the running bot sends it. Fan 22 blocked the bot.
        server.block_chat(22)
        queued = Outbox(settings.state_db)
        queued.enqueue(STORY)
        await until(lambda: queued.progress()[-1].done, 10, "the broadcast sent")  # the outbox, not a server call
        queued.close()
        server.command(moderators, "/stats", user_id=admin, chat_type="supergroup")
        [_, after] = await server.async_wait_for(lambda: server.sent_texts(admin)[1:] and server.sent_texts(admin))
    assert "Subscribers: 3 · en 2 · zh 1" in before.splitlines(), before
    assert "Broadcasts" not in before
    # The fan who blocked the bot is no subscriber any more; the broadcast's reach is in the figures.
    assert "Subscribers: 2 · en 1 · zh 1" in after.splitlines(), after
    assert f"• <code>broadcast-1</code> {STORY}: 2 delivered, 1 blocked, 0 failed, 0 taps" in after.splitlines()
    assert server.sent_texts(moderators) == []  # the figures go to the admin in private


# --- the proof: 2,000 subscribers, faults, two kills ----------------------------------------------


def _env(tmp_path: Path, server: FakeTelegram) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": server.base_url,
        "STORIES_DIR": str(STORIES),
        "STORYBOT_DATA_DIR": str(tmp_path / "data"),
        "STORYBOT_LOG_SALT": "test-salt",
        "MEANING_MODEL": "none",
        "BROADCAST_RATE": "0",
    }


def _sent_to(server: FakeTelegram) -> tuple[Counter[int], dict[int, str]]:
    sent = server.sent_messages()
    return Counter(int(m["chat_id"]) for m in sent), {int(m["chat_id"]): str(m["text"]) for m in sent}


@pytest.mark.parametrize("in_flight", [0, 1], ids=["in-flight-by-pace", "in-flight-1"])
def test_2000_subscribers_10_percent_faults_killed_twice_each_gets_one_copy(tmp_path: Path, in_flight: int) -> None:
    fans = list(range(100_001, 102_001))
    blocked = set(fans[::20])  # 100 fans blocked the bot: Telegram answers 403
    outbox = Outbox(tmp_path / "data" / "state.sqlite3")
    for fan in fans:
        outbox.subscribe(fan, "zh" if fan % 3 == 0 else "en")
    with FakeTelegram() as server:
        for fan in blocked:
            server.block_chat(fan)
        # 10% of sends fail: 429 (retry after 0s), 500, held then dropped, dropped.
        server.set_fault_rate(
            0.10,
            kinds=("retry_after", "server_error", "timeout", "drop"),
            methods=["sendMessage"],
            retry_after=0,
            delay=0.05,
        )
        env = _env(tmp_path, server) | {"BROADCAST_IN_FLIGHT": str(in_flight)}
        command = [sys.executable, "-m", "bot", "broadcast"]
        log = (tmp_path / "out.txt").open("w")
        started = time.perf_counter()
        process = subprocess.Popen([*command, STORY], env=env, stdout=log, stderr=subprocess.STDOUT)
        for threshold in (500, 1200):  # kill -9 twice, mid-broadcast, then start again
            server.wait_for(lambda t=threshold: len(server.sent_messages()) >= t, timeout=60)  # type: ignore[misc]
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            process = subprocess.Popen([*command, "--resume"], env=env, stdout=log, stderr=subprocess.STDOUT)
        assert process.wait(timeout=90) == 0, (tmp_path / "out.txt").read_text()
        elapsed = time.perf_counter() - started
        log.close()
        copies, texts = _sent_to(server)
    progress = outbox.progress()[-1]
    doubtful = progress.doubtful
    reachable = [fan for fan in fans if fan not in blocked]
    twice = [fan for fan in reachable if copies[fan] > 1]
    print(f"\nbroadcast proof: {len(fans)} subscribers in {elapsed:.1f}s", end="")
    print(f"; {doubtful} in doubt after the kills, {len(twice)} of them sent twice")
    # Every fan who did not block got it; only a delivery in flight at a kill may have gone twice.
    assert all(copies[fan] >= 1 for fan in reachable)
    # The window: a kill leaves in doubt at most the sends then on their way (one, with 1 in flight).
    assert len(twice) <= doubtful <= 2 * (in_flight or SENDERS), f"{twice} {doubtful}"
    assert not any(copies[fan] for fan in blocked)
    # Each in their language, from the same templates, with the story's buttons and a one-tap unsubscribe.
    teller = CatalogStore.open(STORIES, "none").storyteller()
    for fan in reachable[:50]:
        lang = "zh" if fan % 3 == 0 else "en"
        expected = broadcast_reply(teller, STORY, lang)
        assert expected is not None and texts[fan] == expected.text
    assert (progress.sent, progress.blocked, progress.failed, progress.left) == (len(reachable), len(blocked), 0, 0)
    # Every 403 unsubscribed the fan; the others stay, each in their language.
    assert sum(outbox.subscribers().values()) == len(reachable)
    assert not any(outbox.is_subscribed(fan) for fan in blocked)
    # Each delivery is an exchange; the report shows the reach.
    log_path = tmp_path / "data" / "exchanges.jsonl"
    records = [Exchange.from_json(json.loads(line)) for line in log_path.read_text().splitlines()]
    reach = summarise(records).broadcasts
    # Each line is written before its outcome is committed, so no kill loses one; a message sent
    # again after a kill is logged again and counted once.
    [(story, delivered, blocked_count, failed)] = [(r.story, r.delivered, r.blocked, r.failed) for r in reach]
    assert (story, delivered, blocked_count, failed) == (STORY, len(reachable), len(blocked), 0)
    outbox.close()


def _ask_and_time(server: FakeTelegram, fan: int, question: str) -> float:
    """Seconds from a fan's message to the bot's reply in that chat."""
    before = len(server.sent_texts(fan))
    started = time.perf_counter()
    server.message(fan, question)
    server.wait_for(lambda: len(server.sent_texts(fan)) > before, timeout=10)
    return time.perf_counter() - started


def test_the_running_bot_sends_a_broadcast_and_fans_who_ask_meanwhile_come_first(tmp_path: Path) -> None:
    subscribers = list(range(200_001, 200_151))
    outbox = Outbox(tmp_path / "data" / "state.sqlite3")
    for fan in subscribers:
        outbox.subscribe(fan, "en")
    outbox.enqueue(STORY)  # queued before the bot starts: the running bot holds the lease and sends it
    outbox.close()
    asking = iter(range(42, 52))  # a new fan each time: one fan's ten questions would meet the flood limit
    with FakeTelegram() as server:
        env = {**_env(tmp_path, server), "BROADCAST_RATE": "25"}  # the default pace: about 6 s for 150
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--polling"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            server.wait_polling(timeout=30)
            server.wait_for(lambda: len(server.sent_messages()) >= 10, timeout=30)  # the broadcast is under way
            during = [_ask_and_time(server, next(asking), "who stopped rowing for the ducks") for _ in range(5)]
            broadcast_sent_meanwhile = sum(1 for chat in subscribers if server.sent_texts(chat))
            server.wait_for(lambda: all(server.sent_texts(chat) for chat in subscribers), timeout=30)
            after = [_ask_and_time(server, next(asking), "who stopped rowing for the ducks") for _ in range(5)]
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)
    median_during, median_after = sorted(during)[2], sorted(after)[2]
    print(f"\nreply during a broadcast {median_during * 1000:.0f} ms, after it {median_after * 1000:.0f} ms (medians)")
    assert process.returncode == 0, stderr
    assert broadcast_sent_meanwhile < len(subscribers)  # the fan's questions came while it was sending
    assert all(len(server.sent_texts(chat)) == 1 for chat in subscribers)  # and everyone got it once
    # A fan asking during a broadcast waits no longer than one asking after it (a little leeway for a busy VM).
    assert median_during <= median_after + 0.25, (during, after)
    assert max(during) < 1.0, during


def test_dry_run_counts_per_language_and_shows_the_message_and_status_shows_progress(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "data" / "state.sqlite3")
    for fan, lang in ((1, "en"), (2, "en"), (3, "zh")):
        outbox.subscribe(fan, lang)
    outbox.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STORYBOT_DATA_DIR": str(tmp_path / "data"), "MEANING_MODEL": "none"}
    storybot = [sys.executable, "-m", "bot", "broadcast"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*storybot, *args], env=env, capture_output=True, text=True, timeout=60)

    dry = run(STORY, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would go to 3 subscribers (en: 2, zh: 1)" in dry.stdout, dry.stdout
    assert "The rower who stopped for ducks" in dry.stdout and "为鸭子停桨的赛艇手" in dry.stdout
    assert "no broadcast yet" in run("--status").stdout  # a dry run queues nothing
    missing = run("no-such-story")
    assert missing.returncode == 2 and "no story 'no-such-story'" in missing.stderr
    queued = Outbox(tmp_path / "data" / "state.sqlite3")
    queued.enqueue(STORY, "zh")
    queued.close()
    status = run("--status")
    assert status.returncode == 0, status.stderr
    (row,) = [line.split() for line in status.stdout.splitlines() if STORY in line]
    assert row == ["1", STORY, "zh", "0", "0", "0", "1", "0"]  # sent, blocked, failed, left, doubtful
