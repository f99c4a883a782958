"""Fake Telegram Bot API server for testing Storybot through real PTB over real HTTP."""

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
    "BOT_USERNAME",
    "FAULT_KINDS",
    "TOKEN",
    "ApiError",
    "Call",
    "FakeTelegram",
    "Fault",
    "HTMLParseError",
    "UploadedFile",
    "WebhookPost",
    "parse_telegram_html",
    "utf16_len",
]
