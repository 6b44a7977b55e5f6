"""Notes: add, read and search lines of a plain-text notes file the user can edit too."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path

from voiced.converse.prompt import local_timezone
from voiced.converse.tools.registry import Tool, ToolError, tool

MAX_NOTE = 2000
"""Longest note accepted, in characters."""


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

    def lines(self) -> list[str]:
        """Every note, oldest first."""
        with self._lock:
            try:
                text = self.path.read_text(encoding="utf-8")
            except FileNotFoundError:
                return []
            except OSError as exc:
                raise ToolError(f"cannot read the notes file {self.path}: {exc.strerror}") from exc
        return [line.removeprefix("- ").strip() for line in text.splitlines() if line.strip()]


def _has_words(line: str, words: list[str]) -> bool:
    """Whether every word starts some word of the line."""
    have = re.findall(r"\w+", line.lower())
    return all(any(h.startswith(w) for h in have) for w in words)


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
        lines = notes.lines()
        if not lines:
            return "There are no notes yet."
        count = max(1, min(count, 50))
        return f"{len(lines)} notes in all; the latest: " + " | ".join(lines[-count:])

    @tool
    def search_notes(query: str) -> str:
        """Find the notes that have every word of a query (any case; "oat" finds "oats").

        Args:
            query: Words to look for.
        """
        words = re.findall(r"\w+", query.lower())
        if not words:
            raise ToolError("the query is empty")
        found = [line for line in notes.lines() if _has_words(line, words)]
        if not found:
            return f"No note mentions {query!r}."
        return f"{len(found)} notes match: " + " | ".join(found[-20:])

    return [add_note, read_notes, search_notes]
