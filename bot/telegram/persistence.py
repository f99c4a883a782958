"""PTB persistence in SQLite (stdlib sqlite3, WAL): user, chat and bot data stored as JSON."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

_LOGGER = logging.getLogger(__name__)
Data = dict[Any, Any]
# The shapes PTB passes (spelled out here because PTB keeps its aliases private).
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]
ConversationKey = tuple[int | str, ...]
ConversationDict = MutableMapping[ConversationKey, object]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS data (
    kind TEXT NOT NULL,          -- user, chat, bot, callback, conversation:<name>
    key TEXT NOT NULL,           -- the id (or conversation key) as JSON
    value TEXT NOT NULL,         -- the data as JSON
    PRIMARY KEY (kind, key)
)
"""
# Updates already answered, so one Telegram sends again after a crash is not answered twice.
_HANDLED_SCHEMA = "CREATE TABLE IF NOT EXISTS handled (update_id INTEGER PRIMARY KEY, at REAL NOT NULL)"
HANDLED_KEPT = 2 * 86400.0  # Telegram keeps an unconfirmed update for a day
_PRUNE_EVERY = 1000


_KINDS_WITH_INT_KEYS = ("user", "chat")


def _open(path: Path, *, check: bool) -> sqlite3.Connection:
    """The state database; with `check`, every row is read once so damage shows now, not mid-reply."""
    # One connection used only from the event loop thread; each write is one short commit.
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(_SCHEMA)
        db.execute(_HANDLED_SCHEMA)
        if check:
            columns = [row[1] for row in db.execute("PRAGMA table_info(data)")]
            if columns != ["kind", "key", "value"]:
                raise ValueError("the data table has other columns")
            if db.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise ValueError("the database is damaged")
            for kind, key, value in db.execute("SELECT kind, key, value FROM data"):
                decoded_key, decoded = json.loads(key), json.loads(value)
                if kind in _KINDS_WITH_INT_KEYS:
                    int(decoded_key)  # PTB's ids; a ValueError or TypeError otherwise
                    if not isinstance(decoded, dict):
                        raise ValueError("a fan's or chat's row is not a mapping")
    except BaseException:
        db.close()
        raise
    return db


def _set_aside(path: Path) -> Path:
    """Move a damaged state file (and its WAL files) out of the way; return where it went."""
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists() or source.is_symlink():
            os.replace(source, f"{aside}{suffix}")
    return aside


