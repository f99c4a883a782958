"""Fake Telegram Bot API server for testing Storybot through real PTB over real HTTP,
and an offline request double that answers PTB from memory without any HTTP."""

from .offline import BOT_ID, BOT_USER, ApiCall, OfflineRequest
from .server import (
    BOT_USERNAME,
    FAULT_KINDS,
    TOKEN,
    ApiError,
    Call,
    FakeTelegram,
    Fault,
    HTMLParseError,
    UploadedFile,
    WebhookPost,
    parse_telegram_html,
    utf16_len,
)

__all__ = [
    "BOT_ID",
    "BOT_USER",
    "BOT_USERNAME",
    "FAULT_KINDS",
    "TOKEN",
    "ApiCall",
    "ApiError",
    "Call",
    "FakeTelegram",
    "Fault",
    "HTMLParseError",
    "OfflineRequest",
    "UploadedFile",
    "WebhookPost",
    "parse_telegram_html",
    "utf16_len",
]
