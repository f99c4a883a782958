"""`storybot ask`: answer questions from the command line or stdin, as text or JSON lines."""

from __future__ import annotations

import argparse
import json
import sys

from bot.commands.common import EXIT_BROKEN_CATALOGUE, load_storyteller
from bot.replies.dialogue import Dialogue
from bot.replies.model import Reply
from bot.replies.render import plain


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `ask`."""
    parser.add_argument("question", nargs="*", help="the question; none reads one a line from stdin")
    parser.add_argument("--lang", choices=["en", "zh"], help="answer in this language")
    parser.add_argument(
        "--json",
        action="store_true",
        help='one JSON object a line; stdin lines {"conversation": ID, "question": Q} keep their context',
    )


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
    """Answer each question and print the replies; JSON lines with a conversation id keep its context."""
    teller = load_storyteller(args)
    if teller is None:
        return EXIT_BROKEN_CATALOGUE
    conversations: dict[str, Dialogue] = {}
    lines = [" ".join(args.question)] if args.question else (line.rstrip("\n") for line in sys.stdin)
    for line in lines:
        if not line.strip() and not args.question:
            continue
        conversation, question = _conversation_line(line) if args.json and not args.question else (None, line)
        if conversation is None:
            reply = Dialogue(teller, args.lang).say(question)
        else:
            reply = conversations.setdefault(conversation, Dialogue(teller, args.lang)).say(question)
        if args.json:
            shown = reply.to_json()
            if conversation is not None:
                shown["conversation"] = conversation
            print(json.dumps(shown, ensure_ascii=False), flush=True)
        else:
            print(f"> {question}\n{format_reply(reply)}\n", flush=True)
    return 0


def _conversation_line(line: str) -> tuple[str | None, str]:
    """`{"conversation": ID, "question": Q}` → (ID, Q); any other line is a question on its own."""
    try:
        data = json.loads(line)
    except ValueError:
        return None, line
    if not isinstance(data, dict) or not isinstance(data.get("question"), str):
        return None, line
    conversation = data.get("conversation")
    return (None if conversation is None else str(conversation)), data["question"]