class SQLitePersistence(BasePersistence[Data, Data, Data]):
    """Keeps what fans chose and where they are (language, last story, conversations) across restarts."""

    def __init__(
        self,
        path: Path,
        store_data: PersistenceInput | None = None,
        update_interval: float = 5.0,
    ) -> None:
        super().__init__(
            store_data=store_data or PersistenceInput(callback_data=False),
            update_interval=update_interval,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.set_aside: Path | None = None  # where a damaged state file was moved, if it was
        self._failing = False  # the last write failed (a full disk): said once
        try:
            self._db = _open(path, check=True)
        except (sqlite3.Error, OSError, ValueError, TypeError) as exc:
            self.set_aside = _set_aside(path)
            _LOGGER.warning(
                "The state file %s could not be read (%s); moved it to %s and started afresh",
                path,
                type(exc).__name__,
                self.set_aside.name,
            )
            self._db = _open(path, check=False)

    def damage_report(self) -> list[str]:
        """For the moderators' digest: the state file set aside at start, if one was."""
        if self.set_aside is None:
            return []
        return [
            f"The state file could not be read; it was moved to {self.set_aside.name} and the bot "
            "started afresh (fans choose their language again)."
        ]

    # --- updates already handled -------------------------------------------------------------

    def was_handled(self, update: object) -> bool:
        """Whether this update was answered before (by this process or one before a crash)."""
        update_id = getattr(update, "update_id", None)
        if not isinstance(update_id, int):
            return False
        try:
            found = self._db.execute("SELECT 1 FROM handled WHERE update_id = ?", (update_id,)).fetchone()
        except sqlite3.Error:  # an unreadable state file: answering twice beats not answering
            return False
        return found is not None

    def mark_handled(self, update: object) -> None:
        """Remember that this update was answered; now and then forget those Telegram no longer sends."""
        update_id = getattr(update, "update_id", None)
        if not isinstance(update_id, int):
            return
        now = time.time()
        self._write("INSERT OR REPLACE INTO handled (update_id, at) VALUES (?, ?)", (update_id, now))
        self._marks = getattr(self, "_marks", 0) + 1
        if self._marks % _PRUNE_EVERY == 0:
            self._write("DELETE FROM handled WHERE at < ?", (now - HANDLED_KEPT,))

    # --- reading ------------------------------------------------------------------------------

    def _rows(self, kind: str) -> list[tuple[Any, Any]]:
        rows = self._db.execute("SELECT key, value FROM data WHERE kind = ?", (kind,)).fetchall()
        return [(json.loads(key), json.loads(value)) for key, value in rows]

    def _one(self, kind: str, key: Any) -> Any:
        row = self._db.execute("SELECT value FROM data WHERE kind = ? AND key = ?", (kind, json.dumps(key))).fetchone()
        return None if row is None else json.loads(row[0])

    async def get_user_data(self) -> dict[int, Data]:
        """Every fan's stored data."""
        return {int(key): value for key, value in self._rows("user")}

    async def get_chat_data(self) -> dict[int, Data]:
        """Every chat's stored data."""
        return {int(key): value for key, value in self._rows("chat")}

    async def get_bot_data(self) -> Data:
        """The stored bot-wide data."""
        stored = self._one("bot", "bot")
        return stored if isinstance(stored, dict) else {}

    async def get_callback_data(self) -> CDCData | None:
        """Arbitrary callback data, if it was ever stored (Storybot's buttons carry their own)."""
        stored = self._one("callback", "callback")
        if stored is None:
            return None
        queries, mapping = stored
        return [(key, when, data) for key, when, data in queries], mapping

    async def get_conversations(self, name: str) -> ConversationDict:
        """The states of one ConversationHandler."""
        return {tuple(key): state for key, state in self._rows(f"conversation:{name}")}

    # --- writing ------------------------------------------------------------------------------

    def _put(self, kind: str, key: Any, value: Any) -> None:
        try:
            encoded = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):
            _LOGGER.warning("Not persisting %s data %s: it is not JSON", kind, key)
            return
        self._write(
            "INSERT INTO data (kind, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
            (kind, json.dumps(key), encoded),
        )

    def _drop(self, kind: str, key: Any) -> None:
        self._write("DELETE FROM data WHERE kind = ? AND key = ?", (kind, json.dumps(key)))

    def _write(self, statement: str, values: tuple[Any, ...]) -> None:
        """One write; a full or read-only disk is logged once (until writes work again), never raised."""
        try:
            self._db.execute(statement, values)
        except sqlite3.Error as exc:
            if not self._failing:
                _LOGGER.warning("Could not write the state file %s (%s); replies go on", self.path, exc)
            self._failing = True
            return
        if self._failing:
            _LOGGER.warning("The state file %s can be written again", self.path)
        self._failing = False

    async def update_user_data(self, user_id: int, data: Data) -> None:
        """Store one fan's data."""
        self._put("user", user_id, data)

    async def update_chat_data(self, chat_id: int, data: Data) -> None:
        """Store one chat's data."""
        self._put("chat", chat_id, data)

    async def update_bot_data(self, data: Data) -> None:
        """Store the bot-wide data."""
        self._put("bot", "bot", data)

    async def update_callback_data(self, data: CDCData) -> None:
        """Store arbitrary callback data."""
        self._put("callback", "callback", data)

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        """Store (or, for None, forget) one conversation's state."""
        if new_state is None:
            self._drop(f"conversation:{name}", list(key))
        else:
            self._put(f"conversation:{name}", list(key), new_state)

    async def drop_user_data(self, user_id: int) -> None:
        """Forget one fan."""
        self._drop("user", user_id)

    async def drop_chat_data(self, chat_id: int) -> None:
        """Forget one chat."""
        self._drop("chat", chat_id)

    async def refresh_user_data(self, user_id: int, user_data: Data) -> None:
        """Nothing to do: this process is the only writer."""

    async def refresh_chat_data(self, chat_id: int, chat_data: Data) -> None:
        """Nothing to do: this process is the only writer."""

    async def refresh_bot_data(self, bot_data: Data) -> None:
        """Nothing to do: this process is the only writer."""

    async def flush(self) -> None:
        """Checkpoint the WAL and close; PTB calls this once, at shutdown."""
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:  # a full disk at shutdown: what is in the WAL stays there
            _LOGGER.warning("Could not checkpoint the state file %s (%s)", self.path, exc)
        finally:
            self._db.close()
