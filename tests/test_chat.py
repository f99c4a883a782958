"""`storybot chat`: the console conversation, in process and as a newcomer runs it."""

from __future__ import annotations

import subprocess
import sys

from bot.commands.chat import ConsoleChat, converse
from bot.replies.storyteller import Storyteller


def test_chat_opens_with_the_greeting_and_numbers_the_buttons(storyteller: Storyteller) -> None:
    chat = ConsoleChat(storyteller)
    opening = chat.opening()
    assert "[1]" in opening and chat.buttons


def test_chat_keeps_the_conversation_from_line_to_line(storyteller: Storyteller) -> None:
    chat = ConsoleChat(storyteller)
    chat.opening()
    assert "Pearce" in chat.turn("the rower and the ducks")
    assert "Pearce" in chat.turn("did he win?")


def test_a_number_presses_a_button_and_the_story_becomes_the_context(storyteller: Storyteller) -> None:
    chat = ConsoleChat(storyteller)
    chat.turn("alibaba")  # a "did you mean" with numbered stories
    labels = [b.label for b in chat.buttons]
    number = next(n for n, label in enumerate(labels, 1) if "began" in label.lower())
    assert "Jack Ma" in chat.turn(str(number))
    assert "Jack Ma" in chat.turn("was he really a teacher?")


def test_the_language_button_switches_the_language(storyteller: Storyteller) -> None:
    chat = ConsoleChat(storyteller)
    chat.turn("/language")
    number = next(n for n, b in enumerate(chat.buttons, 1) if b.data == "l:zh")
    chat.turn(str(number))
    assert "鸭" in chat.turn("the ducks")


def test_converse_stops_at_quit(storyteller: Storyteller) -> None:
    written: list[str] = []
    converse(ConsoleChat(storyteller), iter(["ducks", "quit", "kenya"]), written.append)
    assert len(written) == 2  # the greeting and one answer; nothing after quit


def test_storybot_chat_in_a_real_process() -> None:
    lines = "the rower and the ducks\ndid he win?\n讲个故事\nquit\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat"], input=lines, capture_output=True, text=True, timeout=60, check=True
    )
    out = result.stdout
    assert out.count("Pearce") >= 2  # the story, then the follow-up answered from it
    assert any("\u4e00" <= ch <= "\u9fff" for ch in out)  # 讲个故事 told a story in Chinese
