"""The history: stored as it happens, rebuilt into valid context, listed, searched, exported."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.converse.conftest import Heard, conversation
from tests.groqsim import ChatReply, GroqSim, StreamFault, ToolCall
from voiced.commands import history as history_command
from voiced.converse.context import turn_messages
from voiced.converse.conversation import Conversation, ConversationOptions
from voiced.converse.history import HistoryStore
from voiced.converse.prompt import DEFAULT_SYSTEM_PROMPT
from voiced.converse.reasoning import ThinkSplitter
from voiced.converse.recorder import HistoryWriter
from voiced.converse.tools import tool
from voiced.errors import ConnectionFailedError, InputError
from voiced.groq.client import GroqClient
from voiced.groq.models import ToolCall as Call


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_new_conversation_starts_after_the_idle_gap(tmp_path: Path) -> None:
    clock = Clock()
    store = HistoryStore(tmp_path / "h.sqlite3", clock=clock)
    first = store.conversation_for(idle_gap_s=600)
    store.start_turn(first, "hello")
    clock.now += 599
    assert store.conversation_for(idle_gap_s=600) == first
    store.start_turn(first, "still here")
    clock.now += 601
    second = store.conversation_for(idle_gap_s=600)
    assert second != first
    assert store.conversation_for(idle_gap_s=600, new=True) not in (first, second)
    store.close()


def test_the_database_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "data" / "h.sqlite3")
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "data" / "h.sqlite3").stat().st_mode & 0o777 == 0o600
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_turns_of_dead_processes_are_marked_interrupted(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    conversation_id = store.conversation_for(600)
    mine, _ = store.start_turn(conversation_id, "mine, still running")
    theirs, _ = store.start_turn(conversation_id, "a process that died")
    reply = store.add_message(theirs, "assistant", status="streaming", content="Once upon")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    store._db.execute("UPDATE turns SET pid = ? WHERE id = ?", (int(dead.stdout), theirs))
    store._db.commit()
    assert store.recover() == 1
    turns = {t.id: t for t in store.conversation(conversation_id).turns}
    assert turns[mine].status == "open"
    assert turns[theirs].status == "interrupted"
    assert "stopped during this turn" in (turns[theirs].error or "")
    assert [m for m in turns[theirs].messages if m.id == reply][0].status == "interrupted"
    store.close()


def test_context_keeps_what_was_spoken_and_drops_dangling_calls(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    turn, _ = store.start_turn(store.conversation_for(600), "weather and time?")
    store.add_message(
        turn,
        "assistant",
        content="Checking.",
        tool_calls=(Call("c1", "weather", '{"place":"Oslo"}'), Call("c2", "current_time", "{}")),
    )
    store.add_message(
        turn, "tool", content="Oslo: 3 degrees", tool_call_id="c1", tool_name="weather"
    )
    cut = store.add_message(
        turn, "assistant", content="It is 3 degrees in Oslo and sunny all week."
    )
    store.update_message(cut, spoken="It is 3 degrees", interrupted=True)
    record = store.conversation(1).turns[0]
    wire = [m.to_wire() for m in turn_messages(record)]
    assert wire == [
        {"role": "user", "content": "weather and time?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"place":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "content": "Oslo: 3 degrees", "tool_call_id": "c1"},
        {"role": "assistant", "content": "It is 3 degrees"},
    ]
    store.close()


async def test_a_conversation_remembers_earlier_turns(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    groqsim.enqueue("chat", ChatReply(content="Hello Ada."), ChatReply(content="You are Ada."))
    convo = conversation(client, history)
    first = await convo.ask("I am Ada.", Heard())
    second = await convo.ask("Who am I?", Heard())
    assert first.conversation_id == second.conversation_id
    sent = groqsim.requests_for("chat")[1].json["messages"]
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", "I am Ada."),
        ("assistant", "Hello Ada."),
        ("user", "Who am I?"),
    ]
    assert "tools" not in groqsim.requests_for("chat")[1].json


async def test_after_the_idle_gap_the_model_starts_afresh(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    convo = conversation(client, history, idle_gap_s=0.01)
    one = await convo.ask("first", Heard())
    await asyncio.sleep(0.05)
    two = await convo.ask("second", Heard())
    three = await convo.ask("third", Heard(), new=True)
    assert len({one.conversation_id, two.conversation_id, three.conversation_id}) == 3
    assert len(groqsim.requests_for("chat")[1].json["messages"]) == 2


async def test_the_system_prompt_is_for_speech_and_carries_the_date_and_zone(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    moment = datetime(2026, 3, 3, 14, 5, tzinfo=ZoneInfo("Europe/Paris"))
    convo = Conversation(
        client, history, ConversationOptions(model="openai/gpt-oss-20b"), now=lambda: moment
    )
    await convo.ask("hi", Heard())
    system = groqsim.requests_for("chat")[0].json["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith(DEFAULT_SYSTEM_PROMPT)
    assert (
        "no markdown" in DEFAULT_SYSTEM_PROMPT.lower()
        or "never use markdown" in DEFAULT_SYSTEM_PROMPT.lower()
    )
    assert system["content"].endswith(
        "The current local date and time is Tuesday 3 March 2026, 14:05 (Europe/Paris, UTC+01:00)."
    )


THINKING = "<think>The user wants a colour.</think>\n\nBlue is calm. <think>Short?</think>Yes."


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 100])
def test_think_tags_cut_anywhere_are_still_found(size: int) -> None:
    splitter = ThinkSplitter()
    said, thought = [], []
    for start in range(0, len(THINKING), size):
        content, reasoning = splitter.feed(THINKING[start : start + size])
        said.append(content)
        thought.append(reasoning)
    content, reasoning = splitter.close()
    assert "".join(said) + content == "Blue is calm. Yes."
    assert "".join(thought) + reasoning == "The user wants a colour.Short?"


def test_an_unclosed_think_block_stays_reasoning() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("Sure. <think>hmm <") == ("Sure. ", "hmm ")
    assert splitter.close() == ("", "<")
    assert ThinkSplitter().feed("1 < 2 and a <b> tag") == ("1 < 2 and a <b> tag", "")


async def test_think_blocks_are_reasoning_never_content(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    groqsim.enqueue("chat", ChatReply(content=THINKING, reasoning="Delta reasoning. "))
    heard = Heard()
    result = await conversation(client, history).ask("a colour?", heard)
    assert heard.text == result.text == "Blue is calm. Yes."
    assert "".join(heard.thought) == result.reasoning
    assert result.reasoning == "Delta reasoning. The user wants a colour.Short?"
    stored = (await history.call(HistoryStore.conversation, 1)).turns[0].messages[1]
    assert stored.content == "Blue is calm. Yes."
    assert stored.reasoning == result.reasoning


async def test_a_failed_stream_keeps_what_was_said(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    groqsim.enqueue("chat", StreamFault("drop", after=3))
    with pytest.raises(ConnectionFailedError):
        await conversation(client, history).ask("count", Heard())
    turn = (await history.call(HistoryStore.conversation, 1)).turns[0]
    assert turn.status == "failed" and "dropped" in (turn.error or "")
    reply = turn.messages[1]
    assert (reply.status, reply.content) == ("failed", "one two three")
    assert reply.request_id and reply.request_id.startswith("req_")


async def test_what_was_spoken_is_recorded_and_used(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    groqsim.enqueue(
        "chat", ChatReply(content="The first sentence. The second one."), ChatReply(content="ok")
    )
    convo = conversation(client, history)
    result = await convo.ask("talk", Heard())
    await convo.mark_spoken(result.reply_ids[-1], "The first sentence.", interrupted=True)
    await convo.ask("and?", Heard())
    sent = groqsim.requests_for("chat")[1].json["messages"]
    assert sent[2] == {"role": "assistant", "content": "The first sentence."}
    reply = (await history.call(HistoryStore.conversation, 1)).turns[0].messages[1]
    assert reply.content == "The first sentence. The second one."
    assert reply.spoken == "The first sentence." and reply.interrupted


@tool
def lookup(word: str) -> str:
    """Look a word up.

    Args:
        word: The word.
    """
    return f"{word}: a small fruit"


def namespace(**given: object) -> argparse.Namespace:
    """The arguments `voiced history` parses to, with the argparse defaults."""
    values: dict[str, object] = {
        "search": None,
        "show": None,
        "export": None,
        "conversation": None,
        "limit": 20,
        "reasoning": False,
        "output": None,
    }
    values.update(given)
    return argparse.Namespace(**values)


@pytest.fixture
async def filled(
    groqsim: GroqSim, client: GroqClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Two conversations in $XDG_DATA_HOME/voiced/history.sqlite3, one with a tool call."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    groqsim.enqueue(
        "chat",
        ChatReply(content="Kumquats are small.", reasoning="Fruit question."),
        ChatReply(tool_calls=[ToolCall("lookup", {"word": "lime"}, id="c1")]),
        ChatReply(content="A lime is a small fruit."),
        ChatReply(content="Hello again."),
    )
    async with HistoryWriter(tmp_path / "share" / "voiced" / "history.sqlite3") as writer:
        convo = conversation(client, writer, [lookup])
        await convo.ask("What are kumquats?", Heard())
        await convo.ask("And a lime?", Heard())
        await convo.ask("Hello", Heard(), new=True)
    return tmp_path / "share" / "voiced" / "history.sqlite3"


async def test_history_lists_conversations_newest_first(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert history_command.run(namespace()) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "STARTED", "TURNS", "FIRST", "QUESTION"]
    assert lines[1].split()[0] == "2" and lines[1].endswith("Hello")
    assert lines[2].split()[0] == "1" and lines[2].split()[3] == "2"
    assert lines[2].endswith("What are kumquats?")


async def test_history_search_finds_any_role(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history_command.run(namespace(search="SMALL"))
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3
    assert ["assistant", "tool", "assistant"] == [line.split()[3] for line in out]
    history_command.run(namespace(search="100%"))
    assert "Nothing matches '100%'" in capsys.readouterr().out


async def test_history_exports_json_with_every_detail(filled: Path, tmp_path: Path) -> None:
    target = tmp_path / "all.json"
    history_command.run(namespace(export="json", output=str(target)))
    data = json.loads(target.read_text())
    assert [c["id"] for c in data] == [1, 2]
    first, second = data[0]["turns"]
    answer = first["messages"][1]
    assert answer["content"] == "Kumquats are small." and answer["reasoning"] == "Fruit question."
    assert answer["request_id"].startswith("req_") and answer["usage"]["completion_tokens"] > 0
    assert "first_token_s" in answer["timings"]
    call, result, reply = second["messages"][1:]
    assert call["tool_calls"] == [{"id": "c1", "name": "lookup", "arguments": '{"word": "lime"}'}]
    assert (result["role"], result["content"]) == ("tool", "lime: a small fruit")
    assert reply["content"] == "A lime is a small fruit."


async def test_history_exports_markdown(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history_command.run(namespace(export="markdown", conversation=["1"]))
    out = capsys.readouterr().out
    assert out.startswith("# Conversation 1, ")
    assert "You\n\nWhat are kumquats?" in out
    assert "> Reasoning: Fruit question." in out
    assert '- called **lookup**({"word": "lime"})' in out
    assert "- **lookup** result: lime: a small fruit" in out
    assert "Hello again" not in out


async def test_history_show_and_its_errors(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history_command.run(namespace(show="last"))
    out = capsys.readouterr().out
    assert out.startswith("# Conversation 2, ") and "Hello again." in out
    with pytest.raises(InputError, match="no conversation '9'"):
        history_command.run(namespace(show="9"))


def test_history_without_a_database_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert history_command.run(namespace()) == 0
    assert "No conversations yet" in capsys.readouterr().out
    assert not (tmp_path / "voiced").exists()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    HistoryStore(path).close()
    import sqlite3

    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.close()
    from voiced.errors import StorageError

    with pytest.raises(StorageError, match="newer voiced"):
        HistoryStore(path)
    assert os.path.exists(path)
