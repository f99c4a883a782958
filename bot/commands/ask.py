"""`storybot ask`: answer questions from the command line or stdin, as text or JSON lines."""

from __future__ import annotations

import argparse
import json
import sys

from bot.commands.common import EXIT_BROKEN_CATALOGUE, load_storyteller
from bot.replies.model import Reply
from bot.replies.render import plain


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `ask`."""
    parser.add_argument("question", nargs="*", help="the question; none reads one a line from stdin")
    parser.add_argument("--lang", choices=["en", "zh"], help="answer in this language")
    parser.add_argument("--json", action="store_true", help="one JSON object a line")


def format_reply(reply: Reply) -> str:
    """A reply as a marketer reads it in a terminal."""
    head = f"[{reply.outcome.value}"
    if reply.story_id:
        head += f" {reply.story_id}"
    head += f" · score {reply.score:.1f} · {reply.lang}"
    if reply.chapter_count > 1:
        head += f" · part {reply.chapter + 1}/{reply.chapter_count}"
    head += "]"
    if reply.alternatives:
        head += " runners-up: " + ", ".join(f"{a.story_id} {a.score:.1f}" for a in reply.alternatives)
    lines = [head, plain(reply.text, keep_lines=True)]
    labels = [button.label for row in reply.buttons for button in row]
    if labels:
        lines.append("buttons: " + " | ".join(labels))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Answer each question and print the replies."""
    teller = load_storyteller(args)
    if teller is None:
        return EXIT_BROKEN_CATALOGUE
    questions = [" ".join(args.question)] if args.question else (line.rstrip("\n") for line in sys.stdin)
    for question in questions:
        if not question.strip() and not args.question:
            continue
        reply = teller.answer(question, args.lang)
        if args.json:
            print(json.dumps(reply.to_json(), ensure_ascii=False), flush=True)
        else:
            print(f"> {question}\n{format_reply(reply)}\n", flush=True)
    return 0
