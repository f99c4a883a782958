"""Fans the moderators blocked, by pseudonymous user key, kept in a small JSON file in the data folder."""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
from pathlib import Path

from bot.config import Settings

USER_KEY = re.compile(r"u_[0-9a-f]{16}")

log = logging.getLogger(__name__)


def blocklist_path(settings: Settings) -> Path:
    """Where the block list lives: beside the bot's other state, in the data folder."""
    return settings.data_dir / "blocklist.json"


def is_user_key(text: str) -> bool:
    """Whether `text` looks like a fan's key as the exchange log shows it (u_ + 16 hex)."""
    return USER_KEY.fullmatch(text) is not None


class Blocklist:
    """A set of user keys; reads are lock-free, changes are written through atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._keys: frozenset[str] = self._load()

    def _load(self) -> frozenset[str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return frozenset()
        except (OSError, ValueError):
            log.exception("could not read the block list %s; starting empty", self.path)
            return frozenset()
        keys = data.get("blocked", []) if isinstance(data, dict) else []
        return frozenset(k for k in keys if isinstance(k, str) and is_user_key(k))

    def is_blocked(self, key: str) -> bool:
        """Whether this fan gets no replies (the Telegram layer's `blocked` check)."""
        return key in self._keys

    __call__ = is_blocked

    def keys(self) -> frozenset[str]:
        """Every blocked key."""
        return self._keys

    def block(self, key: str) -> bool:
        """Block a fan; False when already blocked. ValueError for a malformed key."""
        return self._change(key, add=True)

    def unblock(self, key: str) -> bool:
        """Unblock a fan; False when they were not blocked."""
        return self._change(key, add=False)

    def _change(self, key: str, *, add: bool) -> bool:
        if not is_user_key(key):
            raise ValueError(f"not a fan's key: {key!r}")
        with self._lock:
            if (key in self._keys) == add:
                return False
            keys = self._keys | {key} if add else self._keys - {key}
            self._save(keys)
            self._keys = keys
            return True

    def _save(self, keys: frozenset[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".blocklist-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"blocked": sorted(keys)}, handle, indent=1)
                handle.write("\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
