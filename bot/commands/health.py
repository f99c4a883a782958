"""`storybot health`: the container's health check; exit 0 when the bot can serve, 1 otherwise.

The catalogue must load; in webhook mode the bot's own server must also answer 200 on /healthz
(on 127.0.0.1:$PORT, so the check never leaves the machine).
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request

from bot.commands.common import WEBHOOK_MODE, add_mode_arguments, choose_mode, settings_for
from bot.config import CATALOGUE
from bot.live import build_snapshot

EXIT_UNHEALTHY = 1
HEALTH_PATH = "/healthz"
TIMEOUT = 3.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `health`."""
    add_mode_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """One line: healthy, or what is not."""
    settings = settings_for(args, *CATALOGUE)
    mode = choose_mode(args, settings)
    snapshot, _ = build_snapshot(settings.stories_dir)
    if snapshot is None:
        print(f"unhealthy: the catalogue in {settings.stories_dir} has errors", file=sys.stderr)
        return EXIT_UNHEALTHY
    said = f"catalogue {len(snapshot.catalog.stories)} stories"
    if mode == WEBHOOK_MODE:
        settings.require("PORT")
        url = f"http://127.0.0.1:{settings.port}{HEALTH_PATH}"
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            print(f"unhealthy: {said}, but {url} did not answer ({exc})", file=sys.stderr)
            return EXIT_UNHEALTHY
        if status != 200:
            print(f"unhealthy: {said}, but {url} answered {status}", file=sys.stderr)
            return EXIT_UNHEALTHY
        said += f", {url} answered 200"
    print(f"healthy: {said}")
    return 0
