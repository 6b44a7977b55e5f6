"""``voiced mcp``: an MCP server on stdio that lets other programs use the daemon's voice.

Coding agents and scripts get four tools: ``speak``, ``ask_user``, ``notify`` and ``status``.
Each one is a command to the running daemon over its control socket, so the daemon's rules
hold (only the same user's programs may connect; a muted microphone hears no answer).
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from voiced import __version__
from voiced.errors import VoicedError
from voiced.protocol.client import ControlClient
from voiced.protocol.commands import AskUser, Command, Notify, Speak
from voiced.protocol.reports import UserAnswer

INSTRUCTIONS = (
    "These tools talk to the user out loud through voiced, the voice assistant on their "
    "desktop. Use speak to tell them something (it returns once said), ask_user to ask a "
    "short question and get their spoken answer as text (they may be away: it times out), "
    "notify for a passing notice that should not interrupt them, and status to see whether "
    "voiced is running and listening. Keep what you say short and plain: it is read aloud."
)
SAY_SECONDS_PER_CHAR = 0.1
"""A generous bound on how long speech takes (about 100 words a minute), for waiting."""
ANSWER_GRACE_S = 60.0
"""Time beyond the answer's timeout for the question to be said and the answer heard."""


def build_server(socket: Path) -> MCPServer:
    """The MCP server, talking to the daemon on ``socket``."""
    server: MCPServer = MCPServer(
        "voiced", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING"
    )
    speaking = ToolAnnotations(
        read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
    )

    @server.tool(annotations=speaking)
    async def speak(
        text: Annotated[
            str, Field(description="What to say: plain sentences, at most 2,000 characters")
        ],
    ) -> str:
        """Say a text aloud to the user through voiced; returns once it has been said."""
        await _command(socket, Speak(text=text), 30 + len(text) * SAY_SECONDS_PER_CHAR)
        return "said"

    @server.tool(annotations=speaking)
    async def ask_user(
        question: Annotated[str, Field(description="The question to say: short, it is read aloud")],
        timeout_s: Annotated[
            float, Field(description="Seconds to wait for the answer once it was asked (1–600)")
        ] = 60.0,
    ) -> str:
        """Ask the user a question aloud and return their spoken (or typed) answer as text."""
        return await _ask(socket, question, timeout_s)

    @server.tool(annotations=speaking)
    async def notify(
        text: Annotated[str, Field(description="The notice, at most 2,000 characters")],
    ) -> str:
        """Tell the user something in passing: shown in voiced's windows, and said aloud only
        when voiced is idle (never over the user or over another reply)."""
        await _command(socket, Notify(text=text), 10)
        return "notified"

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    async def status() -> dict[str, Any]:
        """voiced's state: listening, hearing, thinking or speaking; its mode (always
        listening, push-to-talk, muted); models; MCP servers; uptime."""
        try:
            async with await ControlClient.connect(socket) as client:
                found = await client.status()
        except VoicedError as exc:
            raise ToolError(str(exc)) from None
        shown = found.to_dict()
        for key in ("type", "id"):
            shown.pop(key, None)
        return shown

    return server


async def _command(socket: Path, command: Command, wait_s: float) -> None:
    """Send one command and wait for the daemon to carry it out.

    Raises:
        ToolError: No daemon answers, or it refused the command (with its reason).
    """
    try:
        async with await ControlClient.connect(socket) as client:
            reply = await client.request(command, wait_s)
    except VoicedError as exc:
        raise ToolError(str(exc)) from None
    if not reply.ack.ok:
        raise ToolError(f"voiced refused: {reply.ack.message}")


async def _ask(socket: Path, question: str, timeout_s: float) -> str:
    """Ask, and wait for the ``user_answer`` event that answers this question.

    Raises:
        ToolError: No daemon, a refusal (muted, already asking), or no answer.
    """
    command = AskUser(id=f"ask-{uuid.uuid4().hex}", question=question, timeout_s=timeout_s)
    wait = timeout_s + len(question) * SAY_SECONDS_PER_CHAR + ANSWER_GRACE_S
    try:
        async with await ControlClient.connect(socket) as client:
            reply = await client.request(command)
            if not reply.ack.ok:
                raise ToolError(f"voiced refused: {reply.ack.message}")
            async with asyncio.timeout(wait):
                async for event in client:
                    if isinstance(event, UserAnswer) and event.id == command.id:
                        if event.answered:
                            return event.text
                        raise ToolError(f"no answer: {event.reason}")
    except VoicedError as exc:
        raise ToolError(str(exc)) from None
    except TimeoutError:
        raise ToolError(f"no answer from voiced within {wait:g} s") from None
    raise ToolError("voiced stopped before the user answered")


def serve(socket: Path) -> None:
    """Run the server on stdin and stdout until the client closes them."""
    build_server(socket).run()
