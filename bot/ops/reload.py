"""Hot reload: watch the stories folder and swap in a new catalogue when an edit is clean."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bot.catalog.load import MAX_TEMPLATES
from bot.catalog.problems import Problem
from bot.live import CatalogStore
from bot.ops.periodic import Periodic

Signature = tuple[tuple[str, int, int], ...]
ProblemsCallback = Callable[[list[Problem]], None]
ReloadedCallback = Callable[[int], None]

T = TypeVar("T")
SETTLE = 1.0  # an editor's save is often several writes; wait for the folder to be still this long

log = logging.getLogger(__name__)


def signature(root: Path) -> Signature:
    """Names, sizes and modification times of the catalogue's files (*.yaml, *.yml, templates/**).

    Listing is cheap, looking at each file is not: past MAX_TEMPLATES templates (a catalogue that
    big is refused anyway) only their number counts, so 20,000 files cost no CPU while idle.
    """
    templates = _template_files(root / "templates")
    files = [*root.glob("*.yaml"), *root.glob("*.yml"), *map(Path, templates[:MAX_TEMPLATES])]
    entries: list[tuple[str, int, int]] = []
    if len(templates) > MAX_TEMPLATES:
        entries.append(("templates/", len(templates), 0))
    for path in files:
        try:
            status = path.stat()
        except FileNotFoundError:
            continue  # deleted between listing and stat: the next poll sees it gone
        if path.is_file():
            entries.append((path.relative_to(root).as_posix(), status.st_mtime_ns, status.st_size))
    return tuple(sorted(entries))


def _still_since(current: Signature, settle: float) -> bool:
    """Whether no file in the signature was modified within the last `settle` seconds."""
    newest = max((mtime for _, mtime, _ in current), default=0)
    return time.time_ns() - newest >= settle * 1e9


def _template_files(folder: Path) -> list[str]:
    """Every file name under the templates folder, without looking at the files themselves."""
    found: list[str] = []
    for parent, _, names in os.walk(folder):
        found.extend(os.path.join(parent, name) for name in names)
    return sorted(found)


class Watcher:
    """Polls the folder; reloads the store after a change; reports problems of a rejected edit.

    Callbacks run in the caller's thread (the event loop's, in the task form): `on_reload` with
    the new generation, `on_problems` with every problem of a rejected edit.
    """

    def __init__(
        self,
        store: CatalogStore,
        *,
        interval: float = 1.0,
        settle: float = SETTLE,
        on_problems: ProblemsCallback | None = None,
        on_reload: ReloadedCallback | None = None,
    ) -> None:
        self.store = store
        self.settle = settle
        self.on_problems = on_problems
        self.on_reload = on_reload
        self._seen = signature(store.root)
        self._polling = Periodic("the catalogue watcher", interval, self._poll)

    def changed(self) -> bool:
        """Whether the folder differs from what was last loaded (or last tried)."""
        return signature(self.store.root) != self._seen

    def check_once(self) -> tuple[bool, list[Problem]] | None:
        """Reload when the folder changed; None when it did not, else (swapped, problems)."""
        current = signature(self.store.root)
        if current == self._seen:
            return None
        self._seen = current
        return self._report(*self.store.reload())

    def reload_now(self) -> tuple[bool, list[Problem]]:
        """Reload whether or not anything changed (the admins' /reload)."""
        self._seen = signature(self.store.root)
        return self._report(*self.store.reload())

    def start(self) -> None:
        """Start polling every `interval` seconds in the running event loop (the app's post_init)."""
        self._polling.start()

    async def stop(self) -> None:
        """Stop polling (the Telegram app's post_shutdown)."""
        await self._polling.stop()

    async def _poll(self) -> None:
        current = await asyncio.to_thread(signature, self.store.root)
        if current == self._seen:
            return
        # Debounce: reload only once no file has changed for `settle` seconds.
        while not _still_since(current, self.settle):
            await asyncio.sleep(self.settle)
            current = await asyncio.to_thread(signature, self.store.root)
        # The rebuild runs off the event loop; replies keep using the old snapshot meanwhile. A file
        # written to while it was read is not swapped in: the next poll reads it again.
        root = self.store.root
        result = await asyncio.to_thread(self.store.reload, lambda: signature(root) == current)
        if result == (False, []):
            return
        self._seen = current
        self._report(*result)

    def _report(self, swapped: bool, problems: list[Problem]) -> tuple[bool, list[Problem]]:
        root = self.store.root.parent
        if swapped:
            log.info("catalogue reloaded (generation %d)", self.store.generation)
            for problem in problems:
                log.warning("%s", problem.format(root))
            self._call(self.on_reload, self.store.generation)
            return swapped, problems
        errors = [p for p in problems if not p.warning]
        log.error(
            "catalogue edit rejected, still serving generation %d: %d error(s)",
            self.store.generation,
            len(errors),
        )
        for problem in problems:
            log.error("%s", problem.format(root))
        self._call(self.on_problems, problems)
        return swapped, problems

    @staticmethod
    def _call(callback: Callable[[T], None] | None, value: T) -> None:
        """Run a callback; its failure is logged and never stops the watcher."""
        if callback is None:
            return
        try:
            callback(value)
        except Exception:
            log.exception("a catalogue watcher callback failed")
