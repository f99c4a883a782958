"""Reading the exchange log back: durations, rotated files, records since a time, and following."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from bot.ops.exchange import Exchange

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
MAX_DURATION = 10 * 366 * 86400.0  # ten years: more than the log ever holds


def parse_duration(text: str) -> float:
    """Seconds in `30s`, `15m`, `2h`, `7d`, `1w` or a sum like `1h30m`; ValueError otherwise."""
    cleaned = text.strip().lower()
    parts = _DURATION.findall(cleaned)
    if not cleaned or _DURATION.sub("", cleaned).strip():
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 15m, 2h, 7d)")
    seconds = sum(float(number) * _UNITS[unit] for number, unit in parts)
    if not seconds <= MAX_DURATION:  # also inf and nan, from a number of 400 digits
        raise ValueError(f"too long a duration: {text[:20]!r} (at most ten years)")
    return seconds


def parse_line(line: str) -> Exchange | None:
    """One log line as an exchange; None for blank, partial or foreign lines."""
    line = line.strip()
    if not line:
        return None
    try:
        record = json.loads(line)
        return Exchange.from_json(record) if isinstance(record, dict) else None
    except ValueError:
        return None


def log_files(path: Path) -> list[Path]:
    """The log and its rotated copies (`path.1`, `path.2`, …), oldest first."""
    rotated: list[tuple[int, Path]] = []
    for candidate in path.parent.glob(path.name + ".*"):
        suffix = candidate.name[len(path.name) + 1 :]
        if suffix.isdigit():
            rotated.append((int(suffix), candidate))
    files = [p for _, p in sorted(rotated, reverse=True)]
    if path.exists():
        files.append(path)
    return files


def read_records(
    path: Path, since: float | None = None, *, rotated: bool = True, live: bool = True
) -> Iterator[Exchange]:
    """Records at or after `since`, oldest first, from the rotated files and/or the live one."""
    files = [f for f in log_files(path) if (rotated and f != path) or (live and f == path)]
    for file in files:
        try:
            # A rotated file last written before `since` holds only older records.
            if since is not None and file != path and file.stat().st_mtime < since:
                continue
            with file.open(encoding="utf-8", errors="replace") as handle:
                yield from _since(map(parse_line, handle), since)
        except FileNotFoundError:
            continue  # rotated away while we were reading


def _since(records: Iterable[Exchange | None], since: float | None) -> Iterator[Exchange]:
    for record in records:
        if record is not None and (since is None or record.time >= since):
            yield record


class LogTail:
    """The end of the live log file, read in binary so offsets are exact and lines split cleanly."""

    def __init__(self, path: Path, *, from_start: bool = False) -> None:
        self.path = path
        self._from_start = from_start
        self._handle: BinaryIO | None = None
        self._identity: tuple[int, int] | None = None
        self._buffer = b""

    def poll(self) -> list[Exchange]:
        """Records appended since the last poll; after a rotation or truncation, the new file's."""
        lines = self._read_lines()
        if not lines and self._replaced():
            lines = self._read_lines()  # written to the old file just before the rotation
            self.close()
            self._from_start = True
            lines += self._read_lines()
        return list(_since(map(parse_line, lines), None))

    def close(self) -> None:
        """Close the file, forgetting any partial line."""
        if self._handle is not None:
            self._handle.close()
        self._handle, self._identity, self._buffer = None, None, b""

    def __enter__(self) -> LogTail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read_lines(self) -> list[str]:
        if self._handle is None and not self._open():
            return []
        assert self._handle is not None
        self._buffer += self._handle.read()
        *lines, self._buffer = self._buffer.split(b"\n")
        return [line.decode("utf-8", errors="replace") for line in lines]

    def _replaced(self) -> bool:
        if self._handle is None:
            return False
        try:
            status = self.path.stat()
        except FileNotFoundError:
            return False  # between the rename and the new file: keep the old one for now
        if (status.st_dev, status.st_ino) != self._identity:
            return True
        return status.st_size < self._handle.tell()

    def _open(self) -> bool:
        try:
            self._handle = self.path.open("rb")
        except FileNotFoundError:
            self._from_start = True  # when it appears, all of it is new
            return False
        status = os.fstat(self._handle.fileno())
        self._identity = (status.st_dev, status.st_ino)
        if not self._from_start:
            self._handle.seek(0, os.SEEK_END)
        self._from_start = True  # a file that appears later is read whole
        return True


def follow(
    tail: LogTail,
    *,
    wait: Callable[[], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[Exchange]:
    """Records as they are appended, until stop() is true after a wait.

    `wait` is called whenever there is nothing new (default: sleep half a second).
    """
    pause = wait or (lambda: time.sleep(0.5))
    while True:
        records = tail.poll()
        if records:
            yield from records
            continue
        pause()
        if stop():
            return
