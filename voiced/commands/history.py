"""``voiced history``: list, show, search and export past conversations (JSON or Markdown)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from voiced.config import data_dir
from voiced.converse.history import HistoryStore
from voiced.converse.records import ConversationRecord, MessageRecord, TurnRecord
from voiced.converse.session import HISTORY_FILE
from voiced.errors import InputError

EXPORT_FORMATS = ("json", "markdown")


def run(args: argparse.Namespace) -> int:
    """List the latest conversations, or show, search or export them as the flags say."""
    path = data_dir() / HISTORY_FILE
    if not path.exists():
        print("No conversations yet: ask something first (voiced ask …).")
        return 0
    store = HistoryStore(path)
    try:
        if args.search:
            text = render_hits(store, args.search, args.limit)
        elif args.show is not None:
            text = render_markdown([_one(store, args.show)], args.reasoning)
        elif args.export:
            conversations = _chosen(store, args.conversation)
            if args.export == "json":
                text = json.dumps([c.to_json() for c in conversations], indent=2) + "\n"
            else:
                text = render_markdown(conversations, reasoning=True)
        else:
            text = render_list(store.conversations(args.limit))
    finally:
        store.close()
    if args.output:
        _write(Path(args.output), text)
    else:
        sys.stdout.write(text)
    return 0


def _one(store: HistoryStore, wanted: str) -> ConversationRecord:
    if wanted == "last":
        latest = store.conversations(1)
        if not latest:
            raise InputError("there are no conversations yet")
        return store.conversation(latest[0].id)
    try:
        return store.conversation(int(wanted))
    except (ValueError, KeyError):
        raise InputError(
            f"no conversation {wanted!r}", "run `voiced history` to see their numbers"
        ) from None


def _chosen(store: HistoryStore, ids: list[str] | None) -> list[ConversationRecord]:
    if ids:
        return [_one(store, i) for i in ids]
    heads = store.conversations(limit=1_000_000)
    return [store.conversation(c.id) for c in reversed(heads)]


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from exc


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).astimezone().strftime("%Y-%m-%d %H:%M")


def _one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def render_list(conversations: Iterable[ConversationRecord]) -> str:
    """A table of conversations: number, start, turns and the first question."""
    rows = [f"{'ID':>5}  {'STARTED':16}  {'TURNS':>5}  FIRST QUESTION"]
    for c in conversations:
        rows.append(
            f"{c.id:>5}  {_when(c.started_at)}  {c.turn_count:>5}  {_one_line(c.title, 60)}"
        )
    if len(rows) == 1:
        return "No conversations yet.\n"
    return "\n".join(rows) + "\n"


def render_hits(store: HistoryStore, query: str, limit: int) -> str:
    """The messages that contain ``query``, newest first, with where to find them."""
    hits = store.search(query, limit)
    if not hits:
        return f"Nothing matches {query!r}.\n"
    lines = [
        f"#{h.conversation_id:<4} {_when(h.created_at)}  {h.role:9}  {_one_line(h.text, 70)}"
        for h in hits
    ]
    return "\n".join(lines) + "\n"


def render_markdown(conversations: Iterable[ConversationRecord], reasoning: bool) -> str:
    """Conversations as Markdown: each turn's question, tool calls and results, and answers."""
    out: list[str] = []
    for c in conversations:
        out.append(f"# Conversation {c.id}, {_when(c.started_at)}\n")
        if c.summary:
            out.append(f"> Summary of turns up to {c.summary_through}: {c.summary}\n")
        for turn in c.turns:
            out += _turn_markdown(turn, reasoning)
    return "\n".join(out)


def _turn_markdown(turn: TurnRecord, reasoning: bool) -> list[str]:
    out: list[str] = []
    for m in turn.messages:
        out += _message_markdown(m, reasoning)
    if turn.status not in ("done", "open"):
        out.append(f"_Turn {turn.status}{': ' + turn.error if turn.error else ''}._\n")
    return out


def _message_markdown(m: MessageRecord, reasoning: bool) -> list[str]:
    stamp = datetime.fromtimestamp(m.created_at).astimezone().strftime("%H:%M:%S")
    if m.role == "user":
        return [f"## {stamp} You\n", f"{m.content}\n"]
    if m.role == "tool":
        return [f"- **{m.tool_name}** result: {_one_line(m.content, 400)}\n"]
    out: list[str] = []
    if m.content or m.reasoning:
        out.append(f"## {stamp} voiced\n")
    if reasoning and m.reasoning:
        out.append("> Reasoning: " + " ".join(m.reasoning.split()) + "\n")
    if m.content:
        out.append(f"{m.content}\n")
    for call in m.tool_calls:
        out.append(f"- called **{call.name}**({call.arguments})\n")
    if m.spoken is not None and m.interrupted:
        out.append(f"_Interrupted; spoken: “{m.spoken}”_\n")
    if m.status in ("failed", "interrupted"):
        out.append(f"_Reply {m.status}{': ' + m.error if m.error else ''}._\n")
    return out
