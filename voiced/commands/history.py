"""``voiced history``: list, show, search and export past conversations (JSON or Markdown)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from voiced.commands.textin import checked
from voiced.config import data_dir
from voiced.converse.history import HistoryStore
from voiced.converse.records import ConversationRecord, MessageRecord, TurnRecord
from voiced.converse.session import HISTORY_FILE
from voiced.converse.sqlite import DAMAGED, damaged_copies, is_damaged
from voiced.errors import InputError, StorageError

EXPORT_FORMATS = ("json", "markdown")


def run(args: argparse.Namespace) -> int:
    """List the latest conversations, or show, search or export them as the flags say."""
    path = data_dir() / HISTORY_FILE
    if args.search:
        checked(args.search, "--search")
    _tell_of_damage(path)
    if not path.exists():
        print("No conversations yet: ask something first (voiced ask …).")
        return 0
    try:
        text = _render(HistoryStore(path), args)
    except StorageError as exc:
        if not is_damaged(exc):
            raise
        raise StorageError(
            f"{path} is damaged ({exc.message.removeprefix(f'{path}: ')})",
            "the daemon moves it aside at its next start and runs without history until "
            f"restarted; or move it aside yourself: mv {path} {path}{DAMAGED}manual",
        ) from exc
    if args.output:
        _write(Path(args.output), text)
    else:
        sys.stdout.write(text)
    return 0


def _tell_of_damage(path: Path) -> None:
    """Say on stderr when a damaged history was moved aside (the newest such file)."""
    copies = damaged_copies(path)
    if not copies:
        return
    newest = copies[-1]
    stamp = newest.name.removeprefix(path.name + DAMAGED)[:15]
    try:
        when = " on " + datetime.strptime(stamp, "%Y%m%d-%H%M%S").strftime("%Y-%m-%d %H:%M")
    except ValueError:
        when = ""
    others = f" ({len(copies) - 1} older ones beside it)" if len(copies) > 1 else ""
    print(
        f"voiced: note: the history was found damaged{when} and moved aside to {newest}"
        f"{others}; what is left of it: sqlite3 {newest} .recover",
        file=sys.stderr,
    )


def _render(store: HistoryStore, args: argparse.Namespace) -> str:
    """What the flags ask for, as text; closes ``store``."""
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
    return text


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
    """Write ``text`` to ``path`` readable by the user alone (0600), atomically: a temporary
    file in the same directory, synced, then renamed over it. Interrupted, it leaves the old
    file as it was."""
    data = text.encode("utf-8")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}", "check the directory") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise InputError(f"{path}: cannot write: {exc.strerror}", "check the path") from exc
        raise


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
