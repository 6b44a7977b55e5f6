"""Identical warnings said again: one line with how often, and when it was last seen."""

from __future__ import annotations

import time
from dataclasses import dataclass


def now() -> time.struct_time:
    """The local time now (tests replace it to draw the same screen every run)."""
    return time.localtime()


def clock_time(moment: time.struct_time) -> str:
    """A moment as the log and the conversation show it: ``14:03:22``."""
    return time.strftime("%H:%M:%S", moment)


@dataclass
class Repeated:
    """One line that may have been said several times.

    Attributes:
        text: The line as said.
        level: "info", "warning" or "error".
        first: When it was first said.
        last: When it was last said.
        count: How many times it was said.
    """

    text: str
    level: str
    first: time.struct_time
    last: time.struct_time
    count: int = 1

    @classmethod
    def said(cls, text: str, level: str = "info") -> Repeated:
        """A line said for the first time, now."""
        moment = now()
        return cls(text, level, moment, moment)

    def again(self) -> None:
        """Count the line once more, said now."""
        self.count += 1
        self.last = now()

    @property
    def tally(self) -> str:
        """ "" for a line said once; else ``×12 · last 14:03:22``."""
        return f"×{self.count} · last {clock_time(self.last)}" if self.count > 1 else ""
