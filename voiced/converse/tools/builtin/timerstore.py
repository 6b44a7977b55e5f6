"""Timers and reminders in SQLite, so they outlive the process that set them."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from voiced.converse.sqlite import connect, process_alive, storage_errors

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS timers (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    due_at REAL NOT NULL,
    created_at REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    announced_at REAL,
    claimed_by INTEGER
);
CREATE INDEX IF NOT EXISTS timers_pending ON timers(status, due_at);
"""
TimerKind = Literal["timer", "reminder"]
TimerStatus = Literal["pending", "announcing", "announced", "cancelled"]
"""A due timer is claimed ("announcing", by one process) before it is said, and "announced"
only once it was; a claim whose process died goes back to "pending"."""


@dataclass(frozen=True)
class Timer:
    """A timer (a duration) or a reminder (a message at a time).

    Attributes:
        due_at: When it goes off, in wall-clock seconds (Unix time).
    """

    id: int
    kind: TimerKind
    label: str
    due_at: float
    created_at: float
    status: TimerStatus = "pending"


class TimerStore:
    """The timers database; safe to share between threads (one lock around the connection).

    Args:
        path: The database file (``$XDG_DATA_HOME/voiced/timers.sqlite3``).
        clock: Wall-clock seconds.
    """

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._lock = threading.Lock()
        self._db = connect(path, SCHEMA, SCHEMA_VERSION)
        self._db.row_factory = sqlite3.Row
        with storage_errors(path):
            columns = {row["name"] for row in self._db.execute("PRAGMA table_info(timers)")}
            if "claimed_by" not in columns:  # a file from before claims were kept
                self._db.execute("ALTER TABLE timers ADD COLUMN claimed_by INTEGER")
                self._db.commit()

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def add(self, kind: TimerKind, label: str, due_at: float) -> Timer:
        """Store a new pending timer and return it."""
        now = self.clock()
        with self._lock, storage_errors(self.path):
            cursor = self._db.execute(
                "INSERT INTO timers (kind, label, due_at, created_at) VALUES (?, ?, ?, ?)",
                (kind, label, due_at, now),
            )
            self._db.commit()
        return Timer(int(cursor.lastrowid or 0), kind, label, due_at, now)

    def pending(self) -> list[Timer]:
        """Every pending timer, soonest first."""
        with self._lock, storage_errors(self.path):
            rows = self._db.execute(
                "SELECT * FROM timers WHERE status = 'pending' ORDER BY due_at, id"
            ).fetchall()
        return [_timer(r) for r in rows]

    def cancel(self, timer_id: int) -> Timer | None:
        """Cancel a pending timer; return it, or None when no pending timer has that id."""
        with self._lock, storage_errors(self.path):
            row = self._db.execute(
                "SELECT * FROM timers WHERE id = ? AND status = 'pending'", (timer_id,)
            ).fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE timers SET status = 'cancelled' WHERE id = ?", (timer_id,))
            self._db.commit()
        return _timer(row)

    def claim(self, timer_id: int) -> bool:
        """Claim a due timer for this process to announce; False when another process (or a
        cancel) got there first.

        The update is conditional, so two voiced processes never announce the same timer.
        The timer is "announcing" until :meth:`announced` (or :meth:`release`); if this
        process dies first, :meth:`recover` gives it back.
        """
        with self._lock, storage_errors(self.path):
            cursor = self._db.execute(
                "UPDATE timers SET status = 'announcing', claimed_by = ? "
                "WHERE id = ? AND status = 'pending'",
                (os.getpid(), timer_id),
            )
            self._db.commit()
        return cursor.rowcount == 1

    def announced(self, timer_id: int) -> None:
        """Mark a claimed timer announced: it was said."""
        with self._lock, storage_errors(self.path):
            self._db.execute(
                "UPDATE timers SET status = 'announced', announced_at = ? "
                "WHERE id = ? AND status = 'announcing'",
                (self.clock(), timer_id),
            )
            self._db.commit()

    def release(self, timer_id: int) -> None:
        """Give a claimed timer back (its announcement failed), to be announced again."""
        with self._lock, storage_errors(self.path):
            self._db.execute(
                "UPDATE timers SET status = 'pending', claimed_by = NULL "
                "WHERE id = ? AND status = 'announcing'",
                (timer_id,),
            )
            self._db.commit()

    def recover(self, starting: bool = False) -> int:
        """Give back the timers claimed by processes that died before announcing them.

        Args:
            starting: This process has claimed nothing yet, so a claim in its own pid is
                a dead process's too (pids are reused, e.g. in a container).

        Returns:
            How many went back to pending.
        """
        with self._lock, storage_errors(self.path):
            claims = self._db.execute(
                "SELECT id, claimed_by FROM timers WHERE status = 'announcing'"
            ).fetchall()
            dead = [
                row["id"]
                for row in claims
                if not process_alive(row["claimed_by"])
                or (starting and row["claimed_by"] == os.getpid())
            ]
            for timer_id in dead:
                self._db.execute(
                    "UPDATE timers SET status = 'pending', claimed_by = NULL "
                    "WHERE id = ? AND status = 'announcing'",
                    (timer_id,),
                )
            self._db.commit()
        return len(dead)


def _timer(row: sqlite3.Row) -> Timer:
    return Timer(
        id=row["id"],
        kind=row["kind"],
        label=row["label"],
        due_at=row["due_at"],
        created_at=row["created_at"],
        status=row["status"],
    )
