"""Notes: add, read and search lines of a plain-text notes file the user can edit too."""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path

from voiced.converse.prompt import local_timezone
from voiced.converse.tools.registry import Tool, ToolError, tool

MAX_NOTE = 2000
"""Longest note accepted, in characters."""
MAX_READ = 2 << 20
"""Most of the notes file read at once, in bytes, from its end: a huge file is read in part."""
MAX_LINE = 2 * MAX_NOTE
"""Longest line read back, in characters (a longer one, written by hand, is cut)."""
MAX_QUERY = 200
"""Longest search query, in characters."""
MAX_QUERY_WORDS = 20


class NotesFile:
    """A Markdown list, one note per line: ``- 2026-03-03 14:05 buy oat milk``.

    Args:
        path: The file; created private on the first note.
        zone: The user's timezone, for the time stamps.
    """

    def __init__(self, path: Path, zone: Callable[[], tzinfo] = local_timezone) -> None:
        self.path = path
        self._zone = zone
        self._lock = threading.Lock()

    def add(self, text: str) -> str:
        """Append a note and return its line."""
        text = " ".join(text.split())
        if not text:
            raise ToolError("the note is empty")
        if len(text) > MAX_NOTE:
            raise ToolError(f"a note can be at most {MAX_NOTE} characters")
        line = f"- {datetime.now(self._zone()):%Y-%m-%d %H:%M} {text}"
        with self._lock:
            try:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                with os.fdopen(descriptor, "a", encoding="utf-8") as fh:
                    fh.write(line + "\n")
            except OSError as exc:
                raise ToolError(f"cannot write the notes file {self.path}: {exc.strerror}") from exc
        return line

    def latest(self) -> tuple[list[str], bool]:
        """The notes in the file's last :data:`MAX_READ` bytes, oldest first.

        Returns:
            The notes, and whether they are all of the file's notes.

        Raises:
            ToolError: The file cannot be read, or is not a regular file.
        """
        with self._lock:
            try:
                descriptor = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
            except FileNotFoundError:
                return [], True
            except OSError as exc:
                raise ToolError(f"cannot read the notes file {self.path}: {exc.strerror}") from exc
            with os.fdopen(descriptor, "rb") as fh:
                if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                    raise ToolError(f"the notes file {self.path} is not a regular file")
                try:
                    start = max(0, fh.seek(0, os.SEEK_END) - MAX_READ)
                    fh.seek(start)
                    data = fh.read(MAX_READ)
                except OSError as exc:
                    raise ToolError(
                        f"cannot read the notes file {self.path}: {exc.strerror}"
                    ) from exc
        if start:
            data = data.partition(b"\n")[2]
        text = data.decode("utf-8", errors="replace")
        notes = [_note(line) for line in text.splitlines() if line.strip()]
        return notes, start == 0


def _note(line: str) -> str:
    note = line.strip().removeprefix("- ")
    return note if len(note) <= MAX_LINE else note[:MAX_LINE] + "…"


def _matcher(query: str) -> re.Pattern[str]:
    """A pattern found in a line when every word of the query starts some word of the line."""
    if len(query) > MAX_QUERY:
        raise ToolError(f"the query is longer than {MAX_QUERY} characters")
    words = re.findall(r"\w+", query.lower())
    if not words:
        raise ToolError("the query is empty")
    if len(words) > MAX_QUERY_WORDS:
        raise ToolError(f"search with at most {MAX_QUERY_WORDS} words")
    return re.compile("".join(rf"(?=.*\b{re.escape(w)})" for w in words), re.I | re.S)


def notes_tools(notes: NotesFile) -> list[Tool]:
    """Return add_note, read_notes and search_notes on ``notes``."""

    @tool
    def add_note(text: str) -> str:
        """Write a note down for the user, to read or search later.

        Args:
            text: The note, in the user's words.
        """
        notes.add(text)
        return "Noted."

    @tool
    def read_notes(count: int = 5) -> str:
        """Read the latest notes, newest last.

        Args:
            count: How many of the latest notes to read.
        """
        lines, complete = notes.latest()
        if not lines:
            return "There are no notes yet."
        count = max(1, min(count, 50))
        total = f"{len(lines)} notes in all" if complete else _partly(len(lines))
        return f"{total}; the latest: " + " | ".join(lines[-count:])

    @tool
    def search_notes(query: str) -> str:
        """Find the notes that have every word of a query (any case; "oat" finds "oats").

        Args:
            query: Words to look for.
        """
        pattern = _matcher(query)
        lines, complete = notes.latest()
        found = [line for line in lines if pattern.match(line)]
        searched = "" if complete else f" ({_partly(len(lines))}, and only those were searched)"
        if not found:
            return f"No note mentions {query!r}{searched}."
        return f"{len(found)} notes match{searched}: " + " | ".join(found[-20:])

    return [add_note, read_notes, search_notes]


def _partly(count: int) -> str:
    megabytes = MAX_READ >> 20
    return f"the notes file is large: {count} notes in its last {megabytes} MB"
