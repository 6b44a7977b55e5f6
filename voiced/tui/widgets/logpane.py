"""The log pane: connection changes, errors and notable events, newest last."""

from __future__ import annotations

from collections import deque

from textual.content import Content
from textual.widgets import RichLog

from voiced.logs import redact
from voiced.tui.widgets.repeats import Repeated, clock_time

LEVEL_STYLES = {"info": "", "warning": "$warning", "error": "$error bold"}
"""Style of a line by level."""
COLLAPSED = frozenset({"warning", "error"})
"""Levels whose identical lines collapse into one, counted."""
MAX_LINES = 1000
"""Lines kept; the oldest go first."""


class LogPane(RichLog):
    """A bounded, timestamped log; hidden until the user presses l.

    A warning or error identical to one already shown is not written again: that line
    moves to the bottom, counted, with the time it was last seen after the time it was first
    seen (``14:03:06 ×12 · last 14:03:22  [microphone] no microphone found``).
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(max_lines=MAX_LINES, wrap=True, markup=False, id=id)
        self.lines_written: deque[str] = deque(maxlen=MAX_LINES)
        """The lines as plain text, for tests and for copying (kept while the pane is hidden)."""
        self._entries: deque[Repeated] = deque(maxlen=MAX_LINES)

    def add(self, text: str, level: str = "info") -> None:
        """Write one line with the local time in front.

        Args:
            text: The line; any API key in it is masked (it may come from another process).
            level: "info", "warning" or "error"; warnings and errors are coloured, and
                collapse with an identical one shown before.
        """
        text = redact(text)
        if level in COLLAPSED:
            for entry in self._entries:
                if entry.text == text and entry.level == level:
                    entry.again()
                    self._entries.remove(entry)
                    self._entries.append(entry)
                    self._redraw()
                    return
        entry = Repeated.said(text, level)
        self._entries.append(entry)
        self.lines_written.append(f"{level}: {text}")
        self._write(entry)

    def _redraw(self) -> None:
        self.clear()
        self.lines_written.clear()
        for entry in self._entries:
            tally = f"{entry.tally}  " if entry.tally else ""
            self.lines_written.append(f"{entry.level}: {tally}{entry.text}")
            self._write(entry)

    def _write(self, entry: Repeated) -> None:
        # The count goes first: a long line is cut at the pane's edge, the count never.
        parts: list[str | tuple[str, str]] = [(clock_time(entry.first), "$text-muted"), " "]
        if entry.tally:
            parts += [(entry.tally, "$text-muted bold"), "  "]
        parts.append((entry.text, LEVEL_STYLES.get(entry.level, "")))
        self.write(Content.assemble(*parts))
