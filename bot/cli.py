"""`storybot`: one entry point; each command lives in its own module under bot/commands/."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# The order here is the order `storybot --help` lists them in.
COMMANDS: dict[str, str] = {
    "chat": "talk to the bot in this console, offline",
    "ask": "answer questions (arguments or one a line on stdin), as text or --json",
    "check": "check the catalogue: every problem with its file, line and fix",
    "eval": "measure matching on a labelled file of questions",
    "list": "list the catalogue",
    "run": "run the Telegram bot (polling, or webhook when WEBHOOK_URL is set)",
    "logs": "show the exchange log, live with --follow",
    "report": "summarise the exchange log: hits, misses grouped, campaigns",
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with every command's own options."""
    parser = argparse.ArgumentParser(prog="storybot", description="A storytelling chatbot.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--stories",
        metavar="DIR",
        help="the catalogue folder (default: $STORIES_DIR, else the shipped stories/)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, summary in COMMANDS.items():
        module = importlib.import_module(f"bot.commands.{name}")
        command = sub.add_parser(name, help=summary, description=summary, parents=[common])
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
