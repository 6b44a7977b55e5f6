"""The confirmation prompt: a tool with side effects waits for y or n.

The question comes from the model's arguments: it is shown with control and bidi characters
escaped, and the host of each URL it concerns on a line of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.widgets import Static

from voiced.protocol.shown import printable


@dataclass(frozen=True)
class Pending:
    """A confirmation the daemon asked for."""

    request_id: str
    tool: str
    summary: str
    hosts: tuple[str, ...] = ()
    """The host of each URL among the arguments, as shown (see voiced.protocol.shown)."""


class ConfirmPrompt(Static):
    """Shows the oldest unanswered confirmation; hidden when there is none."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.queue: list[Pending] = []
        self.display = False

    @property
    def current(self) -> Pending | None:
        """The confirmation y and n answer, or None."""
        return self.queue[0] if self.queue else None

    def ask(self, pending: Pending) -> None:
        """Add a confirmation request (shown once those before it are answered)."""
        if all(p.request_id != pending.request_id for p in self.queue):
            self.queue.append(pending)
        self._show()

    def resolve(self, request_id: str) -> None:
        """Drop a request: answered here, by another client, or timed out in the daemon."""
        self.queue = [p for p in self.queue if p.request_id != request_id]
        self._show()

    def clear(self) -> None:
        """Drop every request (the link to the daemon was lost)."""
        self.queue.clear()
        self._show()

    def _show(self) -> None:
        pending = self.current
        self.display = pending is not None
        if pending is None:
            return
        more = f"  (+{len(self.queue) - 1} waiting)" if len(self.queue) > 1 else ""
        hosts = [part for host in pending.hosts for part in ("\n  host: ", (host, "bold"))]
        self.update(
            Content.assemble(
                ("confirm ", "bold"),
                (printable(pending.tool), "bold $warning"),
                f": {printable(pending.summary)}  ",
                (" y ", "bold reverse"),
                " allow  ",
                (" n ", "bold reverse"),
                " deny",
                more,
                *hosts,
            )
        )
