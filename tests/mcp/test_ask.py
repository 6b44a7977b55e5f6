"""`voiced ask` with MCP servers: real processes, the loopback Groq server scripting the calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.converse.test_ask import BUILTIN, Ask
from tests.groqsim import ChatReply, GroqSim, ToolCall
from tests.mcp.conftest import TOKEN, start_hub, toolbox_table

pytestmark = pytest.mark.subprocess


@pytest.fixture
def ask(groqsim: GroqSim, tmp_path: Path) -> Ask:
    return Ask(groqsim, tmp_path)


def offered(ask: Ask, request: int = 0) -> dict[str, dict[str, object]]:
    tools = ask.sim.requests_for("chat")[request].json["tools"]
    return {t["function"]["name"]: t["function"] for t in tools}


def tool_result(ask: Ask, request: int = 1) -> str:
    content = ask.sim.requests_for("chat")[request].json["messages"][-1]["content"]
    assert isinstance(content, str)
    return content


def test_ask_calls_a_stdio_servers_tool_end_to_end(ask: Ask, notes: Path) -> None:
    ask.config(toolbox_table(notes))
    ask.sim.enqueue(
        "chat",
        ChatReply(tool_calls=[ToolCall("box__read_note", {"name": "shopping"}, id="c1")]),
        ChatReply(content="Eggs, flour and cheese."),
    )
    result = ask("what is on my shopping note?")
    assert result.returncode == 0 and result.stdout == "Eggs, flour and cheese.\n"
    tools = offered(ask)
    assert BUILTIN < set(tools) and "box__read_note" in tools
    assert "of the MCP server 'box'" in str(tools["box__read_note"]["description"])
    assert "box__weird" not in tools  # its schema cannot be checked
    assert tool_result(ask) == "eggs, flour, a lot of cheese"
    assert TOKEN not in result.stdout + result.stderr


def test_a_destructive_tool_is_refused_without_a_confirmation(ask: Ask, notes: Path) -> None:
    ask.config(toolbox_table(notes))
    ask.sim.enqueue(
        "chat",
        ChatReply(tool_calls=[ToolCall("box__delete_note", {"name": "shopping"}, id="c1")]),
        ChatReply(content="I did not delete it."),
    )
    result = ask("delete my shopping note")
    assert result.returncode == 0
    assert "stdin is not a terminal" in result.stderr
    assert "Let the MCP server box run delete_note (name='shopping')?" in result.stderr
    assert "did not allow" in tool_result(ask)
    assert (notes / "shopping").exists()


def test_confirm_never_lets_the_same_tool_run(ask: Ask, notes: Path) -> None:
    ask.config(toolbox_table(notes, confirm='"never"'))
    ask.sim.enqueue(
        "chat",
        ChatReply(tool_calls=[ToolCall("box__delete_note", {"name": "shopping"}, id="c1")]),
        ChatReply(content="Deleted."),
    )
    assert ask("delete my shopping note").returncode == 0
    assert tool_result(ask) == "deleted shopping"
    assert not (notes / "shopping").exists()


def test_a_server_that_cannot_start_is_named_and_the_question_still_answered(
    ask: Ask, notes: Path
) -> None:
    ask.config(toolbox_table(notes, "box", "--fail-at-start"))
    ask.sim.enqueue("chat", ChatReply(content="Hello."))
    result = ask("hello")
    assert result.returncode == 0 and result.stdout == "Hello.\n"
    assert "MCP server box is not available" in result.stderr
    assert "cannot open the database (token ***)" in result.stderr and TOKEN not in result.stderr
    assert set(offered(ask)) == BUILTIN


def test_many_servers_with_many_tools_stay_within_groqs_limit_with_a_warning(
    ask: Ask, notes: Path
) -> None:
    hub = start_hub("--bulk", "5", "--tools", "30")  # 150 tools, with 13 built-in
    try:
        tables = "".join(
            f'[[mcp.servers]]\nname = "bulk{n}"\nurl = "{hub.url(f"bulk{n}")}"\n' for n in range(5)
        )
        ask.config(tables)
        ask.sim.enqueue("chat", ChatReply(content="Hi."))
        result = ask("hi")
    finally:
        hub.stop()
    assert result.returncode == 0
    tools = offered(ask)
    assert len(tools) == 128 and BUILTIN < set(tools)
    assert "bulk0__tool_000" in tools and "bulk4__tool_029" not in tools
    body = json.dumps(ask.sim.requests_for("chat")[0].json["tools"])
    assert len(body) <= 64_000
    assert "35 tools were left out of the request" in result.stderr
    assert "bulk4__tool_029" in result.stderr
