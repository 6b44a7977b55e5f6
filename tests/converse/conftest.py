"""Fixtures for the conversation tests: a history on a temporary file, a recording sink."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.groqsim import GroqSim
from tests.schemas import validate_chat_request
from voiced.converse.conversation import Conversation, ConversationOptions
from voiced.converse.recorder import HistoryWriter
from voiced.converse.tools.registry import Tool, ToolRegistry
from voiced.converse.tools.runner import Confirm, ToolRunner, refuse
from voiced.groq.client import GroqClient

MODEL = "openai/gpt-oss-20b"


@pytest.fixture(autouse=True)
def every_chat_request_is_documented(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that used the simulator: every chat body validates against the spec."""
    sim: GroqSim | None = (
        request.getfixturevalue("groqsim") if "groqsim" in request.fixturenames else None
    )
    yield
    if sim is not None:
        for recorded in sim.requests_for("chat"):
            validate_chat_request(recorded.json)


class Heard:
    """A ReplySink that keeps what it was given."""

    def __init__(self) -> None:
        self.said: list[str] = []
        self.thought: list[str] = []

    async def content(self, text: str) -> None:
        self.said.append(text)

    async def reasoning(self, text: str) -> None:
        self.thought.append(text)

    @property
    def text(self) -> str:
        return "".join(self.said)


@pytest.fixture
async def history(tmp_path: Path) -> AsyncIterator[HistoryWriter]:
    async with HistoryWriter(tmp_path / "history.sqlite3") as writer:
        yield writer


def conversation(
    client: GroqClient,
    history: HistoryWriter,
    tools: list[Tool] | None = None,
    confirm: Confirm = refuse,
    timeout: float = 10.0,
    **options: object,
) -> Conversation:
    """A conversation over the given tools (none by default) with a fixed system prompt."""
    runner = ToolRunner(ToolRegistry(tools or []), confirm, timeout)
    settings = ConversationOptions(model=MODEL, system_prompt="Be brief.", **options)  # type: ignore[arg-type]
    return Conversation(client, history, settings, runner)
