"""The bot through real PTB over real HTTP, against the local fake Bot API server."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace

import pytest
from fakebot import BOT_USERNAME, FakeTelegram, parse_telegram_html
from telegram import Update
from telegram.ext import CommandHandler, ContextTypes
from tg_support import LONG_STORY, MakeBot, RecordingSink, free_port, polling, webhook

from bot.config import Secret, Settings
from bot.live import CatalogStore
from bot.replies.storyteller import Storyteller
from bot.telegram.context import App

FAN, OTHER_FAN, GROUP = 42, 43, -100555
DUCKS = "who stopped rowing to let the ducks cross?"


def keyboard_data(message: dict[str, object]) -> list[str]:
    """Callback data of the buttons under a message the fake holds."""
    markup = message.get("reply_markup") or {}
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    return [button["callback_data"] for row in rows for button in row]


async def sent_count(server: FakeTelegram, chat: int, n: int) -> list[str]:
    """Wait until `chat` has received n messages; return their texts."""

    def enough() -> list[str] | None:
        texts = server.sent_texts(chat)
        return texts if len(texts) >= n else None

    found = await server.async_wait_for(enough, what=f"{n} message(s) to chat {chat}")
    assert found is not None
    return found


# --- conversation -------------------------------------------------------------------------------


async def test_deep_link_opens_the_story_and_records_the_campaign(
    server: FakeTelegram, make_bot: MakeBot, sink: RecordingSink, teller: Storyteller
) -> None:
    async with polling(make_bot()):
        update_id = server.command(FAN, "/start olympics2018__kenya-ice-hockey")
        exchange = await sink.wait_update(update_id)
    story = teller.story("kenya-ice-hockey", "en")
    assert story is not None
    assert server.sent_texts(FAN) == [story.text]
    assert (exchange.kind, exchange.campaign, exchange.story) == (
        "deep_link",
        "olympics2018",
        "kenya-ice-hockey",
    )


async def test_unknown_payload_gets_the_greeting(server: FakeTelegram, make_bot: MakeBot, teller: Storyteller) -> None:
    async with polling(make_bot()):
        server.command(FAN, "/start summer__no-such-story")
        texts = await sent_count(server, FAN, 1)
    assert texts == [teller.start("", "en")[0].text]


async def test_buttons_open_stories_and_pages_turn_in_place(
    server: FakeTelegram, make_bot: MakeBot, teller: Storyteller
) -> None:
    async with polling(make_bot()):
        server.command(FAN, "/stories")
        await sent_count(server, FAN, 1)
        [listing] = server.bot_messages(FAN)
        assert "p:en:1" in keyboard_data(listing)
        server.callback_query(FAN, "p:en:1")
        await server.async_wait_for_calls("editMessageText")
        server.callback_query(FAN, "s:en:founding")
        texts = await sent_count(server, FAN, 2)
        await server.async_wait_for_calls("answerCallbackQuery", 2)
    [turned, _story] = server.bot_messages(FAN)
    assert turned["message_id"] == listing["message_id"]
    assert turned["text"] == parse_telegram_html(teller.catalogue("en", 1).text).strip()
    assert "p:en:0" in keyboard_data(turned)  # Back
    assert texts[1] == teller.story("founding", "en").text  # type: ignore[union-attr]
    assert all(call.ok for call in server.calls_to("answerCallbackQuery"))


async def test_a_long_story_arrives_chapter_by_chapter(
    server: FakeTelegram, make_bot: MakeBot, long_store: CatalogStore
) -> None:
    async with polling(make_bot(store=long_store)):
        server.message(FAN, DUCKS)
        texts = await sent_count(server, FAN, 1)
        while continues := [d for d in keyboard_data(server.bot_messages(FAN)[-1]) if d[0] == "c"]:
            server.callback_query(FAN, continues[0])
            texts = await sent_count(server, FAN, len(texts) + 1)
    story = long_store.current().catalog.stories[LONG_STORY]
    chapters = long_store.current().chapters(story, "en")
    assert len(chapters) >= 3
    assert texts == list(chapters)
    for text in texts:
        assert len(parse_telegram_html(text)) <= 4096  # the fake also refused anything invalid
    assert "a:en" in keyboard_data(server.bot_messages(FAN)[-1])  # the last one offers more


async def test_inline_mode_offers_story_cards(server: FakeTelegram, make_bot: MakeBot, teller: Storyteller) -> None:
    async with polling(make_bot()):
        server.inline_query(FAN, "ducks")
        server.inline_query(OTHER_FAN, "")
        calls = await server.async_wait_for_calls("answerInlineQuery", 2)
    assert all(call.ok for call in calls)
    by_query = {len(call.params["results"]) > 0 and call.params["is_personal"]: call for call in calls}
    ducks, empty = by_query[False].params, by_query[True].params
    assert 1 <= len(ducks["results"]) <= 10
    assert ducks["results"][0]["id"] == "pearce-ducks"
    featured = [s.id for s in teller.snapshot.catalog.featured()]
    assert [r["id"] for r in empty["results"]] == featured


async def test_inline_search_as_you_type_over_http(
    server: FakeTelegram, make_bot: MakeBot, teller: Storyteller
) -> None:
    typed = ["d", "du", "duc", "鸭", "kenya hock", "阿里巴巴"]
    async with polling(make_bot()):
        for n, query in enumerate(typed, start=1):
            server.inline_query(FAN, query)
            await server.async_wait_for_calls("answerInlineQuery", n)  # one keystroke after another
    answers = [call.params for call in server.calls_to("answerInlineQuery")]
    found = {query: [r["id"] for r in answer["results"]] for query, answer in zip(typed, answers, strict=True)}
    assert found["d"] == [] and answers[0]["button"]["text"] == teller.ui("en", "open_bot")
    assert found["du"][0] == found["duc"][0] == found["鸭"][0] == "pearce-ducks"
    assert found["kenya hock"][0] == "kenya-ice-hockey"
    assert "founding" in found["阿里巴巴"]
    assert all("button" not in answer for answer in answers[1:])


async def test_a_press_on_a_shared_inline_card_is_answered_in_private_over_http(
    server: FakeTelegram, make_bot: MakeBot, teller: Storyteller
) -> None:
    press = server.make_callback_query(GROUP, "s:en:founding", user_id=FAN)
    query = press["callback_query"]
    query.pop("message", None)
    query["inline_message_id"] = "AgAAAShared"
    async with polling(make_bot()):
        server.push_update(press)
        texts = await sent_count(server, FAN, 1)
        await server.async_wait_for_calls("answerCallbackQuery")
    assert texts == [teller.story("founding", "en").text]  # type: ignore[union-attr]
    assert server.calls_to("editMessageText") == []  # the card the group sees stays as it was
    assert server.sent_texts(GROUP) == []


async def test_a_captioned_photo_is_answered_over_http(
    server: FakeTelegram, make_bot: MakeBot, teller: Storyteller
) -> None:
    async with polling(make_bot()):
        server.photo(FAN, caption="who stopped for these ducks?")
        texts = await sent_count(server, FAN, 1)
    assert texts == [teller.answer("who stopped for these ducks?").text]


async def test_groups_hear_mentions_replies_and_commands_only(
    server: FakeTelegram, make_bot: MakeBot, sink: RecordingSink, teller: Storyteller
) -> None:
    async with polling(make_bot()):
        chatter = server.group_message(GROUP, "the ducks were cute")
        server.group_message(GROUP, DUCKS, mention=True)
        await sent_count(server, GROUP, 1)
        server.group_message(GROUP, "how did alibaba start?", reply_to_bot=True)
        await sent_count(server, GROUP, 2)
        server.command(GROUP, f"/help@{BOT_USERNAME}", chat_type="supergroup", user_id=501)
        texts = await sent_count(server, GROUP, 3)
    assert texts == [
        teller.answer(DUCKS).text,
        teller.answer("how did alibaba start?").text,
        teller.help("en").text,
    ]
    assert sink.for_update(chatter) == []
    assert all(p["reply_parameters"] for p in server.sent_messages(GROUP))


async def test_stickers_get_a_smile_and_edits_get_nothing(
    server: FakeTelegram, make_bot: MakeBot, sink: RecordingSink, teller: Storyteller
) -> None:
    async with polling(make_bot()):
        server.sticker(FAN)
        server.message(FAN, "ducks")
        edit = server.edited_message(FAN, "who stopped for the ducks?")
        probe = server.message(FAN, "how did alibaba start?")
        await sink.wait_update(probe)
    assert server.sent_texts(FAN) == [
        teller.playful("en").text,
        teller.answer("ducks").text,
        teller.answer("how did alibaba start?").text,
    ]
    assert sink.for_update(edit) == []


async def test_the_language_choice_survives_a_restart(
    server: FakeTelegram, make_bot: MakeBot, sink: RecordingSink, teller: Storyteller
) -> None:
    async with polling(make_bot()):
        server.command(FAN, "/language")
        await sent_count(server, FAN, 1)
        server.callback_query(FAN, "l:zh")
        await sent_count(server, FAN, 2)  # "I'll answer in Chinese", a new message
    async with polling(make_bot()):  # a new process, the same SQLite file
        update_id = server.message(FAN, DUCKS)
        exchange = await sink.wait_update(update_id)
    assert exchange.lang == "zh"
    assert server.sent_texts(FAN)[-1] == teller.answer(DUCKS, "zh").text


async def test_commands_menu_is_published_in_english_and_chinese(server: FakeTelegram, make_bot: MakeBot) -> None:
    async with polling(make_bot()):
        pass
    menus = {json.loads(key)[1]: commands for key, commands in server.commands.items()}
    assert set(menus) == {"", "zh"}
    assert [c["command"] for c in menus["zh"]] == ["start", "help", "stories", "language"]
    assert menus[""] != menus["zh"]


# --- webhook ------------------------------------------------------------------------------------


async def test_webhook_answers_only_updates_with_the_secret(
    server: FakeTelegram, make_bot: MakeBot, online: Settings, sink: RecordingSink, teller: Storyteller
) -> None:
    settings = replace(
        online,
        webhook_url="https://storybot.example/telegram/hook",
        webhook_secret=Secret("s3cret-Token_1"),
        port=free_port(),
    )
    url = f"http://127.0.0.1:{settings.port}/telegram/hook"

    async def post(text: str, secret: str | None) -> tuple[int, int]:
        update = server.make_message(FAN, text)
        status = await asyncio.to_thread(server.post_update_to, url, update, secret)
        return status, int(server.webhook_posts[-1].update["update_id"])

    async with webhook(make_bot(settings), settings):
        assert server.webhook["url"] == settings.webhook_url
        assert server.webhook["secret_token"] == "s3cret-Token_1"
        wrong, wrong_id = await post("ducks", "not-the-secret")
        missing, missing_id = await post("ducks", None)
        right, right_id = await post(DUCKS, "s3cret-Token_1")
        await sink.wait_update(right_id)
    assert (wrong, missing, right) == (403, 403, 200)
    assert server.sent_texts(FAN) == [teller.answer(DUCKS).text]
    assert sink.for_update(wrong_id) == sink.for_update(missing_id) == []


def hooked(online: Settings) -> tuple[Settings, str]:
    """Settings for a webhook bot on a free local port (secret "s3cret"), and the URL to post to."""
    settings = replace(
        online, webhook_url="https://storybot.example/hook", webhook_secret=Secret("s3cret"), port=free_port()
    )
    return settings, f"http://127.0.0.1:{settings.port}/hook"


# PTB 22's own RetryAfter constructor warns about its future timedelta type; not ours to fix.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_webhook_says_200_only_once_the_update_is_answered(
    server: FakeTelegram, make_bot: MakeBot, online: Settings, teller: Storyteller
) -> None:
    # A killed bot must get the update again: Telegram resends what was not answered with 200.
    # The reply is held up by a 429 (a second's wait), so a 200 sent on arrival would come first.
    settings, url = hooked(online)
    async with webhook(make_bot(settings), settings):
        server.fail_next("sendMessage", "retry_after", retry_after=1)
        update = server.make_message(FAN, DUCKS)
        status = await asyncio.to_thread(server.post_update_to, url, update, "s3cret")
        sent_when_answered = server.sent_texts(FAN)
    assert status == 200
    assert sent_when_answered == [teller.answer(DUCKS).text]
    assert [c.status for c in server.calls_to("sendMessage")] == [429, 200]


async def test_webhook_a_slow_chat_does_not_hold_back_another_chat_s_200(
    server: FakeTelegram, make_bot: MakeBot, online: Settings, teller: Storyteller
) -> None:
    settings, url = hooked(online)
    async with webhook(make_bot(settings), settings):
        # The first fan's reply is held 4 s, then its connection drops and it is sent again. (Not a
        # 429: PTB's rate limiter rightly pauses every chat's sending after one.)
        server.fail_next("sendMessage", "timeout", delay=4)
        slow = asyncio.ensure_future(
            asyncio.to_thread(server.post_update_to, url, server.make_message(FAN, DUCKS), "s3cret", 20)
        )
        await server.async_wait_for(lambda: server.calls_to("sendMessage"), what="the first fan's reply on hold")
        other = await asyncio.to_thread(server.post_update_to, url, server.make_message(OTHER_FAN, DUCKS), "s3cret")
        first_fan_answered_by_then = server.sent_texts(FAN)
        assert (other, await slow) == (200, 200)
    assert first_fan_answered_by_then == [], "the other fan's 200 waited for the slow chat"
    assert server.sent_texts(FAN) == server.sent_texts(OTHER_FAN) == [teller.answer(DUCKS).text]


# --- faults -------------------------------------------------------------------------------------


# PTB 22's own RetryAfter constructor warns about its future timedelta type; not ours to fix.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_429_and_500_then_the_reply_arrives_exactly_once(
    server: FakeTelegram, make_bot: MakeBot, sink: RecordingSink, teller: Storyteller
) -> None:
    async with polling(make_bot()):
        server.fail_next("sendMessage", "retry_after", retry_after=1)
        server.fail_next("sendMessage", "server_error")
        update_id = server.message(FAN, DUCKS)
        exchange = await sink.wait_update(update_id, timeout=15)
    assert [c.status for c in server.calls_to("sendMessage")] == [429, 500, 200]
    assert server.sent_texts(FAN) == [teller.answer(DUCKS).text]
    assert exchange.outcome == "story"


async def test_a_dropped_connection_is_retried(server: FakeTelegram, make_bot: MakeBot, sink: RecordingSink) -> None:
    async with polling(make_bot()):
        server.fail_next("sendMessage", "drop")
        update_id = server.message(FAN, DUCKS)
        await sink.wait_update(update_id)
    assert [c.fault for c in server.calls_to("sendMessage")] == ["drop", None]
    assert len(server.sent_texts(FAN)) == 1


async def test_a_fan_who_blocked_the_bot_is_skipped(
    server: FakeTelegram, make_bot: MakeBot, sink: RecordingSink, caplog: pytest.LogCaptureFixture
) -> None:
    server.block_chat(FAN)
    async with polling(make_bot()):
        blocked = server.message(FAN, DUCKS)
        other = server.message(OTHER_FAN, DUCKS)
        failed = await sink.wait_update(blocked)
        await sink.wait_update(other)
    assert server.sent_texts(FAN) == []
    assert len(server.sent_texts(OTHER_FAN)) == 1
    assert failed.outcome == "error"
    assert any(r.levelno == logging.WARNING and "blocked" in r.getMessage() for r in caplog.records)


async def test_a_flooding_fan_is_told_once_and_others_are_answered(
    server: FakeTelegram, make_bot: MakeBot, online: Settings, sink: RecordingSink, teller: Storyteller
) -> None:
    async with polling(make_bot(replace(online, flood_limit=3))):
        ids = [server.message(FAN, f"ducks {n}") for n in range(7)]
        other = server.message(OTHER_FAN, DUCKS)
        await sink.wait_for(lambda: all(sink.for_update(i) for i in [*ids, other]))
    notice = teller.notice("flood", "en").text
    texts = server.sent_texts(FAN)
    assert texts.count(notice) == 1
    assert len(texts) == 4
    assert server.sent_texts(OTHER_FAN) == [teller.answer(DUCKS).text]


async def test_a_failing_handler_does_not_stop_the_bot(
    server: FakeTelegram, make_bot: MakeBot, sink: RecordingSink, teller: Storyteller
) -> None:
    async def boom(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        raise ValueError("boom")

    def registrar(app: App) -> None:
        app.add_handler(CommandHandler("boom", boom))

    async with polling(make_bot(registrars=[registrar])):
        failing = server.command(FAN, "/boom")
        after = server.message(FAN, DUCKS)
        await sink.wait_update(after)
    assert sink.for_update(failing)[0].error == "ValueError: boom"
    assert server.sent_texts(FAN) == [teller.notice("error", "en").text, teller.answer(DUCKS).text]
