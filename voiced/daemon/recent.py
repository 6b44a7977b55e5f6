"""The recent conversation, kept from the bus, for clients that connect later.

Bounded by bytes as well as turns: each entry's text is cut (visibly) to ENTRY_BYTES, and the
history sent to a client keeps the newest entries that fit in HISTORY_BYTES, so a huge reply
(live or stored before a restart) can never make the history a line clients refuse.
"""

from __future__ import annotations

from collections import deque

import orjson

from voiced.protocol.codec import to_plain
from voiced.protocol.events import (
    AssistantDelta,
    AssistantText,
    ConfirmRequest,
    ConfirmResolved,
    Event,
    ToolResult,
    Transcript,
    TurnWithdrawn,
)
from voiced.protocol.fit import clip
from voiced.protocol.reports import History, HistoryEntry
from voiced.protocol.wire import MAX_EVENT_BYTES

ENTRY_BYTES = 32 << 10
"""Most bytes of one entry's text in the history; a longer text is cut with a note."""

HISTORY_BYTES = MAX_EVENT_BYTES - 1024
"""Most bytes of the history's entries (the rest of the line is the event's frame)."""


class RecentConversation:
    """Listens to the bus and remembers the last turns and the open confirmations.

    Args:
        turns: How many turns to keep.
    """

    def __init__(self, turns: int = 10) -> None:
        self.turns = turns
        self._entries: deque[HistoryEntry] = deque()
        self._partial: dict[int, tuple[str, int]] = {}
        """Replies still streaming: the text so far (at most ENTRY_BYTES characters) and how
        many characters beyond it were dropped."""
        self.pending: dict[str, ConfirmRequest] = {}
        """Confirmations asked for and not yet answered, oldest first."""

    def seed(self, entries: list[HistoryEntry]) -> None:
        """Start from turns stored before the daemon started (oldest first)."""
        self._entries.extend(_bounded(entry) for entry in entries)
        self._trim()

    def __call__(self, event: Event) -> None:
        """Take in one event (registered with ``EventBus.listen``)."""
        if isinstance(event, Transcript) and event.accepted:
            self._add(HistoryEntry(turn=event.turn, role="user", text=event.text))
        elif isinstance(event, AssistantDelta):
            text, dropped = self._partial.get(event.turn, ("", 0))
            room = ENTRY_BYTES - len(text)  # characters: each takes at least one byte
            text, dropped = text + event.text[:room], dropped + len(event.text[room:])
            self._partial[event.turn] = (text, dropped)
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
        elif isinstance(event, TurnWithdrawn):  # not in the history: not shown to newcomers
            self._partial.pop(event.turn, None)
            self._entries = deque(e for e in self._entries if e.turn != event.turn)

    def history(self) -> History:
        """The kept turns, with any reply still streaming as it stands: the newest entries
        whose encoded size fits HISTORY_BYTES, never starting part-way into an older turn."""
        entries = list(self._entries)
        entries += [
            HistoryEntry(turn=turn, role="assistant", text=clip(text, ENTRY_BYTES, dropped))
            for turn, (text, dropped) in self._partial.items()
            if text
        ]
        kept: list[HistoryEntry] = []
        used = 0
        for entry in reversed(entries):
            used += len(orjson.dumps(to_plain(entry))) + 1
            if used > HISTORY_BYTES:
                break
            kept.append(entry)
        kept.reverse()
        start = len(entries) - len(kept)
        if kept and start and entries[start - 1].turn == kept[0].turn != kept[-1].turn:
            cut = kept[0].turn  # only part of this older turn fits: leave it all out
            kept = [entry for entry in kept if entry.turn != cut]
        return History(entries=tuple(kept))

    def replay(self) -> tuple[Event, ...]:
        """What a client that connects now is sent after the greeting: the history, then each
        confirmation still waiting for a yes or no (so the new client can answer it)."""
        return (self.history(), *self.pending.values())

    def _add(self, entry: HistoryEntry) -> None:
        self._entries.append(_bounded(entry))
        self._trim()

    def _trim(self) -> None:
        turns = {e.turn for e in self._entries}
        while len(turns) > self.turns and self._entries:
            oldest = self._entries[0].turn
            while self._entries and self._entries[0].turn == oldest:
                self._entries.popleft()
            turns.discard(oldest)


def _bounded(entry: HistoryEntry) -> HistoryEntry:
    """``entry`` with its text and name encodable, the text cut to ENTRY_BYTES."""
    text, name = clip(entry.text, ENTRY_BYTES), clip(entry.name, 256)
    if text == entry.text and name == entry.name:
        return entry
    return HistoryEntry(turn=entry.turn, role=entry.role, text=text, name=name, ok=entry.ok)
