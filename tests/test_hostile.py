"""Hostile input: every message in tests/data/hostile.yaml (and a few no YAML file can hold)
gets a safe reply. No story is told, the reply is valid Telegram HTML within the limit, and what
the fan typed never comes back as markup and is never evaluated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.matching.text import is_emoji
from bot.replies.html import MESSAGE_LIMIT, html_problems, telegram_length
from bot.replies.model import Outcome
from bot.replies.storyteller import Storyteller

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile.yaml"


def _expand(entry: dict[str, Any]) -> str:
    text = str(entry["text"])
    length = entry.get("length")
    if length is None:
        return text
    return (text * (int(length) // len(text) + 1))[: int(length)]


ENTRIES: list[dict[str, Any]] = yaml.safe_load(HOSTILE.read_text(encoding="utf-8"))
MESSAGES = [_expand(entry) for entry in ENTRIES]
IDS = [f"{n:03d}-{entry['kind']}" for n, entry in enumerate(ENTRIES, start=1)]

# Lone surrogates arrive in JSON ("\ud83e" alone) but cannot be written in YAML.
SURROGATES = ["\ud800", "\udfff", "a\ud83eb", "\udc00{{7*7}}\ud800", "<b>\ud800</b>"]


def test_there_are_at_least_a_hundred_hostile_messages() -> None:
    assert len(MESSAGES) >= 100
    lengths = {len(m) for m in MESSAGES}
    assert {4096, 10000} <= lengths
    assert any("\x00" in m for m in MESSAGES) and any("\u202e" in m for m in MESSAGES)


def assert_safe(storyteller: Storyteller, message: str, lang: str | None = None) -> None:
    """Answer `message` and check everything a hostile fan could hope to break."""
    reply = storyteller.answer(message, lang)
    assert reply.outcome is not Outcome.STORY, (reply.story_id, reply.score)
    assert reply.story_id is None
    assert html_problems(reply.text) == [], reply.text
    assert telegram_length(reply.text) <= MESSAGE_LIMIT
    assert "<script" not in reply.text.lower()
    assert "49" not in reply.text  # {{7*7}} and friends were never evaluated
    if any(char in message for char in "<>&") and len(message.strip()) > 1:
        assert message not in reply.text, "the fan's markup came back as markup"
    for row in reply.buttons:
        for button in row:
            assert len(button.data.encode()) <= 64
            assert message not in button.data or not message.strip()
    json.dumps(reply.to_json(), ensure_ascii=False)  # what `ask --json` and the log write


@pytest.mark.parametrize("message", MESSAGES, ids=IDS)
def test_a_hostile_message_gets_a_safe_reply(storyteller: Storyteller, message: str) -> None:
    assert_safe(storyteller, message)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_hostile_messages_in_a_chosen_language(storyteller: Storyteller, lang: str) -> None:
    for message in MESSAGES[::7]:
        assert_safe(storyteller, message, lang)


@pytest.mark.parametrize("message", SURROGATES)
def test_lone_surrogates_get_a_safe_reply(storyteller: Storyteller, message: str) -> None:
    assert_safe(storyteller, message)


@pytest.mark.parametrize(
    "messages",
    [
        pytest.param(MESSAGES, id="hostile.yaml"),
        pytest.param(SURROGATES, id="surrogates"),
    ],
)
def test_hostile_text_as_button_data_or_deep_link_gets_the_menu(storyteller: Storyteller, messages: list[str]) -> None:
    for message in messages:
        started, _ = storyteller.start(message, "en")
        assert started.outcome is Outcome.MENU
        assert html_problems(started.text) == []
        pressed = storyteller.press(message, "en")
        assert pressed.outcome is Outcome.MENU
        assert html_problems(pressed.text) == []


def _story_emoji(storyteller: Storyteller) -> list[tuple[str, str]]:
    catalog = storyteller.snapshot.catalog
    return [(s.id, k) for s in catalog.stories.values() for ks in s.keywords.values() for k in ks if is_emoji(k)]


def test_a_flood_of_a_story_s_own_emoji_is_still_a_flood(storyteller: Storyteller) -> None:
    found = _story_emoji(storyteller)
    assert len(found) >= 5, "the catalogue's stories have emoji keywords"
    for story_id, emoji in found:
        # One or a few: a fan asking in pictures gets the story.
        assert storyteller.answer(emoji * 3).story_id == story_id, emoji
        for count in (9, 100, 2048):
            assert_safe(storyteller, emoji * count)
            assert_safe(storyteller, "ducks " + emoji * count)


@pytest.mark.parametrize(
    "message",
    [
        "{{ 'taobao' }}",
        "{{7*7}} ducks",
        "{% if true %}jack ma{% endif %}",
        "{# ducks #}",
        "${ebay}",
        "#{ducks}",
        "<%= taobao %>",
        "<b>jack ma</b>",
        "<script>alert('ducks')</script>",
        '<a href="javascript:alert(1)">taobao</a>',
        "< i >kenya ice hockey</ i >",
    ],
)
def test_template_or_markup_syntax_around_a_story_s_words_tells_no_story(
    storyteller: Storyteller, message: str
) -> None:
    assert_safe(storyteller, message)


@pytest.mark.parametrize("message", ["ducks <3", "i <3 taobao > ebay", "is 3<4 ducks", "ducks & rowers"])
def test_a_heart_or_a_comparison_is_not_markup(storyteller: Storyteller, message: str) -> None:
    assert storyteller.answer(message).outcome is Outcome.STORY
