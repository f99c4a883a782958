"""Handlers in process, PTB's way: updates from dicts, an offline request, assert on what is sent."""

from __future__ import annotations

import logging
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakebot import BOT_USERNAME
from telegram import Update
from telegram.ext import CommandHandler, ContextTypes
from tg_support import BOT_USER, GROUP, STORIES, MakeOffline, Offline, group_text

from bot.config import Settings
from bot.live import CatalogStore
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
    assert exchange.rule == expected.rule != ""  # why the core decided, for the report and moderators
    assert type(exchange).from_json(exchange.to_json()).rule == exchange.rule
    assert exchange.chat_type == "private"
    assert exchange.latency_ms > 0
    assert "42" not in exchange.chat_key + exchange.user_key


async def test_language_choice_is_remembered_and_used(offline: Offline) -> None:
    await offline.feed(offline.updates.make_command(42, "/language"))
    [menu] = offline.request.to("sendMessage")
    assert button_data(menu) == ["l:en", "l:zh"]
    await offline.feed(offline.updates.make_callback_query(42, "l:zh"))
    assert offline.app.user_data[42][LANG] == "zh"
    assert offline.request.to("editMessageText") == []  # only catalogue pages edit in place
    assert offline.request.sent_texts()[-1] == offline.teller.notice("language_set", "zh").text
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
    assert "p:en:0" in button_data(edit)  # Back


async def test_story_and_chapter_presses_send_new_messages(offline: Offline) -> None:
    await offline.feed(offline.updates.make_callback_query(42, "s:en:founding"))
    assert offline.request.to("editMessageText") == []
    assert offline.request.sent_texts() == [offline.teller.story("founding", "en").text]  # type: ignore[union-attr]
    assert offline.app.user_data[42][LAST_STORY] == "founding"


def _inline_press(offline: Offline, data: str) -> dict[str, Any]:
    update = offline.updates.make_callback_query(42, data)
    query = update["callback_query"]
    del query["message"]
    query["inline_message_id"] = "AgAAAInline"
    return update


async def test_a_press_on_a_shared_inline_card_answers_the_fan_privately(offline: Offline) -> None:
    await offline.feed(_inline_press(offline, "s:en:founding"))
    assert offline.request.to("editMessageText") == []  # the card everyone sees stays as it is
    [sent] = offline.request.to("sendMessage")
    story = offline.teller.story("founding", "en")
    assert story is not None and (sent["chat_id"], sent["text"]) == (42, story.text)
    [answered] = offline.request.to("answerCallbackQuery")
    assert answered["text"] == plain(offline.teller.notice("sent_private", "en").text)


async def test_a_fan_who_never_opened_the_bot_gets_a_link_to_the_story(offline: Offline) -> None:
    offline.request.fail_next("sendMessage", 403, "Forbidden: bot can't initiate conversation with a user")
    await offline.feed(_inline_press(offline, "s:en:founding"))
    assert offline.request.to("editMessageText") == []
    [answered] = offline.request.to("answerCallbackQuery")
    assert answered["url"] == f"https://t.me/{BOT_USERNAME}?start=founding"


async def test_buttons_that_open_something_new_send_a_new_message(offline: Offline) -> None:
    story = offline.teller.story("pearce-ducks", "en")
    assert story is not None and "a:en" in [b.data for row in story.buttons for b in row]
    await offline.feed(offline.updates.make_callback_query(42, "a:en"))  # "All stories" under a story
    await offline.feed(offline.updates.make_callback_query(42, "p:en:1"))  # Next: the page turns in place
    await offline.feed(offline.updates.make_callback_query(42, "s:en:founding"))  # a story from the list
    await offline.feed(offline.updates.make_callback_query(42, "c:en:founding:0"))
    founding = offline.teller.story("founding", "en")
    assert founding is not None
    assert offline.request.sent_texts() == [offline.teller.catalogue("en").text, founding.text, founding.text]
    [edit] = offline.request.to("editMessageText")
    assert edit["text"] == offline.teller.catalogue("en", 1).text


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


async def test_a_sticker_gets_a_smile_with_stories_in_private_only(offline: Offline) -> None:
    sticker = offline.updates.make_message(42, None, extra={"sticker": _sticker()})
    update_id = await offline.feed(sticker)
    await offline.feed(offline.updates.make_message(GROUP, None, chat_type="supergroup", extra={"sticker": _sticker()}))
    joined = {"new_chat_members": [{"id": 9, "is_bot": False, "first_name": "New"}]}
    await offline.feed(offline.updates.make_message(42, None, extra=joined))
    [sent] = offline.request.to("sendMessage")
    assert sent["text"] == offline.teller.playful("en").text
    featured = offline.teller.snapshot.catalog.featured()
    assert [f"s:en:{s.id}" for s in featured] == button_data(sent)[: len(featured)]
    assert offline.sink.for_update(update_id)[0].kind == "non_text"


