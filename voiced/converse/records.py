"""What the history holds: conversations, their turns and every message of a turn."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, Literal

from voiced.groq.models import ToolCall

MessageStatus = Literal["streaming", "done", "failed", "interrupted"]
TurnStatus = Literal["open", "done", "failed", "interrupted", "capped"]


@dataclass(frozen=True)
class MessageRecord:
    """One stored message: the user's words, a model reply (with its tool calls) or a result.

    Attributes:
        status: ``streaming`` while the reply arrives; ``interrupted`` when it was cut off
            (stopped, or the process died); ``failed`` when the request failed.
        spoken: The part of the reply actually spoken, when it was spoken.
        interrupted: Whether speaking it was cut short.
        usage: Token counts and Groq's timings, as the API reported them.
        timings: Our own timings in seconds (``first_token_s``, ``total_s``, ``duration_s``).
    """

    id: int
    turn_id: int
    role: Literal["user", "assistant", "tool"]
    created_at: float
    updated_at: float
    status: MessageStatus = "done"
    content: str = ""
    reasoning: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    tool_name: str | None = None
    spoken: str | None = None
    interrupted: bool = False
    model: str | None = None
    request_id: str | None = None
    usage: dict[str, Any] | None = None
    timings: dict[str, Any] | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the message as plain JSON, leaving out fields that are unset."""
        out: dict[str, Any] = {"id": self.id, "role": self.role, "created_at": self.created_at}
        out["status"] = self.status
        for name in ("content", "reasoning", "tool_call_id", "tool_name", "spoken", "model"):
            value = getattr(self, name)
            if value:
                out[name] = value
        if self.tool_calls:
            out["tool_calls"] = [
                {"id": c.id, "name": c.name, "arguments": c.arguments} for c in self.tool_calls
            ]
        if self.interrupted:
            out["interrupted"] = True
        for name in ("request_id", "usage", "timings", "error"):
            value = getattr(self, name)
            if value:
                out[name] = value
        return out


@dataclass(frozen=True)
class TurnRecord:
    """One turn: what the user said and everything the assistant did to answer it."""

    id: int
    conversation_id: int
    started_at: float
    ended_at: float | None
    status: TurnStatus
    error: str | None = None
    messages: tuple[MessageRecord, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the turn and its messages as plain JSON."""
        out: dict[str, Any] = {
            "id": self.id,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "status": self.status,
        }
        if self.error:
            out["error"] = self.error
        out["messages"] = [m.to_json() for m in self.messages]
        return out


@dataclass(frozen=True)
class ConversationRecord:
    """A conversation: turns close together in time, with the summary of its older turns.

    Attributes:
        summary: The model's summary of the turns up to ``summary_through`` (a turn id).
        title: The first thing the user said, for listings.
        turn_count: How many turns it has (``turns`` may hold only some of them).
    """

    id: int
    started_at: float
    updated_at: float
    summary: str = ""
    summary_through: int = 0
    title: str = ""
    turn_count: int = 0
    turns: tuple[TurnRecord, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the conversation, its summary and its turns as plain JSON."""
        out: dict[str, Any] = {
            "id": self.id,
            "started_at": self.started_at,
            "updated_at": self.updated_at,
            "title": self.title,
            "turn_count": self.turn_count,
        }
        if self.summary:
            out["summary"] = {"text": self.summary, "through_turn": self.summary_through}
        out["turns"] = [t.to_json() for t in self.turns]
        return out


@dataclass(frozen=True)
class SearchHit:
    """A message that matched a search, with where it is."""

    conversation_id: int
    turn_id: int
    message_id: int
    role: str
    created_at: float
    text: str


def calls_to_json(calls: tuple[ToolCall, ...]) -> str | None:
    """Encode tool calls for the ``tool_calls`` column (None when there are none)."""
    if not calls:
        return None
    return json.dumps([{"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls])


def calls_from_json(text: str | None) -> tuple[ToolCall, ...]:
    """Decode the ``tool_calls`` column."""
    if not text:
        return ()
    return tuple(
        ToolCall(id=c["id"], name=c["name"], arguments=c["arguments"]) for c in json.loads(text)
    )


def message_from_row(row: sqlite3.Row) -> MessageRecord:
    """Build a message from a ``messages`` row."""
    calls: tuple[ToolCall, ...] = calls_from_json(row["tool_calls"])
    return MessageRecord(
        id=row["id"],
        turn_id=row["turn_id"],
        role=row["role"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        status=row["status"],
        content=row["content"],
        reasoning=row["reasoning"],
        tool_calls=calls,
        tool_call_id=row["tool_call_id"],
        tool_name=row["tool_name"],
        spoken=row["spoken"],
        interrupted=bool(row["interrupted"]),
        model=row["model"],
        request_id=row["request_id"],
        usage=json.loads(row["usage"]) if row["usage"] else None,
        timings=json.loads(row["timings"]) if row["timings"] else None,
        error=row["error"],
    )


def turn_from_row(row: sqlite3.Row, messages: list[MessageRecord]) -> TurnRecord:
    """Build a turn from a ``turns`` row and its messages."""
    return TurnRecord(
        id=row["id"],
        conversation_id=row["conversation_id"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        status=row["status"],
        error=row["error"],
        messages=tuple(messages),
    )


def conversation_from_row(row: sqlite3.Row) -> ConversationRecord:
    """Build a conversation head from a row with ``turn_count`` and ``title`` columns."""
    return ConversationRecord(
        id=row["id"],
        started_at=row["started_at"],
        updated_at=row["updated_at"],
        summary=row["summary"],
        summary_through=row["summary_through"],
        title=row["title"] or "",
        turn_count=row["turn_count"],
    )
