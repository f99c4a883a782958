"""Subscribers and broadcasts in the SQLite state (beside the fans' PTB data, in state.sqlite3).

A broadcast is an outbox: one row per subscriber, written when it is queued. Each delivery moves
pending → sending → sent | blocked | failed, each step its own commit, so a killed process resumes
where it stopped. The one window no commit closes: a send Telegram accepted whose answer was lost
(the process died, or the connection broke, between Telegram taking it and us writing `sent`).
Such a delivery is left `sending`; on restart it is sent again and counted as `doubtful`. Each is one
message to one fan, and no more than the sends in flight at that moment (SENDERS) can be in it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PENDING, SENDING, SENT, BLOCKED, FAILED = "pending", "sending", "sent", "blocked", "failed"
OUTCOMES = (SENT, BLOCKED, FAILED)
MAX_ATTEMPTS = 6  # transient failures (429, 5xx, timeouts) before a delivery counts as failed
LEASE_SECONDS = 15.0  # a sender renews its lease well within this
_SCHEMA = """
CREATE TABLE IF NOT EXISTS subscribers (
    chat_id INTEGER PRIMARY KEY,
    lang TEXT NOT NULL,              -- the language the fan reads in
    since REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS broadcasts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    story TEXT NOT NULL,
    lang TEXT,                       -- only this language's subscribers; NULL: everyone
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    broadcast INTEGER NOT NULL REFERENCES broadcasts (id),
    chat_id INTEGER NOT NULL,
    lang TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    doubtful INTEGER NOT NULL DEFAULT 0,  -- was `sending` when a sender died: maybe sent twice
    message_id INTEGER,
    error TEXT,
    PRIMARY KEY (broadcast, chat_id)
);
-- What is left, in the order it goes out: a claim reads the first rows, never sorts the rest.
DROP INDEX IF EXISTS deliveries_todo;
CREATE INDEX IF NOT EXISTS deliveries_queue ON deliveries (state, broadcast, chat_id);
CREATE INDEX IF NOT EXISTS deliveries_message ON deliveries (chat_id, message_id);
CREATE TABLE IF NOT EXISTS scheduled (   -- broadcasts.yaml's entries once due: queued (or too late), never again
    story TEXT NOT NULL,
    at TEXT NOT NULL,                -- the moment in UTC, ISO 8601
    lang TEXT NOT NULL,              -- '' for everyone (NULLs would never be equal in the key)
    broadcast INTEGER REFERENCES broadcasts (id),  -- NULL: it was too late and was not sent
    recorded REAL NOT NULL,
    PRIMARY KEY (story, at, lang)
);
CREATE TABLE IF NOT EXISTS broadcast_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    until REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message to send: which broadcast, to which chat, in which language."""

    broadcast: int
    story: str
    chat_id: int
    lang: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Progress:
    """Where one broadcast stands."""

    id: int
    story: str
    lang: str | None
    created: float
    sent: int
    blocked: int
    failed: int
    left: int
    doubtful: int

    @property
    def total(self) -> int:
        """Every subscriber it was queued for."""
        return self.sent + self.blocked + self.failed + self.left

    @property
    def done(self) -> bool:
        """Nothing left to send."""
        return self.left == 0


class Outbox:
    """The subscribers and the broadcasts' deliveries; every change is one short commit."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Autocommit; the event loop's thread and a CLI may both use it (SQLite serialises writers).
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- subscribers --------------------------------------------------------------------------

    def subscribe(self, chat_id: int, lang: str) -> bool:
        """Opt a chat in (or change its language); True when it was not subscribed before."""
        was = self.is_subscribed(chat_id)
        self._db.execute(
            "INSERT INTO subscribers (chat_id, lang, since) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET lang = excluded.lang",
            (chat_id, lang, time.time()),
        )
        return not was

    def unsubscribe(self, chat_id: int) -> bool:
        """Opt a chat out; True when it was subscribed."""
        return self._db.execute("DELETE FROM subscribers WHERE chat_id = ?", (chat_id,)).rowcount > 0

    def relang(self, chat_id: int, lang: str) -> None:
        """A subscriber chose another language: new stories come in it."""
        self._db.execute("UPDATE subscribers SET lang = ? WHERE chat_id = ?", (lang, chat_id))

    def is_subscribed(self, chat_id: int) -> bool:
        """Whether the chat gets new stories."""
        return self._db.execute("SELECT 1 FROM subscribers WHERE chat_id = ?", (chat_id,)).fetchone() is not None

    def subscribers(self, lang: str | None = None) -> dict[str, int]:
        """Subscribers per language (only `lang`'s when given)."""
        rows = self._db.execute(
            "SELECT lang, COUNT(*) FROM subscribers WHERE ?1 IS NULL OR lang = ?1 GROUP BY lang ORDER BY lang",
            (lang,),
        ).fetchall()
        return {str(code): int(n) for code, n in rows}

    # --- broadcasts ---------------------------------------------------------------------------

    def enqueue(self, story: str, lang: str | None = None) -> int:
        """Queue `story` for every subscriber (of `lang`), in one commit; the broadcast's id."""
        with self._transaction() as db:
            return _queue(db, story, lang)

    def enqueue_scheduled(self, story: str, at: str, lang: str | None, *, send: bool = True) -> int | None:
        """Queue a scheduled broadcast (or, not `send`, record it as too late) unless it was before.

        The record and the queue are one commit: a crash leaves both or neither, so a scheduled
        entry is queued exactly once, whoever asks and however often. Its broadcast's id; None when
        it was recorded before or is recorded now without sending.
        """
        key = (story, at, lang or "")
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM scheduled WHERE story = ? AND at = ? AND lang = ?", key).fetchone():
                return None
            broadcast = _queue(db, story, lang) if send else None
            db.execute(
                "INSERT INTO scheduled (story, at, lang, broadcast, recorded) VALUES (?, ?, ?, ?, ?)",
                (*key, broadcast, time.time()),
            )
            return broadcast

    def scheduled(self) -> dict[tuple[str, str, str], int | None]:
        """Scheduled entries recorded so far: (story, UTC moment, language or '') → broadcast (None: too late)."""
        rows = self._db.execute("SELECT story, at, lang, broadcast FROM scheduled").fetchall()
        return {(str(s), str(a), str(lang)): (None if b is None else int(b)) for s, a, lang, b in rows}

    def recover(self) -> int:
        """After a sender died: what it was sending goes again, marked doubtful; how many."""
        return self._db.execute(
            "UPDATE deliveries SET state = ?, doubtful = 1 WHERE state = ?", (PENDING, SENDING)
        ).rowcount

    def claim(self, limit: int) -> list[Delivery]:
        """The next pending deliveries, oldest broadcast first, marked `sending` in one commit."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT d.broadcast, b.story, d.chat_id, d.lang, d.attempts FROM deliveries d "
                "JOIN broadcasts b ON b.id = d.broadcast WHERE d.state = ? "
                "ORDER BY d.broadcast, d.chat_id LIMIT ?",
                (PENDING, limit),
            ).fetchall()
            db.executemany(
                "UPDATE deliveries SET state = ?, attempts = attempts + 1 WHERE broadcast = ? AND chat_id = ?",
                [(SENDING, row[0], row[2]) for row in rows],
            )
        return [Delivery(int(b), str(s), int(c), str(lang), int(a) + 1) for b, s, c, lang, a in rows]

    def finish(
        self, delivery: Delivery, state: str, *, message_id: int | None = None, error: str | None = None
    ) -> None:
        """Record a delivery's outcome (sent, blocked, failed), or put it back (pending) to retry."""
        self._db.execute(
            "UPDATE deliveries SET state = ?, message_id = ?, error = ? WHERE broadcast = ? AND chat_id = ?",
            (state, message_id, error, delivery.broadcast, delivery.chat_id),
        )

    def has_pending(self) -> bool:
        """Whether anything is left to send."""
        row = self._db.execute("SELECT 1 FROM deliveries WHERE state IN (?, ?) LIMIT 1", (PENDING, SENDING))
        return row.fetchone() is not None

    def broadcast_of(self, chat_id: int, message_id: int) -> tuple[int, str] | None:
        """The broadcast (id, story) a sent message belongs to, if it is one."""
        row = self._db.execute(
            "SELECT d.broadcast, b.story FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast "
            "WHERE d.chat_id = ? AND d.message_id = ?",
            (chat_id, message_id),
        ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def progress(self) -> list[Progress]:
        """Every broadcast's progress, newest last."""
        rows = self._db.execute(
            "SELECT b.id, b.story, b.lang, b.created, "
            "COALESCE(SUM(d.state = 'sent'), 0), COALESCE(SUM(d.state = 'blocked'), 0), "
            "COALESCE(SUM(d.state = 'failed'), 0), COALESCE(SUM(d.state IN ('pending', 'sending')), 0), "
            "COALESCE(SUM(d.doubtful), 0) "
            "FROM broadcasts b LEFT JOIN deliveries d ON d.broadcast = b.id GROUP BY b.id ORDER BY b.id"
        ).fetchall()
        return [Progress(int(r[0]), str(r[1]), r[2], float(r[3]), *(int(n) for n in r[4:])) for r in rows]

    # --- one sender at a time -----------------------------------------------------------------

    def take_lease(self, now: float | None = None) -> bool:
        """Become the one sender (or renew); False while another live process holds it."""
        now = time.time() if now is None else now
        me, host = os.getpid(), os.uname().nodename
        with self._transaction() as db:
            row = db.execute("SELECT pid, host, until FROM broadcast_lease WHERE id = 1").fetchone()
            if row is not None and (row[0], row[1]) != (me, host) and row[2] > now and _alive(row[0], row[1], host):
                return False
            db.execute(
                "INSERT INTO broadcast_lease (id, pid, host, until) VALUES (1, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, until = excluded.until",
                (me, host, now + LEASE_SECONDS),
            )
        return True

    def sender_running(self, now: float | None = None) -> bool:
        """Whether some live process (a running bot) holds the lease and will send what is queued."""
        now = time.time() if now is None else now
        row = self._db.execute("SELECT pid, host, until FROM broadcast_lease WHERE id = 1").fetchone()
        return row is not None and row[2] > now and _alive(row[0], row[1], os.uname().nodename)

    def release_lease(self) -> None:
        """Stop being the sender."""
        self._db.execute("DELETE FROM broadcast_lease WHERE id = 1 AND pid = ?", (os.getpid(),))


def _queue(db: sqlite3.Connection, story: str, lang: str | None) -> int:
    """Within a transaction: a broadcast of `story` and one delivery per subscriber (of `lang`)."""
    cursor = db.execute("INSERT INTO broadcasts (story, lang, created) VALUES (?, ?, ?)", (story, lang, time.time()))
    broadcast = int(cursor.lastrowid or 0)
    db.execute(
        "INSERT INTO deliveries (broadcast, chat_id, lang) "
        "SELECT ?1, chat_id, lang FROM subscribers WHERE ?2 IS NULL OR lang = ?2",
        (broadcast, lang),
    )
    return broadcast


def _alive(pid: int, host: str, this_host: str) -> bool:
    """Whether the lease holder still runs (a process on another host: trusted until the lease ends)."""
    if host != this_host:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
