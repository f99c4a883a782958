"""The long-lived services handlers share, kept in `application.bot_data` under these keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

from telegram.ext import Application, ContextTypes

from bot.config import Settings
from bot.live import CatalogStore
from bot.ops.exchange import ExchangeSink
from bot.replies.storyteller import Storyteller
from bot.telegram.flood import FloodControl
from bot.telegram.logging_setup import Redactor

App: TypeAlias = Application[Any, Any, Any, Any, Any, Any]
Context: TypeAlias = ContextTypes.DEFAULT_TYPE
Registrar: TypeAlias = Callable[[App], None]
BlockedCheck: TypeAlias = Callable[[str], bool]

SETTINGS = "settings"
STORE = "store"
STORYTELLER = "storyteller"
SINKS = "sinks"  # list[ExchangeSink]: every handled update's Exchange goes to each
FLOOD = "flood"
BLOCKED = "blocked"  # (user_key) -> bool, checked before any reply
REDACTOR = "redactor"


def nobody_blocked(user_key: str) -> bool:
    """The default block list: empty."""
    return False


def install(
    bot_data: dict[Any, Any],
    settings: Settings,
    store: CatalogStore,
    sinks: list[ExchangeSink],
    blocked: BlockedCheck,
    redactor: Redactor,
) -> None:
    """Put the services where handlers find them."""
    bot_data[SETTINGS] = settings
    bot_data[STORE] = store
    bot_data[STORYTELLER] = store.storyteller()
    bot_data[SINKS] = sinks
    bot_data[FLOOD] = FloodControl(settings.flood_limit, settings.flood_window)
    bot_data[BLOCKED] = blocked
    bot_data[REDACTOR] = redactor


def settings(context: Context) -> Settings:
    """The running settings."""
    value: Settings = context.bot_data[SETTINGS]
    return value


def storyteller(context: Context) -> Storyteller:
    """The core, always reading the current catalogue."""
    return storyteller_of(context.bot_data)


def storyteller_of(bot_data: dict[Any, Any]) -> Storyteller:
    """The storyteller kept in an application's bot_data."""
    value: Storyteller = bot_data[STORYTELLER]
    return value


def sinks(context: Context) -> list[ExchangeSink]:
    """Where exchanges go."""
    value: list[ExchangeSink] = context.bot_data[SINKS]
    return value


def flood(context: Context) -> FloodControl:
    """The per-fan flood control."""
    value: FloodControl = context.bot_data[FLOOD]
    return value


def is_blocked(context: Context, user_key: str) -> bool:
    """Whether moderators blocked this fan."""
    check: BlockedCheck = context.bot_data[BLOCKED]
    return bool(user_key) and check(user_key)


def redactor(context: Context) -> Redactor:
    """Scrubs secrets out of text bound for logs."""
    value: Redactor = context.bot_data[REDACTOR]
    return value
