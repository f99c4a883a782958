"""`storybot chat`: talk to the bot in this console, offline; buttons become numbered choices."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator

from bot.commands.common import EXIT_BROKEN_CATALOGUE, load_storyteller
from bot.replies.dialogue import Dialogue
from bot.replies.model import Button, Reply
from bot.replies.render import plain
from bot.replies.storyteller import Storyteller

PROMPT = "you> "


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `chat`."""
    parser.add_argument("--lang", choices=["en", "zh"], help="answer in this language")


class ConsoleChat:
    """One console conversation: the core's Dialogue plus the buttons on screen, numbered."""

    def __init__(self, teller: Storyteller, lang: str | None = None) -> None:
        self.dialogue = Dialogue(teller, lang)
        self.buttons: list[Button] = []

    def opening(self) -> str:
        """What the bot says first (the /start greeting)."""
        return self.show(self.dialogue.start())

    def turn(self, line: str) -> str:
        """The bot's answer to one line: a number presses a button, anything else is a message."""
        text = line.strip()
        if text.isdigit() and 1 <= int(text) <= len(self.buttons):
            return self.show(self.dialogue.press(self.buttons[int(text) - 1].data))
        return self.show(self.dialogue.say(text))

    def show(self, reply: Reply) -> str:
        """A reply as console text, its buttons numbered."""
        self.buttons = [button for row in reply.buttons for button in row]
        lines = [plain(reply.text, keep_lines=True)]
        lines.extend(f"  [{n}] {button.label}" for n, button in enumerate(self.buttons, 1))
        return "\n".join(lines)


def converse(chat: ConsoleChat, lines: Iterator[str], write: Callable[[str], None]) -> None:
    """Run a conversation over any source of lines (stdin, or a list in tests)."""
    write(chat.opening() + "\n")
    for line in lines:
        if line.strip().lower() in {"quit", "exit", "/quit", "退出"}:
            break
        if line.strip():
            write(chat.turn(line) + "\n")


def _stdin_lines() -> Iterator[str]:
    interactive = sys.stdin.isatty()
    while True:
        try:
            line = input(PROMPT) if interactive else sys.stdin.readline()
        except EOFError:
            return
        if not interactive and not line:
            return
        yield line


def run(args: argparse.Namespace) -> int:
    """Chat until `quit` or end of input."""
    teller = load_storyteller(args)
    if teller is None:
        return EXIT_BROKEN_CATALOGUE
    print("Storybot console — type a question, a number to press a button, /help, or quit.\n")
    converse(ConsoleChat(teller, args.lang), _stdin_lines(), lambda text: print(text, flush=True))
    return 0
