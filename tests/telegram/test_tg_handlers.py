"""Handlers in process, PTB's way: updates from dicts, an offline request, assert on what is sent."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
from fakebot import BOT_USERNAME
from telegram import Update
from telegram.ext import CommandHandler, ContextTypes
from tg_support import BOT_USER, GROUP, MakeOffline, Offline, group_text

from bot.config import Settings
from bot.replies.render import plain
from bot.telegram.context import LANG, LAST_STORY, App


def button_data(params: dict[str, Any]) -> list[str]:
    """Callback data of every button of a sent message, row by row."""
    rows = (params.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row]


def bot_message_in_group() -> dict[str, Any]:
    """A message the bot sent earlier in the group."""
    chat = {"id": GROUP, "type": "supergroup", "title": "Fans"}
    return {"message_id": 900, "from": BOT_USER, "chat": chat, "date": 0, "text": "earlier"}


# --- private conversation -----------------------------------------------------------------------


async def test_start_greets_with_featured_story_buttons(offline: Offline) -> None:
    await offline.feed(offline.updates.make_command(42, "/start"))
    greeting, _ = offline.teller.start("", "en")
    [sent] = offline.request.to("sendMessage")
    assert sent["text"] == greeting.text
    assert sent["parse_mode"] == "HTML"  # the application's Defaults, with link previews off
    assert sent["link_preview_options"] == {"is_disabled": True}
    featured = offline.teller.snapshot.catalog.featured()
    assert [f"s:en:{s.id}" for s in featured] == button_data(sent)[: len(featured)]


async def test_deep_link_opens_the_story_and_records_the_campaign(offline: Offline) -> None:
    update_id = await offline.feed(offline.updates.make_command(42, "/start summer__pearce-ducks"))
    story = offline.teller.story("pearce-ducks", "en")
    assert story is not None
    assert offline.request.sent_texts() == [story.text]
    [exchange] = offline.sink.for_update(update_id)
    assert (exchange.kind, exchange.campaign, exchange.story) == (
        "deep_link",
        "summer",
        "pearce-ducks",
    )
    assert offline.app.user_data[42][LAST_STORY] == "pearce-ducks"


@pytest.mark.parametrize("payload", ["no-such-story", "spring__nothing", "bad payload!", "x" * 65])
async def test_unknown_payload_gets_the_normal_greeting(offline: Offline, payload: str) -> None:
    await offline.feed(offline.updates.make_command(42, f"/start {payload}"))
    assert offline.request.sent_texts() == [offline.teller.start("", "en")[0].text]


async def test_help_and_unknown_commands_explain_how_to_talk(offline: Offline) -> None:
    await offline.feed(offline.updates.make_command(42, "/help"))
    await offline.feed(offline.updates.make_command(42, "/frobnicate"))
    help_text = offline.teller.help("en").text
    assert offline.request.sent_texts() == [help_text, help_text]


async def test_menus_follow_the_fans_app_language(offline: Offline) -> None:
    await offline.feed(offline.updates.make_command(42, "/help", language_code="zh-hans"))
    assert offline.request.sent_texts() == [offline.teller.help("zh").text]


async def test_free_text_is_answered_and_recorded(offline: Offline) -> None:
    update_id = await offline.feed(offline.updates.make_message(42, "who stopped for the ducks?"))
    expected = offline.teller.answer("who stopped for the ducks?")
    assert offline.request.sent_texts() == [expected.text]
    [exchange] = offline.sink.for_update(update_id)
    assert exchange.outcome == "story"
    assert exchange.story == expected.story_id == "pearce-ducks"
    assert exchange.score == expected.score
    assert exchange.chat_type == "private"
    assert exchange.latency_ms > 0
    assert "42" not in exchange.chat_key + exchange.user_key


async def test_language_choice_is_remembered_and_used(offline: Offline) -> None:
    await offline.feed(offline.updates.make_command(42, "/language"))
    [menu] = offline.request.to("sendMessage")
    assert button_data(menu) == ["l:en", "l:zh"]
    await offline.feed(offline.updates.make_callback_query(42, "l:zh"))
    assert offline.app.user_data[42][LANG] == "zh"
    [edit] = offline.request.to("editMessageText")
    assert edit["text"] == offline.teller.notice("language_set", "zh").text
    await offline.feed(offline.updates.make_message(42, "who stopped for the ducks?"))
    assert offline.request.sent_texts()[-1] == offline.teller.answer("ducks", "zh").text


# --- buttons ------------------------------------------------------------------------------------


async def test_every_press_is_answered_and_forged_data_gets_the_polite_reply(
    offline: Offline,
) -> None:
    await offline.feed(offline.updates.make_callback_query(42, "s:en:no-such-story"))
    await offline.feed(offline.updates.make_callback_query(42, "rm -rf /"))
    assert len(offline.request.to("answerCallbackQuery")) == 2
    stale = offline.teller.press("garbage", "en").text
    assert offline.request.sent_texts() == [stale, stale]


async def test_page_presses_edit_the_message_in_place(offline: Offline) -> None:
    press = offline.updates.make_callback_query(42, "p:en:1")
    await offline.feed(press)
    assert offline.request.to("sendMessage") == []
    [edit] = offline.request.to("editMessageText")
    assert edit["message_id"] == press["callback_query"]["message"]["message_id"]
    assert edit["text"] == offline.teller.catalogue("en", 1).text
    assert "p:en:0" in button_data(edit)


async def test_story_and_chapter_presses_send_new_messages(offline: Offline) -> None:
    await offline.feed(offline.updates.make_callback_query(42, "s:en:founding"))
    assert offline.request.to("editMessageText") == []
    assert offline.request.sent_texts() == [offline.teller.story("founding", "en").text]  # type: ignore[union-attr]
    assert offline.app.user_data[42][LAST_STORY] == "founding"


async def test_a_press_on_a_message_sent_inline_edits_that_message(offline: Offline) -> None:
    update = offline.updates.make_callback_query(42, "s:en:founding")
    query = update["callback_query"]
    del query["message"]
    query["inline_message_id"] = "AgAAAInline"
    await offline.feed(update)
    [edit] = offline.request.to("editMessageText")
    assert edit["inline_message_id"] == "AgAAAInline"
    assert offline.request.to("sendMessage") == []


# --- what is not answered -----------------------------------------------------------------------


async def test_edited_messages_are_not_answered(offline: Offline) -> None:
    update = offline.updates.make_message(42, "who stopped for the ducks?", kind="edited_message")
    update_id = await offline.feed(update)
    edited_command = offline.updates.make_command(42, "/start")
    edited_command["edited_message"] = edited_command.pop("message")
    await offline.feed(edited_command)
    assert [c.method for c in offline.request.calls] == ["getMe"]
    assert offline.sink.for_update(update_id) == []


async def test_group_chatter_is_ignored(offline: Offline) -> None:
    await offline.feed(group_text(offline, "what a race yesterday, those ducks!"))
    sticker = {"sticker": _sticker()}
    await offline.feed(offline.updates.make_message(GROUP, None, chat_type="supergroup", extra=sticker))
    assert offline.request.to("sendMessage") == []
    assert offline.sink.exchanges == []


async def test_group_mentions_are_answered_without_the_mention(offline: Offline) -> None:
    update = group_text(offline, f"@{BOT_USERNAME} who stopped for the ducks?")
    update_id = await offline.feed(update)
    [sent] = offline.request.to("sendMessage")
    assert sent["text"] == offline.teller.answer("who stopped for the ducks?").text
    assert sent["reply_parameters"]["message_id"] == update["message"]["message_id"]
    [exchange] = offline.sink.for_update(update_id)
    assert exchange.question == "who stopped for the ducks?"
    assert exchange.chat_type == "supergroup"


async def test_group_replies_to_the_bot_are_answered(offline: Offline) -> None:
    update = group_text(offline, "and the ducks?", reply_to_message=bot_message_in_group())
    await offline.feed(update)
    assert offline.request.sent_texts() == [offline.teller.answer("and the ducks?").text]


async def test_group_commands_for_this_bot_only(offline: Offline) -> None:
    await offline.feed(group_text(offline, f"/help@{BOT_USERNAME}"))
    await offline.feed(group_text(offline, "/help@some_other_bot"))
    await offline.feed(group_text(offline, "/frobnicate"))
    assert offline.request.sent_texts() == [offline.teller.help("en").text]


async def test_non_text_gets_a_notice_in_private_only(offline: Offline) -> None:
    sticker = offline.updates.make_message(42, None, extra={"sticker": _sticker()})
    update_id = await offline.feed(sticker)
    await offline.feed(offline.updates.make_message(GROUP, None, chat_type="supergroup", extra={"sticker": _sticker()}))
    joined = {"new_chat_members": [{"id": 9, "is_bot": False, "first_name": "New"}]}
    await offline.feed(offline.updates.make_message(42, None, extra=joined))
    assert offline.request.sent_texts() == [offline.teller.notice("non_text", "en").text]
    assert offline.sink.for_update(update_id)[0].kind == "non_text"


def _sticker() -> dict[str, Any]:
    return {
        "file_id": "CAAC-sticker",
        "file_unique_id": "AgAD-sticker",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    }


# --- inline mode --------------------------------------------------------------------------------


async def test_inline_query_offers_ranked_story_cards(offline: Offline) -> None:
    update_id = await offline.feed(offline.updates.make_inline_query(42, "ducks"))
    [answer] = offline.request.to("answerInlineQuery")
    results = answer["results"]
    assert 1 <= len(results) <= 10
    first = results[0]
    assert first["id"] == "pearce-ducks"
    assert first["input_message_content"]["parse_mode"] == "HTML"
    story = offline.teller.story("pearce-ducks", "en")
    assert story is not None
    assert first["input_message_content"]["message_text"] == story.text
    assert "<" not in first["description"]
    assert plain(offline.teller.snapshot.catalog.stories["pearce-ducks"].text["en"]).startswith(
        first["description"].rstrip("…")
    )
    assert answer["is_personal"] is False
    assert answer["cache_time"] <= 60
    assert offline.sink.for_update(update_id)[0].story == "pearce-ducks"


async def test_inline_query_off_topic_offers_nothing(offline: Offline) -> None:
    await offline.feed(offline.updates.make_inline_query(42, "track my order"))
    [answer] = offline.request.to("answerInlineQuery")
    assert answer["results"] == []


async def test_empty_inline_query_offers_the_featured_stories(offline: Offline) -> None:
    await offline.feed(offline.updates.make_inline_query(42, "", language_code="zh"))
    [answer] = offline.request.to("answerInlineQuery")
    featured = offline.teller.snapshot.catalog.featured()
    assert [r["id"] for r in answer["results"]] == [s.id for s in featured]
    assert answer["results"][0]["title"] == featured[0].title["zh"]


# --- flood, blocks, faults ----------------------------------------------------------------------


async def test_a_flooding_fan_gets_one_notice_and_nobody_else_waits(
    make_offline: MakeOffline, settings: Settings
) -> None:
    offline = await make_offline(replace(settings, flood_limit=3))
    for n in range(6):
        await offline.feed(offline.updates.make_message(42, f"ducks {n}"))
    await offline.feed(offline.updates.make_message(43, "ducks"))
    notice = offline.teller.notice("flood", "en").text
    texts = offline.request.sent_texts()
    assert texts.count(notice) == 1
    assert len(texts) == 3 + 1 + 1
    assert [e.outcome for e in offline.sink.exchanges].count("flood") == 3


async def test_blocked_fans_get_no_reply_but_their_press_is_answered(
    make_offline: MakeOffline,
) -> None:
    offline = await make_offline(blocked=lambda user_key: user_key.startswith("u_"))
    update_id = await offline.feed(offline.updates.make_message(42, "ducks"))
    await offline.feed(offline.updates.make_callback_query(42, "s:en:founding"))
    assert offline.request.to("sendMessage") == []
    assert len(offline.request.to("answerCallbackQuery")) == 1
    assert offline.sink.for_update(update_id)[0].outcome == "blocked"


async def test_a_fan_who_blocked_the_bot_is_logged_and_skipped(
    offline: Offline, caplog: pytest.LogCaptureFixture
) -> None:
    offline.request.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    first = await offline.feed(offline.updates.make_message(42, "ducks"))
    await offline.feed(offline.updates.make_message(43, "ducks"))
    assert len(offline.request.sent_texts()) == 2  # the failed attempt and the next fan's reply
    assert "blocked by the user" in caplog.text
    [exchange] = offline.sink.for_update(first)
    assert exchange.outcome == "error"
    assert exchange.error is not None and "Forbidden" in exchange.error


async def test_a_failing_handler_is_logged_recorded_and_apologised_for(
    make_offline: MakeOffline, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        raise RuntimeError("the moderators' handler broke")

    def registrar(app: App) -> None:
        app.add_handler(CommandHandler("boom", boom))

    offline = await make_offline(registrars=[registrar])
    caplog.set_level(logging.ERROR)
    update_id = await offline.feed(offline.updates.make_command(42, "/boom"))
    await offline.feed(offline.updates.make_message(42, "ducks"))
    assert offline.request.sent_texts() == [
        offline.teller.notice("error", "en").text,
        offline.teller.answer("ducks").text,
    ]
    assert "the moderators' handler broke" in caplog.text
    assert f"update {update_id} (command)" in caplog.text  # which update, never what it holds
    [exchange] = offline.sink.for_update(update_id)
    assert exchange.outcome == "error"
    assert exchange.error == "RuntimeError: the moderators' handler broke"


async def test_commands_menu_is_set_in_english_and_chinese(offline: Offline) -> None:
    assert offline.app.post_init is not None
    await offline.app.post_init(offline.app)
    calls = offline.request.to("setMyCommands")
    by_lang = {c.get("language_code"): c["commands"] for c in calls}
    assert set(by_lang) == {None, "zh"}
    ui = offline.teller.snapshot.catalog.ui
    for code, lang in ((None, "en"), ("zh", "zh")):
        assert [c["command"] for c in by_lang[code]] == ["start", "help", "stories", "language"]
        assert by_lang[code][0]["description"] == ui[lang]["cmd_start"]
