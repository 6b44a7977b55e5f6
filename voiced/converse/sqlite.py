"""Opening voiced's SQLite files: private directory and file, WAL mode, errors as ours."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from voiced.errors import StorageError

BUSY_TIMEOUT_MS = 5000
"""How long a write waits for another voiced process holding the database."""
MEMORY = Path(":memory:")
"""Pass as the path for a database that lives in memory only (nothing is kept)."""
DAMAGED = ".damaged-"
"""A damaged database is renamed to its name plus this and the time, e.g.
``history.sqlite3.damaged-20250114-093012``, with its -wal and -shm files beside it."""
_DAMAGE_CODES = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the user alone, and return it.

    Raises:
        StorageError: The directory cannot be created.
    """
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError as exc:
        raise StorageError(
            f"cannot create the data directory {path}: {exc.strerror}",
            "check XDG_DATA_HOME and the permissions of its parent",
        ) from exc
    return path


def connect(path: Path, schema: str, version: int) -> sqlite3.Connection:
    """Open (creating if needed) a database in WAL mode and apply its schema.

    WAL with ``synchronous=NORMAL`` makes every commit survive the process being killed; only
    a power cut may lose the last few.

    Args:
        path: The database file; its directory is created private.
        schema: ``CREATE … IF NOT EXISTS`` statements.
        version: The schema version stored in ``PRAGMA user_version``.

    Raises:
        StorageError: The file cannot be opened, or was written by a newer voiced.
    """
    memory = path == MEMORY
    if not memory:
        private_dir(path.parent)
    with storage_errors(path):
        fresh = memory or not path.exists()
        db = sqlite3.connect(
            ":memory:" if memory else path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=False,
        )
        if fresh and not memory:
            os.chmod(path, 0o600)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        found = db.execute("PRAGMA user_version").fetchone()[0]
        if found > version:
            db.close()
            raise StorageError(
                f"{path} was written by a newer voiced (schema {found}, this one knows {version})",
                "upgrade voiced, or move the file aside to start afresh",
            )
        db.executescript(schema)
        db.execute(f"PRAGMA user_version={version}")
        db.commit()
    return db


@contextmanager
def storage_errors(path: Path) -> Iterator[None]:
    """Re-raise sqlite3 and OS errors met while using ``path`` as StorageError."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StorageError(
            f"{path}: database error: {exc}",
            "check the disk has space; move the file aside if it is damaged",
        ) from exc
    except OSError as exc:
        raise StorageError(f"{path}: {exc.strerror}", "check the file's permissions") from exc


def is_damaged(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says the file is not a sound SQLite database:
    garbage, truncated or overwritten, as opposed to locked, unreadable or full."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, sqlite3.DatabaseError):
            code = getattr(cause, "sqlite_errorcode", None)
            if code is not None:
                return code & 0xFF in _DAMAGE_CODES
            text = str(cause)
            return "malformed" in text or "not a database" in text
        cause = cause.__cause__
    return False


def move_aside(path: Path, clock: Callable[[], float] = time.time) -> Path:
    """Rename a damaged database (and its -wal, -shm and -journal files) out of the way.

    Nothing is deleted: the renamed file keeps what can still be read from it.

    Returns:
        Where the database went.

    Raises:
        StorageError: It could not be renamed.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(clock()))
    target = path.with_name(f"{path.name}{DAMAGED}{stamp}")
    number = 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}{DAMAGED}{stamp}-{number}")
    try:
        os.rename(path, target)
    except OSError as exc:
        raise StorageError(
            f"{path} is damaged and cannot be moved aside: {exc.strerror}",
            f"move it yourself: mv {path} {target}",
        ) from exc
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            try:
                os.rename(side, target.with_name(target.name + suffix))
            except OSError:
                pass  # the database itself is out of the way; a stray side file is harmless
    return target


_KEPT = {
    "history": ("running without history", "nothing said now is kept", "a new history"),
    "timers": (
        "timers are kept in memory only",
        "timers set now are lost when voiced stops",
        "a new timers file",
    ),
}


@dataclass(frozen=True)
class StoreLost:
    """Why a database could not be opened, so this process keeps its data in memory only."""

    kind: Literal["history", "timers"]
    path: Path
    reason: str
    """What failed, e.g. "database error: file is not a database"."""
    moved_to: Path | None = None
    """Where the damaged file was renamed to, when it was damaged."""

    @property
    def message(self) -> str:
        """One line for the log, the clients and the user."""
        instead = _KEPT[self.kind][0]
        if self.moved_to is not None:
            return (
                f"the {self.kind} file was damaged ({self.reason}): moved aside to "
                f"{self.moved_to}; {instead}"
            )
        return f"the {self.kind} file cannot be used ({self.reason}): {instead}"

    @property
    def hint(self) -> str:
        """What to do about it."""
        _, lost, fresh = _KEPT[self.kind]
        if self.moved_to is not None:
            return (
                f"{lost}; restart voiced to start {fresh}; "
                f"what is left of the old one: sqlite3 {self.moved_to} .recover"
            )
        return f"{lost}; fix {self.path} (see voiced doctor), then restart voiced"


def set_aside(kind: Literal["history", "timers"], path: Path, error: StorageError) -> StoreLost:
    """After ``error`` opening ``path``: move the file aside if it is damaged, and say why
    the data now lives in memory (the caller opens :data:`MEMORY` instead)."""
    reason = error.message.removeprefix(f"{path}: ")
    moved_to = None
    if is_damaged(error):
        try:
            moved_to = move_aside(path)
        except StorageError as exc:
            reason = exc.message
    return StoreLost(kind, path, reason, moved_to)


def damage_of(path: Path) -> str | None:
    """Read ``path`` (read-only, whole: seconds for a large file) and say what is wrong with
    it as a database, or None when it is sound or absent."""
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        rows = db.execute("PRAGMA quick_check").fetchall()
    except sqlite3.Error as exc:
        return str(exc) if is_damaged(exc) else None
    finally:
        db.close()
    problems = [str(row[0]) for row in rows if row[0] != "ok"]
    return f"{problems[0]} ({len(problems)} problem(s))" if problems else None


def damaged_copies(path: Path) -> list[Path]:
    """The damaged databases moved aside from ``path``, oldest first."""
    try:
        found = [
            p
            for p in path.parent.glob(f"{path.name}{DAMAGED}*")
            if not p.name.endswith(("-wal", "-shm", "-journal"))
        ]
    except OSError:
        return []
    return sorted(found, key=lambda p: p.name)


def process_alive(pid: int | None) -> bool:
    """Whether a process with this id is running (ours counts; no id counts as dead)."""
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