async def test_a_photo_is_answered_from_its_caption(offline: Offline) -> None:
    photo = [{"file_id": "AgAD-photo", "file_unique_id": "AgAD-p", "width": 90, "height": 90}]
    caption = "who stopped for these ducks?"
    update = offline.updates.make_message(42, None, extra={"photo": photo, "caption": caption})
    update_id = await offline.feed(update)
    assert offline.request.sent_texts() == [offline.teller.answer(caption).text]
    assert offline.sink.for_update(update_id)[0].story == "pearce-ducks"


async def test_a_voice_message_is_told_only_words_are_read_and_offered_the_stories(offline: Offline) -> None:
    voice = {"file_id": "AwAD-voice", "file_unique_id": "AwAD-v", "duration": 3}
    await offline.feed(offline.updates.make_message(42, None, extra={"voice": voice}))
    [sent] = offline.request.to("sendMessage")
    assert sent["text"] == offline.teller.notice("non_text", "en").text
    assert button_data(sent) == ["a:en"]


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


async def test_link_previews_stay_off_for_stories_pages_and_inline_cards(offline: Offline) -> None:
    await offline.feed(offline.updates.make_message(42, "who stopped for the ducks?"))
    await offline.feed(offline.updates.make_callback_query(42, "p:en:1"))
    await offline.feed(offline.updates.make_inline_query(42, "ducks"))
    [story] = offline.request.to("sendMessage")
    [page] = offline.request.to("editMessageText")
    [answer] = offline.request.to("answerInlineQuery")
    assert "href=" in story["text"]  # the story links to its sources, yet shows no preview card
    for sent in (story, page, *(r["input_message_content"] for r in answer["results"])):
        assert sent["link_preview_options"] == {"is_disabled": True}


async def test_a_link_preview_shows_only_where_a_template_asks_for_one(
    make_offline: MakeOffline, tmp_path: Path
) -> None:
    root = tmp_path / "stories"
    shutil.copytree(STORIES, root)
    for lang in ("en", "zh"):  # founding's own template: the story layout, asking for its first source
        story = (root / "templates" / f"story.{lang}.html.j2").read_text(encoding="utf-8")
        asking = "{% set link_preview = story.sources[0].url %}\n" + story
        (root / "templates" / f"story-preview.{lang}.html.j2").write_text(asking, encoding="utf-8")
    path = root / "founding.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "template: story-preview\n", encoding="utf-8")
    offline = await make_offline(store=CatalogStore.open(root))
    await offline.feed(offline.updates.make_callback_query(42, "s:en:founding"))
    await offline.feed(offline.updates.make_callback_query(42, "s:en:pearce-ducks"))
    asked, plain_story = offline.request.to("sendMessage")
    url = offline.teller.snapshot.catalog.stories["founding"].sources[0].url
    assert url.startswith("https://") and asked["link_preview_options"] == {"is_disabled": False, "url": url}
    assert plain_story["link_preview_options"] == {"is_disabled": True}


async def test_inline_query_off_topic_offers_nothing(offline: Offline) -> None:
    await offline.feed(offline.updates.make_inline_query(42, "track my order"))
    [answer] = offline.request.to("answerInlineQuery")
    assert answer["results"] == []


@pytest.mark.parametrize(
    ("typed", "story_id"),
    [
        ("du", "pearce-ducks"),
        ("duc", "pearce-ducks"),
        ("鸭", "pearce-ducks"),
        ("kenya hock", "kenya-ice-hockey"),
        ("阿里巴巴", "founding"),
    ],
)
async def test_inline_search_finds_stories_as_the_fan_types(offline: Offline, typed: str, story_id: str) -> None:
    await offline.feed(offline.updates.make_inline_query(42, typed))
    [answer] = offline.request.to("answerInlineQuery")
    assert story_id in [r["id"] for r in answer["results"]]
    assert "button" not in answer


@pytest.mark.parametrize("typed", ["d", "track my order", "zzqx"])
async def test_inline_search_with_nothing_found_offers_to_open_the_bot(offline: Offline, typed: str) -> None:
    await offline.feed(offline.updates.make_inline_query(42, typed))
    [answer] = offline.request.to("answerInlineQuery")
    assert answer["results"] == []
    assert answer["button"] == {"text": offline.teller.ui("en", "open_bot"), "start_parameter": "inline"}
    await offline.feed(offline.updates.make_command(42, "/start inline"))  # where the button leads
    assert offline.request.sent_texts() == [offline.teller.start("", "en")[0].text]


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


async def test_the_flood_notice_says_the_extra_messages_were_skipped(offline: Offline) -> None:
    for lang in ("en", "zh"):
        notice = plain(offline.teller.notice("flood", lang).text)
        assert any(word in notice for word in ("skipped", "跳过")), notice  # and they are: nothing is held


async def test_turning_pages_once_a_second_is_never_slowed(make_offline: MakeOffline, settings: Settings) -> None:
    offline = await make_offline(replace(settings, flood_limit=8))  # the default limit
    await offline.feed(offline.updates.make_command(42, "/stories"))
    for n in range(9):
        await offline.feed(offline.updates.make_callback_query(42, f"p:en:{(n + 1) % 2}"))
    assert [e.outcome for e in offline.sink.exchanges].count("flood") == 0
    assert len(offline.request.to("editMessageText")) == 9
    assert len(offline.request.to("answerCallbackQuery")) == 9


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
