"""The fan's conversation: handed to the storyteller each turn, moved on by every reply, kept across restarts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fakebot import BOT_USERNAME
from tg_support import GROUP, MakeOffline, Offline, group_text

from bot.config import Settings
from bot.replies.conversation import Conversation
from bot.replies.model import Reply
from bot.telegram.context import CONVERSATIONS

FAN = 42


class AnswerSpy:
    """Wraps the bot's storyteller.answer: the conversation each answer was given."""

    def __init__(self, offline: Offline, monkeypatch: pytest.MonkeyPatch) -> None:
        self.given: list[Conversation | None] = []
        teller = offline.app.bot_data.storyteller
        answer = teller.answer

        def spy(question: str, lang: str | None = None, conversation: Conversation | None = None) -> Reply:
            self.given.append(conversation)
            return answer(question, lang, conversation)

        monkeypatch.setattr(teller, "answer", spy)


def stored(offline: Offline, chat: int, fan: int) -> dict[str, Any]:
    """What the bot keeps (and persists) for one fan's conversation in one chat."""
    table: dict[str, dict[str, Any]] = offline.app.chat_data[chat][CONVERSATIONS]
    return table[str(fan)]


async def test_the_second_question_is_answered_knowing_the_first(
    offline: Offline, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = AnswerSpy(offline, monkeypatch)
    await offline.feed(offline.updates.make_message(FAN, "who stopped for the ducks?"))
    assert stored(offline, FAN, FAN)["story"] == "pearce-ducks"
    await offline.feed(offline.updates.make_message(FAN, "tell me more"))
    first, second = spy.given
    assert first == Conversation()
    assert second is not None and second.story_id == "pearce-ducks" and second.told == ("pearce-ducks",)
    after = stored(offline, FAN, FAN)
    assert after["story"] == "pearce-ducks" and after["at"] >= second.at


async def test_button_presses_and_deep_links_move_the_conversation_on(offline: Offline) -> None:
    await offline.feed(offline.updates.make_command(FAN, "/start summer__pearce-ducks"))
    assert stored(offline, FAN, FAN)["story"] == "pearce-ducks"
    await offline.feed(offline.updates.make_callback_query(FAN, "s:en:founding"))
    assert stored(offline, FAN, FAN)["story"] == "founding"
    assert stored(offline, FAN, FAN)["told"] == ["pearce-ducks", "founding"]


async def test_in_a_group_each_fan_has_their_own_conversation(
    offline: Offline, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = AnswerSpy(offline, monkeypatch)
    await offline.feed(group_text(offline, f"@{BOT_USERNAME} who stopped for the ducks?", user_id=501))
    await offline.feed(group_text(offline, f"@{BOT_USERNAME} how was the company founded?", user_id=502))
    await offline.feed(group_text(offline, f"@{BOT_USERNAME} tell me more", user_id=502))
    assert stored(offline, GROUP, 501)["story"] == "pearce-ducks"
    assert stored(offline, GROUP, 502)["told"] == ["founding"]
    last = spy.given[-1]
    assert last is not None and last.told == ("founding",)  # not the other fan's ducks


async def test_the_conversation_survives_a_restart(make_offline: MakeOffline, monkeypatch: pytest.MonkeyPatch) -> None:
    first = await make_offline()
    await first.feed(first.updates.make_message(FAN, "who stopped for the ducks?"))
    await first.app.update_persistence()
    await first.app.shutdown()  # the same SQLite file, opened again by a new application
    again = await make_offline()
    spy = AnswerSpy(again, monkeypatch)
    await again.feed(again.updates.make_message(FAN, "tell me more"))
    [given] = spy.given
    assert given is not None and given.story_id == "pearce-ducks"


async def test_the_conversation_starts_afresh_after_a_quiet_spell(
    make_offline: MakeOffline, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline = await make_offline(replace(settings, conversation_ttl=600.0))
    spy = AnswerSpy(offline, monkeypatch)
    await offline.feed(offline.updates.make_message(FAN, "who stopped for the ducks?"))
    stored(offline, FAN, FAN)["at"] -= 601  # as if the fan had been quiet for longer than the TTL
    await offline.feed(offline.updates.make_message(FAN, "tell me more"))
    assert spy.given[-1] == Conversation()
    assert stored(offline, FAN, FAN)["told"] == []
