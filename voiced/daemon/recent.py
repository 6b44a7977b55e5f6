"""The recent conversation, kept from the bus, for clients that connect later."""

from __future__ import annotations

from collections import deque

from voiced.protocol.events import (
    AssistantDelta,
    AssistantText,
    ConfirmRequest,
    ConfirmResolved,
    Event,
    ToolResult,
    Transcript,
)
from voiced.protocol.reports import History, HistoryEntry


class RecentConversation:
    """Listens to the bus and remembers the last turns and the open confirmations.

    Args:
        turns: How many turns to keep.
    """

    def __init__(self, turns: int = 10) -> None:
        self.turns = turns
        self._entries: deque[HistoryEntry] = deque()
        self._partial: dict[int, str] = {}
        self.pending: dict[str, ConfirmRequest] = {}
        """Confirmations asked for and not yet answered, oldest first."""

    def seed(self, entries: list[HistoryEntry]) -> None:
        """Start from turns stored before the daemon started (oldest first)."""
        self._entries.extend(entries)
        self._trim()

    def __call__(self, event: Event) -> None:
        """Take in one event (registered with ``EventBus.listen``)."""
        if isinstance(event, Transcript) and event.accepted:
            self._add(HistoryEntry(turn=event.turn, role="user", text=event.text))
        elif isinstance(event, AssistantDelta):
            self._partial[event.turn] = self._partial.get(event.turn, "") + event.text
        elif isinstance(event, AssistantText):
            self._partial.pop(event.turn, None)
            if event.text:
                self._add(HistoryEntry(turn=event.turn, role="assistant", text=event.text))
        elif isinstance(event, ToolResult):
            entry = HistoryEntry(
                turn=event.turn, role="tool", text=event.result, name=event.name, ok=event.ok
            )
            self._add(entry)
        elif isinstance(event, ConfirmRequest):
            self.pending[event.call_id] = event
        elif isinstance(event, ConfirmResolved):
            self.pending.pop(event.call_id, None)

    def history(self) -> History:
        """The kept turns, with any reply still streaming as it stands."""
        entries = list(self._entries)
        entries += [
            HistoryEntry(turn=turn, role="assistant", text=text)
            for turn, text in self._partial.items()
            if text
        ]
        return History(entries=tuple(entries))

    def replay(self) -> tuple[Event, ...]:
        """What a client that connects now is sent after the greeting: the history, then each
        confirmation still waiting for a yes or no (so the new client can answer it)."""
        return (self.history(), *self.pending.values())

    def _add(self, entry: HistoryEntry) -> None:
        self._entries.append(entry)
        self._trim()

    def _trim(self) -> None:
        turns = {e.turn for e in self._entries}
        while len(turns) > self.turns and self._entries:
            oldest = self._entries[0].turn
            while self._entries and self._entries[0].turn == oldest:
                self._entries.popleft()
            turns.discard(oldest)
