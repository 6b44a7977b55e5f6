"""The conversation history in SQLite: every message written and committed as it happens."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from voiced.converse.records import (
    ConversationRecord,
    MessageRecord,
    SearchHit,
    calls_to_json,
    conversation_from_row,
    message_from_row,
    turn_from_row,
)
from voiced.converse.sqlite import connect, process_alive, storage_errors

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    summary_through INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    started_at REAL NOT NULL,
    ended_at REAL,
    status TEXT NOT NULL DEFAULT 'open',
    error TEXT,
    pid INTEGER
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    turn_id INTEGER NOT NULL REFERENCES turns(id),
    role TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'done',
    content TEXT NOT NULL DEFAULT '',
    reasoning TEXT NOT NULL DEFAULT '',
    tool_calls TEXT,
    tool_call_id TEXT,
    tool_name TEXT,
    spoken TEXT,
    interrupted INTEGER NOT NULL DEFAULT 0,
    model TEXT,
    request_id TEXT,
    usage TEXT,
    timings TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns(conversation_id);
CREATE INDEX IF NOT EXISTS messages_by_turn ON messages(turn_id);
"""
_JSON_COLUMNS = frozenset({"usage", "timings"})
_MESSAGE_COLUMNS = frozenset(
    {"status", "content", "reasoning", "tool_calls", "tool_call_id", "tool_name", "spoken"}
    | {"interrupted", "model", "request_id", "usage", "timings", "error"}
)


