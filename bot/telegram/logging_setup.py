"""Logging for `storybot run`: LOG_LEVEL, quiet HTTP libraries, and no secret ever written."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO

TOKEN_SHAPE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
REDACTED = "[REDACTED]"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET_LOGGERS = ("httpx", "httpcore", "aiohttp")
# Libraries that log updates (names, ids, words) at INFO or DEBUG: WARNING unless DEBUG is asked for.
LIBRARY_LOGGERS = ("telegram", "tornado", "apscheduler")
_MIN_SECRET = 4  # shorter "secrets" would blank out ordinary words
_SHORT_ARG = 80  # a library's string argument longer than this may be a dump (a method name is not)


class Redactor:
    """Replaces bot-token-shaped strings and the given secrets with a marker."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if len(s) >= _MIN_SECRET}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """The text with every secret replaced."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_SHAPE.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record (message, args, exception and stack text) before any handler sees it."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redact = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place; never drops a record. Library records (PTB at DEBUG) name an update by
        its id and never dump one, nor a Bot API call's parameters or answer: they hold fans'
        names, ids and words."""
        if record.name.split(".", 1)[0] in LIBRARY_LOGGERS and record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(_described(arg) for arg in args)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class _NoRejectedTokenTraceback(logging.Filter):
    """Drops PTB's own traceback for a token Telegram rejects: `storybot run` says it in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a record carrying InvalidToken."""
        error = record.exc_info[1] if record.exc_info else None
        return type(error).__name__ != "InvalidToken"


def _described(arg: object) -> object:
    update_id = getattr(arg, "update_id", None)
    if isinstance(update_id, int):
        return f"<update {update_id}>"
    if isinstance(arg, str | bytes | dict | list | tuple | set) or hasattr(arg, "to_dict"):
        return "<contents not logged>" if not isinstance(arg, str) or len(arg) > _SHORT_ARG else arg
    return arg


class _StorybotHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler configure_logging installs (so a second call replaces it)."""


def configure_logging(
    level: str = "INFO", secrets: Iterable[str] = (), stream: TextIO | None = None
) -> logging.Handler:
    """Log to stderr (or `stream`) at `level`; every root handler redacts secrets."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StorybotHandler)]:
        root.removeHandler(old)
    handler = _StorybotHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(_NoRejectedTokenTraceback())
    root.addHandler(handler)
    root.setLevel(logging.getLevelNamesMapping().get(level.upper(), logging.INFO))
    redacting = RedactingFilter(Redactor(secrets))
    for each in root.handlers:
        for old_filter in [f for f in each.filters if isinstance(f, RedactingFilter)]:
            each.removeFilter(old_filter)
        each.addFilter(redacting)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if level.upper() == "DEBUG" else logging.WARNING)
    return handler
