"""The live catalogue: one Snapshot served at a time, replaced whole by a successful reload."""

from __future__ import annotations

import threading
from pathlib import Path

from bot.problems import CatalogError, Problem
from bot.replies import Snapshot, Storyteller
from bot.validate import build_snapshot


class CatalogStore:
    """Holds the last good snapshot; a broken edit never replaces it."""

    def __init__(self, root: Path, snapshot: Snapshot) -> None:
        self.root = root
        self._snapshot = snapshot
        self._lock = threading.Lock()
        self.generation = 1

    @classmethod
    def open(cls, root: Path) -> CatalogStore:
        """Load the catalogue or raise CatalogError with every problem."""
        snapshot, problems = build_snapshot(root)
        if snapshot is None:
            raise CatalogError(problems)
        return cls(root, snapshot)

    def current(self) -> Snapshot:
        """The snapshot to answer with (a plain attribute read: no lock on the hot path)."""
        return self._snapshot

    def storyteller(self) -> Storyteller:
        """A storyteller that always reads the current snapshot."""
        return Storyteller(self.current)

    def reload(self) -> tuple[bool, list[Problem]]:
        """Rebuild from disk; swap only when clean. Returns (swapped, problems)."""
        with self._lock:
            snapshot, problems = build_snapshot(self.root)
            if snapshot is None:
                return False, problems
            self._snapshot = snapshot
            self.generation += 1
            return True, problems
