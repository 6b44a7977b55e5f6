"""The log pane: connection changes, errors and notable events, newest last."""

from __future__ import annotations

import time
from collections import deque

from textual.content import Content
from textual.widgets import RichLog

from voiced.logs import redact

LEVEL_STYLES = {"info": "", "warning": "$warning", "error": "$error bold"}
"""Style of a line by level."""


class LogPane(RichLog):
    """A bounded, timestamped log; hidden until the user presses l."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(max_lines=1000, wrap=True, markup=False, id=id)
        self.lines_written: deque[str] = deque(maxlen=1000)
        """The lines as plain text, for tests and for copying (kept while the pane is hidden)."""

    def add(self, text: str, level: str = "info") -> None:
        """Write one line with the local time in front.

        Args:
            text: The line; any API key in it is masked (it may come from another process).
            level: "info", "warning" or "error"; warnings and errors are coloured.
        """
        text = redact(text)
        stamp = time.strftime("%H:%M:%S")
        self.lines_written.append(f"{level}: {text}")
        style = LEVEL_STYLES.get(level, "")
        self.write(Content.assemble((stamp, "$text-muted"), " ", (text, style)))
