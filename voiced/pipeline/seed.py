"""The recent conversation read back from the history, so a restarted daemon still shows it."""

from __future__ import annotations

from voiced.converse.history import HistoryStore
from voiced.converse.recorder import HistoryWriter
from voiced.converse.records import TurnRecord
from voiced.protocol.reports import HistoryEntry


async def stored_turns(history: HistoryWriter, turns: int) -> list[HistoryEntry]:
    """The last ``turns`` turns of the latest conversation, oldest first.

    They are numbered 0, -1, -2, … backwards from the newest, so they never collide with the
    turns of this daemon (numbered from 1).

    Raises:
        StorageError: The history cannot be read.
    """
    if turns <= 0:
        return []
    latest = await history.call(HistoryStore.conversations, 1)
    if not latest:
        return []
    record = await history.call(HistoryStore.conversation, latest[0].id)
    kept = [t for t in record.turns if t.status != "open"][-turns:]
    entries: list[HistoryEntry] = []
    for number, turn in zip(range(1 - len(kept), 1), kept, strict=True):
        entries += _entries(number, turn)
    return entries


def _entries(number: int, turn: TurnRecord) -> list[HistoryEntry]:
    """A stored turn as history lines: a failed or declined tool call stays marked so (its
    message's status is ``failed``), and a reply cut short shows what was heard of it."""
    out = []
    for message in turn.messages:
        if message.role == "tool":
            text, name = message.content, message.tool_name or ""
            ok = message.status != "failed"
        else:
            text = message.spoken if message.interrupted and message.spoken else message.content
            name, ok = "", True
        if text:
            out.append(HistoryEntry(turn=number, role=message.role, text=text, name=name, ok=ok))
    return out
