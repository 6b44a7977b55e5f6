"""A spoken turn in replay mode calls an MCP server's tool; a server that fails is reported."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.audio.speech import speak
from tests.daemon.replaying import replay, settings_for, transcript
from tests.groqsim import ChatReply, GroqSim, ToolCall
from tests.listen.scenes import lay_out
from tests.mcp.conftest import Hub
from voiced.config import McpServerSettings, McpSettings

pytestmark = pytest.mark.realtime

QUESTION = "Where is my copy of Dune?"


async def test_a_spoken_question_is_answered_with_an_mcp_tool(
    groqsim: GroqSim, home: Path, hub: Hub
) -> None:
    servers = (
        McpServerSettings(name="shelf", url=hub.url("shelf")),
        McpServerSettings(name="gone", command="/nonexistent/mcp-server"),
    )
    settings = replace(settings_for(groqsim, home), mcp=McpSettings(servers=servers))
    scene = lay_out("shelf", [5.0, [speak(QUESTION)], 4.0])
    groqsim.enqueue("transcriptions", transcript(QUESTION))
    groqsim.enqueue(
        "chat",
        ChatReply(tool_calls=[ToolCall("shelf__find_book", {"title": "Dune"}, id="c1")], ttft=0.1),
        ChatReply(content="It is on the second shelf from the top.", ttft=0.1),
    )
    run = await replay(scene, settings, home)
    assert run.code == 0
    ready = run.one("log", message="MCP server shelf is ready: 2 tools")
    assert ready["t"] < scene.utterances[0][0] / 16000  # up before the question, not waited for
    offered = {t["function"]["name"] for t in groqsim.requests_for("chat")[0].json["tools"]}
    assert {"shelf__find_book", "shelf__whoami"} <= offered
    call = run.one("tool_call", name="shelf__find_book")
    result = run.one("tool_result", call_id=call["call_id"])
    assert result["ok"] and "second shelf from the top" in result["result"]
    assert run.one("assistant_text", turn=1)["text"] == "It is on the second shelf from the top."
    assert run.loud_at(scene.utterances[0][1]) is not None  # and said aloud
    # The server that cannot start is reported to every client, with why.
    error = run.of("error", code="mcp")[0]
    assert error["message"] == (
        "MCP server gone is not available: cannot start '/nonexistent/mcp-server': no such program"
    )
    assert "its tools are not offered" in error["hint"]
