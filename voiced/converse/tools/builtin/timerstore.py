"""Timers and reminders in SQLite, so they outlive the process that set them."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from voiced.converse.sqlite import connect, storage_errors

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS timers (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    due_at REAL NOT NULL,
    created_at REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    announced_at REAL
);
CREATE INDEX IF NOT EXISTS timers_pending ON timers(status, due_at);
"""
TimerKind = Literal["timer", "reminder"]
TimerStatus = Literal["pending", "announced", "cancelled"]


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
        """Mark a due timer announced; False when another process (or a cancel) got there first.

        The update is conditional, so two voiced processes never announce the same timer.
        """
        with self._lock, storage_errors(self.path):
            cursor = self._db.execute(
                "UPDATE timers SET status = 'announced', announced_at = ? "
                "WHERE id = ? AND status = 'pending'",
                (self.clock(), timer_id),
            )
            self._db.commit()
        return cursor.rowcount == 1


def _timer(row: sqlite3.Row) -> Timer:
    return Timer(
        id=row["id"],
        kind=row["kind"],
        label=row["label"],
        due_at=row["due_at"],
        created_at=row["created_at"],
        status=row["status"],
    )