class HistoryStore:
    """Reads and writes the history database; use it from one thread at a time.

    Args:
        path: The database file (``$XDG_DATA_HOME/voiced/history.sqlite3``).
        clock: Wall-clock seconds, for timestamps.
    """

    def __init__(self, path: Path, clock: Any = time.time) -> None:
        self.path = path
        self._clock = clock
        self._db = connect(path, SCHEMA, SCHEMA_VERSION)
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _write(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        with storage_errors(self.path):
            cursor = self._db.execute(sql, params)
            self._db.commit()
            return int(cursor.lastrowid or 0)

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with storage_errors(self.path):
            return self._db.execute(sql, params).fetchall()

    # -- writing -------------------------------------------------------------------------

    def recover(self) -> int:
        """Mark turns left open by a voiced process that has died as interrupted.

        Returns:
            How many turns were marked.
        """
        now = self._clock()
        dead = [
            r["id"]
            for r in self._read("SELECT id, pid FROM turns WHERE status = 'open'")
            if not process_alive(r["pid"])
        ]
        for turn_id in dead:
            self._write(
                "UPDATE messages SET status = 'interrupted', updated_at = ? "
                "WHERE turn_id = ? AND status = 'streaming'",
                (now, turn_id),
            )
            self._write(
                "UPDATE turns SET status = 'interrupted', ended_at = ?, "
                "error = 'the voiced process stopped during this turn' WHERE id = ?",
                (now, turn_id),
            )
        return len(dead)

    def conversation_for(self, idle_gap_s: float, new: bool = False) -> int:
        """Return the conversation a new turn belongs to, starting one when needed.

        Args:
            idle_gap_s: A conversation idle for longer than this is over.
            new: Start a new conversation whatever the gap.
        """
        now = self._clock()
        rows = self._read("SELECT id, updated_at FROM conversations ORDER BY id DESC LIMIT 1")
        if rows and not new and now - rows[0]["updated_at"] <= idle_gap_s:
            return int(rows[0]["id"])
        return self._write(
            "INSERT INTO conversations (started_at, updated_at) VALUES (?, ?)", (now, now)
        )

    def start_turn(self, conversation_id: int, user_text: str) -> tuple[int, int]:
        """Store the start of a turn and what the user said; return (turn id, message id)."""
        now = self._clock()
        turn_id = self._write(
            "INSERT INTO turns (conversation_id, started_at, pid) VALUES (?, ?, ?)",
            (conversation_id, now, os.getpid()),
        )
        self._write("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))
        message_id = self.add_message(turn_id, "user", content=user_text)
        return turn_id, message_id

    def add_message(self, turn_id: int, role: str, **fields: Any) -> int:
        """Store a new message of a turn; ``fields`` are column values. Returns its id."""
        now = self._clock()
        columns = _columns(fields)
        names = ", ".join(["turn_id", "role", "created_at", "updated_at", *columns])
        marks = ", ".join("?" * (4 + len(columns)))
        return self._write(
            f"INSERT INTO messages ({names}) VALUES ({marks})",
            (turn_id, role, now, now, *columns.values()),
        )

    def update_message(self, message_id: int, **fields: Any) -> None:
        """Change some columns of a stored message."""
        columns = _columns(fields)
        assignments = ", ".join(f"{name} = ?" for name in ["updated_at", *columns])
        self._write(
            f"UPDATE messages SET {assignments} WHERE id = ?",
            (self._clock(), *columns.values(), message_id),
        )

    def finish_turn(self, turn_id: int, status: str, error: str | None = None) -> None:
        """Record how a turn ended: done, failed, interrupted or capped."""
        now = self._clock()
        self._write(
            "UPDATE turns SET status = ?, error = ?, ended_at = ? WHERE id = ?",
            (status, error, now, turn_id),
        )
        self._write(
            "UPDATE conversations SET updated_at = ? WHERE id = "
            "(SELECT conversation_id FROM turns WHERE id = ?)",
            (now, turn_id),
        )

    def delete_turn(self, turn_id: int) -> None:
        """Forget a turn and its messages (withdrawn: the speaker went on, and the whole of
        what they said is asked as a new turn); a conversation left without turns goes too."""
        rows = self._read("SELECT conversation_id FROM turns WHERE id = ?", (turn_id,))
        self._write("DELETE FROM messages WHERE turn_id = ?", (turn_id,))
        self._write("DELETE FROM turns WHERE id = ?", (turn_id,))
        for row in rows:
            self._write(
                "DELETE FROM conversations WHERE id = ? AND NOT EXISTS "
                "(SELECT 1 FROM turns WHERE conversation_id = ?)",
                (row["conversation_id"], row["conversation_id"]),
            )

    def set_summary(self, conversation_id: int, summary: str, through_turn: int) -> None:
        """Store the summary of a conversation's turns up to ``through_turn``."""
        self._write(
            "UPDATE conversations SET summary = ?, summary_through = ? WHERE id = ?",
            (summary, through_turn, conversation_id),
        )

    # -- reading -------------------------------------------------------------------------

    def conversation(self, conversation_id: int, since_summary: bool = False) -> ConversationRecord:
        """Return a conversation with its turns (only those after the summary, if asked).

        Raises:
            KeyError: There is no such conversation.
        """
        rows = self._read(f"{_CONVERSATIONS} WHERE c.id = ? GROUP BY c.id", (conversation_id,))
        if not rows:
            raise KeyError(conversation_id)
        head = conversation_from_row(rows[0])
        after = head.summary_through if since_summary else 0
        turns = self._read(
            "SELECT * FROM turns WHERE conversation_id = ? AND id > ? ORDER BY id",
            (conversation_id, after),
        )
        messages: dict[int, list[MessageRecord]] = {}
        for row in self._read(
            "SELECT m.* FROM messages m JOIN turns t ON t.id = m.turn_id "
            "WHERE t.conversation_id = ? AND t.id > ? ORDER BY m.id",
            (conversation_id, after),
        ):
            messages.setdefault(row["turn_id"], []).append(message_from_row(row))
        return replace(
            head, turns=tuple(turn_from_row(t, messages.get(t["id"], [])) for t in turns)
        )

    def conversations(self, limit: int = 20, offset: int = 0) -> list[ConversationRecord]:
        """Return the latest conversations, newest first, without their turns."""
        rows = self._read(
            f"{_CONVERSATIONS} GROUP BY c.id ORDER BY c.updated_at DESC, c.id DESC "
            "LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [conversation_from_row(r) for r in rows]

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Return messages containing ``query`` (any case), newest first."""
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self._read(
            "SELECT m.id, m.turn_id, m.role, m.created_at, m.content, t.conversation_id "
            "FROM messages m JOIN turns t ON t.id = m.turn_id "
            "WHERE m.content LIKE ? ESCAPE '\\' ORDER BY m.id DESC LIMIT ?",
            (pattern, limit),
        )
        return [
            SearchHit(
                r["conversation_id"],
                r["turn_id"],
                r["id"],
                r["role"],
                r["created_at"],
                r["content"],
            )
            for r in rows
        ]


_CONVERSATIONS = (
    "SELECT c.*, COUNT(t.id) AS turn_count, "
    "(SELECT m.content FROM messages m JOIN turns f ON f.id = m.turn_id "
    " WHERE f.conversation_id = c.id AND m.role = 'user' ORDER BY m.id LIMIT 1) AS title "
    "FROM conversations c LEFT JOIN turns t ON t.conversation_id = c.id"
)


def _columns(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - _MESSAGE_COLUMNS
    if unknown:
        raise ValueError(f"unknown message columns: {sorted(unknown)}")
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "tool_calls":
            value = calls_to_json(value)
        elif name in _JSON_COLUMNS and value is not None:
            value = json.dumps(value)
        elif name == "interrupted":
            value = int(bool(value))
        out[name] = value
    return out
