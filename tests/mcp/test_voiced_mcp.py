"""`voiced mcp` end to end: the SDK's client starts it and uses a daemon in replay mode.

The replayed file is the user: the answer to ``ask_user`` is speech in it, placed well after
the question has been said.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.audio.speech import speak
from tests.daemon.replaying import replay, settings_for, transcript
from tests.groqsim import GroqSim
from tests.listen.scenes import lay_out
from tests.procs import voiced_command
from voiced.daemon.app import Daemon

if TYPE_CHECKING:
    # The SDK takes about half a second to import: loaded by the tests that use it, not by
    # every xdist worker when it collects this file.
    from mcp import ClientSession
    from mcp.types import CallToolResult

pytestmark = [pytest.mark.realtime, pytest.mark.subprocess]

ANSWER = "Go ahead and push it."  # no comma: its pause would start a speculative transcript


@asynccontextmanager
async def voiced_mcp(sock: Path) -> AsyncIterator[ClientSession]:
    """``python -m voiced mcp --socket SOCK`` as an agent would start it, initialized."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    command, *args = map(str, voiced_command("mcp", "--socket", str(sock)))
    params = StdioServerParameters(
        command=command,
        args=args,
        env={"HOME": os.environ.get("HOME", "/"), "PATH": os.environ["PATH"]},
    )
    async with stdio_client(params, sys.stderr) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            yield session


def text(result: CallToolResult) -> str:
    from mcp.types import TextContent

    (block,) = result.content
    assert isinstance(block, TextContent)
    return block.text


def in_replay(
    session: ClientSession, work: Callable[[ClientSession, Daemon], Awaitable[None]]
) -> Callable[[Daemon], Awaitable[None]]:
    async def during(daemon: Daemon) -> None:
        await work(session, daemon)

    return during


@pytest.mark.parametrize("mode", ["always", "wake"])
async def test_an_agent_speaks_notifies_reads_the_status_and_asks_the_user(
    groqsim: GroqSim, home: Path, mode: str
) -> None:
    """In wake mode too: the answer to a question voiced asked needs no wake word."""
    scene = lay_out("agent", [11.0, [speak(ANSWER)], 2.5])
    groqsim.enqueue("transcriptions", transcript(ANSWER))
    sock = home / "s" / "control.sock"  # where replay() puts the daemon's socket
    seen: dict[str, Any] = {}

    async def work(session: ClientSession, daemon: Daemon) -> None:
        listed = await session.list_tools()
        seen["tools"] = {t.name for t in listed.tools}
        status = await session.call_tool("status", {})
        seen["status"] = status.structured_content
        seen["speak"] = text(await session.call_tool("speak", {"text": "The build passed."}))
        seen["notify"] = text(await session.call_tool("notify", {"text": "Tests are green."}))
        asked = await session.call_tool(
            "ask_user", {"question": "Shall I push the branch?", "timeout_s": 20}
        )
        seen["ask"] = (asked.is_error, text(asked))

    async with voiced_mcp(sock) as session:
        settings = settings_for(groqsim, home, mode=mode)
        run = await replay(scene, settings, home, in_replay(session, work))
    assert run.code == 0
    assert seen["tools"] == {"speak", "ask_user", "notify", "status"}
    assert seen["status"]["state"] == "listening" and seen["status"]["mode"] == mode
    assert seen["speak"] == "said" and seen["notify"] == "notified"
    story = [e for e in run.events if e["type"] not in ("level", "assistant_delta")]
    assert seen["ask"] == (False, ANSWER), story
    answer = run.one("user_answer")
    assert answer["answered"] and answer["text"] == ANSWER and answer["source"] == "voice"
    assert answer["question"] == "Shall I push the branch?"
    assert run.one("log", message="notification: Tests are green.")
    # The answer started no turn: nothing was sent to the chat model.
    assert groqsim.requests_for("chat") == []
    assert [t for t in run.of("transcript") if t["turn"] != 0] == []
    # The question was said before the answer began, and the answer after it.
    asked = run.one("log", message="a program asks: Shall I push the branch?")
    onset = scene.utterances[0][0]
    assert run.loud_at(round(asked["t"] * 16000)) is not None
    assert run.silent(onset - 16000 // 2, onset)


async def test_asking_a_muted_voiced_fails_with_the_reason_and_speaking_still_works(
    groqsim: GroqSim, home: Path
) -> None:
    scene = lay_out("muted", [6.0])
    sock = home / "s" / "control.sock"
    seen: dict[str, Any] = {}

    async def work(session: ClientSession, daemon: Daemon) -> None:
        asked = await session.call_tool("ask_user", {"question": "Are you there?"})
        seen["ask"] = (asked.is_error, text(asked))
        seen["speak"] = text(await session.call_tool("speak", {"text": "Still here."}))
        empty = await session.call_tool("speak", {"text": "   "})
        seen["empty"] = (empty.is_error, text(empty))

    async with voiced_mcp(sock) as session:
        settings = settings_for(groqsim, home, mode="muted")
        run = await replay(scene, settings, home, in_replay(session, work))
    error, said = seen["ask"]
    assert error and said.endswith(
        "voiced refused: the microphone is muted, so voiced cannot hear an answer (ask the "
        "user to unmute it (`voiced unmute`, or m in the TUI), then ask again)"
    )
    assert seen["speak"] == "said" and run.loud_at(0) is not None
    error, said = seen["empty"]
    assert error and said.endswith("voiced refused: the text to say is empty (give some words)")
    assert run.of("user_answer") == []


async def test_without_a_daemon_each_tool_says_how_to_start_one(tmp_path: Path) -> None:
    async with voiced_mcp(tmp_path / "none" / "control.sock") as session:
        result = await asyncio.wait_for(session.call_tool("speak", {"text": "hello"}), 30)
    assert result.is_error
    assert "no voiced daemon is listening on " in text(result)
