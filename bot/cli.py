"""`storybot`: one entry point; each command lives in its own module under bot/commands/."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bot.config import SettingsError

EXIT_BAD_SETTING = 2

# The order here is the order `storybot --help` lists them in.
COMMANDS: dict[str, str] = {
    "chat": "talk to the bot in this console, offline",
    "ask": "answer questions (arguments or one a line on stdin), as text or --json",
    "check": "check the catalogue: every problem with its file, line and fix",
    "eval": "measure matching on a labelled file of questions",
    "list": "list the catalogue",
    "run": "run the Telegram bot (--polling, or --webhook; default: webhook when WEBHOOK_URL is set)",
    "health": "exit 0 when the bot is healthy: the catalogue loads, and in webhook mode /healthz answers",
    "init": "copy the sample catalogue into a folder, as the start of a brand's own",
    "logs": "show the exchange log, live with --follow",
    "report": "summarise the exchange log: hits, misses grouped, campaigns",
    "broadcast": "send a story to every subscriber (--dry-run first; --status for progress)",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with `only`, just that command's module is imported (a faster start)."""
    parser = argparse.ArgumentParser(prog="storybot", description="A storytelling chatbot.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--stories",
        metavar="DIR",
        help="the catalogue folder (default: $STORIES_DIR, else the shipped stories/)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, summary in COMMANDS.items():
        command = sub.add_parser(name, help=summary, description=summary, parents=[common])
        if only in (None, name):
            module = importlib.import_module(f"bot.commands.{name}")
            module.add_arguments(command)
            command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one command; returns the exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    chosen = next((word for word in words if not word.startswith("-")), None)
    args = build_parser(chosen if chosen in COMMANDS else None).parse_args(words)
    try:
        return int(args.run(args))
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_SETTING
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
