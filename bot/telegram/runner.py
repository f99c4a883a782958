"""How `storybot run` receives updates: long polling, or a webhook when WEBHOOK_URL is set."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from telegram import Update

from bot.config import Settings
from bot.telegram.services import App

_LOGGER = logging.getLogger(__name__)
# Only what the bot answers; edited messages and the rest never leave Telegram.
ALLOWED_UPDATES = (Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY)
BOOTSTRAP_RETRIES = 5
POLL_TIMEOUT = 30


def polling_options() -> dict[str, Any]:
    """Arguments for Application.run_polling (and Updater.start_polling)."""
    return {
        "allowed_updates": list(ALLOWED_UPDATES),
        "poll_interval": 0.0,
        "timeout": POLL_TIMEOUT,
        "bootstrap_retries": BOOTSTRAP_RETRIES,
        "drop_pending_updates": False,  # updates that arrived while we were down still count
    }


def webhook_options(settings: Settings, listen: str = "0.0.0.0") -> dict[str, Any]:
    """Arguments for Application.run_webhook (and Updater.start_webhook).

    The local path is WEBHOOK_URL's path, so a platform router forwarding that URL to PORT
    reaches the handler. PTB answers 403 to any POST without the secret token header.
    """
    return {
        "listen": listen,
        "port": settings.port,
        "url_path": urlsplit(settings.webhook_url).path.strip("/"),
        "webhook_url": settings.webhook_url,
        "secret_token": settings.webhook_secret.get(),
        "allowed_updates": list(ALLOWED_UPDATES),
        "bootstrap_retries": BOOTSTRAP_RETRIES,
        "drop_pending_updates": False,
    }


def run(app: App, settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM; PTB then finishes the updates in flight and shuts down."""
    if settings.webhook_url:
        _LOGGER.info("Receiving updates by webhook on port %d", settings.port)
        app.run_webhook(**webhook_options(settings))
    else:
        _LOGGER.info("Receiving updates by long polling")
        app.run_polling(**polling_options())
