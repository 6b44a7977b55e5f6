"""Opening voiced's SQLite files: private directory and file, WAL mode, errors as ours."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from voiced.errors import StorageError

BUSY_TIMEOUT_MS = 5000
"""How long a write waits for another voiced process holding the database."""


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
    private_dir(path.parent)
    with storage_errors(path):
        fresh = not path.exists()
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        if fresh:
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
