"""Admin commands as pure logic: /stats, /misses, /reload, /block, /unblock → Telegram HTML.

For anyone not in ADMIN_IDS these commands do not exist: handle() returns None and the caller
goes on as if the message were any other text or unknown command.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from bot.catalog.problems import Problem
from bot.live import CatalogStore
from bot.ops.blocklist import Blocklist
from bot.ops.fans import is_handle, resolve
from bot.ops.logread import parse_duration, read_records
from bot.ops.reload import Watcher
from bot.ops.report import Report, summarise
from bot.ops.templating import render, render_fitting
from bot.replies.html import MESSAGE_LIMIT

COMMANDS = ("stats", "misses", "reload", "block", "unblock")
WINDOW = 86400.0
KNOWN_FANS = 30 * 86400.0
MISSES_SHOWN = ((10, 3, 80), (8, 2, 60), (5, 1, 40), (3, 1, 30))  # clusters, examples, chars
PROBLEMS_SHOWN = ((10, 300), (5, 200), (3, 120), (1, 80))  # problems, chars


def stats_text(report: Report, window: float, subscribers: dict[str, int] | None = None) -> str:
    """The /stats reply: the report's figures, top stories and campaigns, and subscribers."""
    return render_fitting(
        "admin_stats.html.j2",
        [{"shown": n} for n in (10, 5, 3, 0)],
        MESSAGE_LIMIT,
        report=report,
        window=window,
        subscribers=subscribers,
    )


def misses_text(report: Report, window: float) -> str:
    """The /misses reply: the largest clusters of misses with the closest story."""
    layouts = [{"clusters": report.clusters[:n], "examples": e, "chars": c} for n, e, c in MISSES_SHOWN]
    return render_fitting("admin_misses.html.j2", layouts, MESSAGE_LIMIT, report=report, window=window)


def reload_text(swapped: bool, problems: list[Problem], generation: int, root: Path) -> str:
    """The /reload reply: the new generation, or why the edit was rejected."""
    formatted = [p.format(root) for p in problems if swapped or not p.warning]
    layouts = [{"problems": formatted[:n], "more": max(len(formatted) - n, 0), "chars": c} for n, c in PROBLEMS_SHOWN]
    return render_fitting("admin_reload.html.j2", layouts, MESSAGE_LIMIT, swapped=swapped, generation=generation)


class AdminCommands:
    """The admins' commands over the running bot's services."""

    def __init__(
        self,
        admin_ids: Iterable[int],
        *,
        store: CatalogStore,
        blocklist: Blocklist,
        log_path: Path,
        watcher: Watcher | None = None,
        clock: Callable[[], float] = time.time,
        admin_keys: Iterable[str] = (),
    ) -> None:
        self.admin_ids = frozenset(admin_ids)
        self.admin_keys = frozenset(admin_keys)  # the admins' own user keys: never blocked
        self.store = store
        self.blocklist = blocklist
        self.log_path = log_path
        self.watcher = watcher
        self._clock = clock
        self.subscribers: Callable[[], dict[str, int]] | None = None  # per language, when broadcasting

    def is_admin(self, user_id: int | None) -> bool:
        """Whether this Telegram user id is in ADMIN_IDS."""
        return user_id is not None and user_id in self.admin_ids

    def handle(self, user_id: int | None, command: str, args: Sequence[str] = ()) -> str | None:
        """The reply to an admin command; None for a non-admin or a command that is not ours."""
        name = command.lstrip("/").split("@", 1)[0].lower()
        if name not in COMMANDS or not self.is_admin(user_id):
            return None
        if name == "stats":
            return self.stats(args)
        if name == "misses":
            return self.misses(args)
        if name == "reload":
            return self.reload()
        return self.block(args, add=name == "block")

    def _report(self, args: Sequence[str]) -> tuple[Report, float] | None:
        try:
            window = parse_duration(args[0]) if args else WINDOW
        except ValueError:
            return None
        since = self._clock() - window
        snapshot = self.store.current()
        titles = {s.id: s.title["en"] for s in snapshot.catalog.stories.values()}
        return summarise(read_records(self.log_path, since), since, snapshot.matcher, titles), window

    def stats(self, args: Sequence[str] = ()) -> str:
        """/stats [DURATION]: figures over the last day (or DURATION)."""
        found = self._report(args)
        if found is None:
            return render("admin_usage.html.j2", command="stats")
        return stats_text(*found, self.subscribers() if self.subscribers is not None else None)

    def misses(self, args: Sequence[str] = ()) -> str:
        """/misses [DURATION]: the largest clusters of misses over the last day (or DURATION)."""
        found = self._report(args)
        if found is None:
            return render("admin_usage.html.j2", command="misses")
        return misses_text(*found)

    def _known_fans(self) -> set[str]:
        # A handle is looked up among the fans of the last KNOWN_FANS seconds, and the blocked ones.
        since = self._clock() - KNOWN_FANS
        return {r.user_key for r in read_records(self.log_path, since) if r.user_key} | set(self.blocklist.keys())

    def reload(self) -> str:
        """/reload: rebuild the catalogue now; the old one keeps serving if the edit is broken."""
        if self.watcher is not None:
            swapped, problems = self.watcher.reload_now()
        else:
            swapped, problems = self.store.reload()
        return reload_text(swapped, problems, self.store.generation, self.store.root.parent)

    def block(self, args: Sequence[str], *, add: bool = True) -> str:
        """/block FAN or /unblock FAN: a fan by the key the log shows or the handle digests show."""
        command = "block" if add else "unblock"
        if len(args) != 1:
            return render("admin_usage.html.j2", command=command)
        key = args[0].strip()
        if is_handle(key):
            key = resolve(key, self._known_fans()) or key
        if add and key in self.admin_keys:
            return render("admin_block.html.j2", key=key, blocked=add, changed=False, admin=True)
        try:
            changed = self.blocklist.block(key) if add else self.blocklist.unblock(key)
        except ValueError:
            return render("admin_usage.html.j2", command=command, key=key)
        except OSError as exc:  # a full or read-only data folder: the list did not change
            reason = exc.strerror or type(exc).__name__
            return render("admin_block.html.j2", key=key, blocked=add, changed=False, failed=reason)
        return render("admin_block.html.j2", key=key, blocked=add, changed=changed)
