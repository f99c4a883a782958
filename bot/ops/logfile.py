"""Exchange sinks that write JSON lines: the rotated log file and standard output."""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import threading
from pathlib import Path
from typing import TextIO

from bot.config import Settings
from bot.ops.exchange import Exchange, ExchangeSink

MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 5

log = logging.getLogger(__name__)


def to_line(exchange: Exchange) -> str:
    """One exchange as one JSON line (no newline); non-ASCII kept readable."""
    line = json.dumps(exchange.to_json(), ensure_ascii=False, separators=(",", ":"))
    # A lone surrogate (Telegram passes them through) cannot be written as UTF-8: make it "?".
    return line.encode("utf-8", "replace").decode("utf-8")


class _QuietRotatingHandler(logging.handlers.RotatingFileHandler):
    """Rotates by size; a failed write is never raised into the bot, and a run of them (a full disk)
    is one warning, not a traceback an exchange, until a write works again."""

    failing = False
    _wrote = True

    def emit(self, record: logging.LogRecord) -> None:
        self._wrote = True
        super().emit(record)  # calls handleError on failure
        if self._wrote and self.failing:
            self.failing = False
            log.warning("the exchange log %s is written again", self.baseFilename)

    def handleError(self, record: logging.LogRecord) -> None:
        self._wrote = False
        if not self.failing:
            self.failing = True
            log.warning(
                "could not write to the exchange log %s (%s); exchanges are not logged until it works again",
                self.baseFilename,
                sys.exc_info()[1],
            )


class FileSink:
    """Appends one JSON line per exchange to a file rotated at `max_bytes`, keeping `backups`."""

    def __init__(self, path: Path, *, max_bytes: int = MAX_BYTES, backups: int = BACKUPS) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # A private logger object (not registered globally, no parents): nothing propagates to
        # the application's logs, and the handler's own lock makes writes and rollovers atomic.
        self._logger = logging.Logger(f"storybot.exchanges:{path}", logging.INFO)
        self._logger.propagate = False
        self._handler = _QuietRotatingHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True
        )
        self._handler.setFormatter(logging.Formatter("%(message)s"))
        self._logger.addHandler(self._handler)

    def record(self, exchange: Exchange) -> None:
        """Write the exchange; never raises."""
        try:
            self._logger.info("%s", to_line(exchange))
        except Exception:  # a log must never break a reply
            log.exception("could not log an exchange")

    def close(self) -> None:
        """Flush and close the file."""
        self._logger.removeHandler(self._handler)
        self._handler.close()


class StreamSink:
    """Writes one JSON line per exchange to a stream (standard output for a log shipper)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def record(self, exchange: Exchange) -> None:
        """Write the exchange and flush; never raises."""
        try:
            line = to_line(exchange) + "\n"
            stream = self._stream if self._stream is not None else sys.stdout
            with self._lock:
                stream.write(line)
                stream.flush()
        except Exception:  # a closed pipe must not break a reply
            log.exception("could not write an exchange to the stream")

    def close(self) -> None:
        """Nothing to release (the stream belongs to the caller)."""


def open_sinks(settings: Settings) -> list[ExchangeSink]:
    """The sinks the settings ask for: always the log file, and stdout when asked."""
    sinks: list[ExchangeSink] = [FileSink(settings.exchange_log)]
    if settings.log_to_stdout:
        sinks.append(StreamSink())
    return sinks


def close_sinks(sinks: list[ExchangeSink]) -> None:
    """Close every sink that can be closed."""
    for sink in sinks:
        close = getattr(sink, "close", None)
        if callable(close):
            close()
