"""Class: MCP servers that misbehave. A crash mid-call, a call never answered, a flood of text:
the model gets a tool error (or a capped result), the turn goes on, the server comes back."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.converse.conftest import Heard, conversation
from tests.groqsim import ChatReply, GroqSim, ToolCall
from tests.mcp.conftest import TOKEN
from tests.mcp.test_manager import Running, toolbox
from voiced.converse.recorder import HistoryWriter
from voiced.converse.tools.registry import ToolRegistry
from voiced.converse.tools.runner import RESULT_LIMIT
from voiced.groq.client import GroqClient
from voiced.mcp import manager as manager_module

pytestmark = pytest.mark.subprocess


@pytest.fixture
async def history(tmp_path: Path) -> AsyncIterator[HistoryWriter]:
    async with HistoryWriter(tmp_path / "history.sqlite3") as writer:
        yield writer


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo").write_text("water the plants")
    return tmp_path / "notes"


async def ask_with(
    client: GroqClient, history: HistoryWriter, box: Running, call: ToolCall
) -> tuple[str, float]:
    """One turn in which the model calls ``call``; the tool message the model got back, and
    how long the tool took."""
    chat = conversation(client, history)
    chat.runner.registry = ToolRegistry(sources=[box.manager])
    result = await chat.ask("go", Heard())
    (outcome,) = result.outcomes
    return outcome.content, outcome.duration_s


async def test_a_server_that_crashes_mid_call_gives_the_model_an_error_and_is_restarted(
    groqsim: GroqSim,
    client: GroqClient,
    history: HistoryWriter,
    notes: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(manager_module, "FIRST_DELAY_S", 0.2)
    box = Running(toolbox(notes))
    box.manager.start()
    try:
        await box.manager.settled()
        groqsim.enqueue(
            "chat",
            ChatReply(tool_calls=[ToolCall("box__crash", {}, id="c1")]),
            ChatReply(content="The tool broke."),
        )
        content, _ = await ask_with(client, history, box, ToolCall("box__crash", {}))
        error = json.loads(content)["error"]
        assert "the server stopped during the call" in error
        assert "out of cheese" in error and "voiced is restarting it" in error
        sent = groqsim.requests_for("chat")[1].json["messages"][-1]
        assert sent["role"] == "tool" and sent["content"] == content
        await box.until("failed")
        assert "it closed the connection" in box.changes[-1].reason
        await box.until("ready", 2)  # restarted, tools offered again
        assert "box__read_note" in box.tools()
    finally:
        await box.manager.aclose()


@pytest.mark.realtime
async def test_a_call_that_is_never_answered_times_out_and_the_server_stays(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter, notes: Path
) -> None:
    # 3 s, not 1: the same timeout bounds the server's start, and a loaded machine takes
    # more than a second to start a Python MCP server.
    box = Running(toolbox(notes, timeout=3.0))
    box.manager.start()
    try:
        await box.manager.settled()
        groqsim.enqueue(
            "chat",
            ChatReply(tool_calls=[ToolCall("box__hang", {}, id="c1")]),
            ChatReply(content="It took too long."),
        )
        began = time.monotonic()
        content, took = await ask_with(client, history, box, ToolCall("box__hang", {}))
        assert json.loads(content)["error"] == "box__hang did not finish within 3 seconds"
        assert 2.9 <= took < 5.0 and time.monotonic() - began < 12
        # It still answers pings, so it is not restarted: its other tools still work.
        assert await box.tools()["box__read_note"].invoke({"name": "todo"}) == "water the plants"
    finally:
        await box.manager.aclose()
    assert [c.phase for c in box.changes] == ["ready"]


async def test_a_flood_of_text_reaches_the_model_cut_like_a_builtins_result(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter, notes: Path
) -> None:
    box = Running(toolbox(notes))
    box.manager.start()
    try:
        await box.manager.settled()
        groqsim.enqueue(
            "chat",
            ChatReply(tool_calls=[ToolCall("box__huge", {}, id="c1")]),
            ChatReply(content="That is a lot of x."),
        )
        content, _ = await ask_with(client, history, box, ToolCall("box__huge", {}))
    finally:
        await box.manager.aclose()
    assert content.startswith("x" * RESULT_LIMIT)
    assert content.endswith(f"[cut: {200_000 - RESULT_LIMIT} more characters]")


async def test_secrets_given_to_a_server_never_reach_the_log(
    notes: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    box = Running(toolbox(notes))
    box.manager.start()
    try:
        await box.manager.settled()
        await box.tools()["box__read_note"].invoke({"name": "todo"})
    finally:
        await box.manager.aclose()
    assert "starting with token ***" in caplog.text  # its stderr, logged at debug, masked
    assert TOKEN not in caplog.text
