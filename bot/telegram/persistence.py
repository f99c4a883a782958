"""PTB persistence in SQLite (stdlib sqlite3, WAL): user, chat and bot data stored as JSON."""

from __future__ import annotations

import json
import logging
import sqlite3
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
        # One connection used only from the event loop thread; each write is one short commit.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

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
        self._db.execute(
            "INSERT INTO data (kind, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
            (kind, json.dumps(key), encoded),
        )

    def _drop(self, kind: str, key: Any) -> None:
        self._db.execute("DELETE FROM data WHERE kind = ? AND key = ?", (kind, json.dumps(key)))

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
        finally:
            self._db.close()
