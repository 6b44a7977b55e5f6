"""The MCP client against real servers: tools listed, named, called, relisted; failures told."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.mcp.conftest import TOKEN, Hub
from tests.mcp.servers import PYTHON, TOOLBOX
from voiced.config import McpServerSettings
from voiced.converse.tools.registry import Tool
from voiced.mcp import manager as manager_module
from voiced.mcp.manager import McpManager, ServerState

pytestmark = pytest.mark.subprocess


def toolbox(notes: Path, *args: str, **settings: Any) -> McpServerSettings:
    return McpServerSettings(
        name=settings.pop("name", "box"),
        command=PYTHON,
        args=(str(TOOLBOX), *args),
        env={"TOOLBOX_NOTES": str(notes), "TOOLBOX_TOKEN": TOKEN},
        **settings,
    )


class Running:
    """A manager whose state changes are kept."""

    def __init__(self, *servers: McpServerSettings) -> None:
        self.changes: list[ServerState] = []
        self.changed = asyncio.Event()
        self.manager = McpManager(servers, self._note)

    def _note(self, state: ServerState) -> None:
        self.changes.append(state)
        self.changed.set()

    def tools(self) -> dict[str, Tool]:
        return {t.name: t for t in self.manager.tools()}

    async def until(self, phase: str, count: int = 1) -> None:
        async with asyncio.timeout(30):
            while sum(c.phase == phase for c in self.changes) < count:
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def running() -> AsyncIterator[list[Running]]:
    made: list[Running] = []
    yield made
    for item in made:
        await item.manager.aclose()


def start(made: list[Running], *servers: McpServerSettings) -> Running:
    item = Running(*servers)
    made.append(item)
    item.manager.start()
    return item


async def test_a_stdio_servers_tools_are_offered_by_groq_valid_names_naming_the_server(
    running: list[Running], notes: Path
) -> None:
    box = start(running, toolbox(notes))
    await box.manager.settled()
    tools = box.tools()
    assert {"box__read_note", "box__delete_note", "box__word_count"} <= set(tools)
    read = tools["box__read_note"]
    assert "'read_note' of the MCP server 'box'" in read.description
    assert read.source == "MCP server box"
    assert read.confirm is False and tools["box__delete_note"].confirm is True
    assert await read.invoke({"name": "shopping"}) == "eggs, flour, a lot of cheese"
    counted = await tools["box__word_count"].invoke(
        tools["box__word_count"].check('{"text": "a b a", "unique": true}')
    )
    assert counted == {"words": 2}  # structured content, not its text repeated


async def test_a_malformed_schema_skips_that_tool_and_the_reason_is_logged(
    running: list[Running], notes: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="voiced")
    box = start(running, toolbox(notes))
    await box.manager.settled()
    assert "box__weird" not in box.tools() and "box__read_note" in box.tools()
    (state,) = box.manager.states()
    assert [s.tool for s in state.skipped] == ["weird"]
    assert "type voiced does not know: 'date'" in state.skipped[0].reason
    assert "the tool 'weird' is skipped: the argument 'value' has a type" in caplog.text


async def test_tools_list_changed_is_honoured(running: list[Running], notes: Path) -> None:
    box = start(running, toolbox(notes))
    await box.manager.settled()
    assert "box__fresh" not in box.tools()
    assert await box.tools()["box__grow"].invoke({}) == "grown"
    await box.until("ready", 2)
    assert await box.tools()["box__fresh"].invoke({}) == "fresh!"


@pytest.mark.realtime
async def test_a_server_that_fails_to_start_is_retried_with_backoff_and_says_why(
    running: list[Running],
    notes: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(manager_module, "FIRST_DELAY_S", 0.2)
    caplog.set_level(logging.DEBUG)
    box = start(running, toolbox(notes, "--fail-at-start", timeout=20))
    await box.until("failed", 2)
    failures = [c for c in box.changes if c.phase == "failed"]
    assert [f.retry_in_s for f in failures[:2]] == [0.2, 0.4]  # doubling
    assert "closed the connection before it was ready" in failures[0].reason
    assert "cannot open the database (token ***)" in failures[0].reason  # its stderr, masked
    assert box.manager.tools() == []
    assert TOKEN not in caplog.text and all(TOKEN not in c.reason for c in box.changes)


async def test_a_missing_program_is_reported_by_name(running: list[Running]) -> None:
    gone = start(running, McpServerSettings(name="gone", command="/nonexistent/mcp-server"))
    await gone.manager.settled()
    (state,) = gone.manager.states()
    assert state.phase == "failed"
    assert state.reason == "cannot start '/nonexistent/mcp-server': no such program"


@pytest.mark.realtime
async def test_a_server_that_never_answers_its_start_fails_within_its_timeout(
    running: list[Running], notes: Path
) -> None:
    silent = start(running, toolbox(notes, "--silent-start", timeout=1.5))
    began = asyncio.get_running_loop().time()
    await silent.manager.settled()
    (state,) = silent.manager.states()
    assert state.phase == "failed" and "did not answer within 1.5 s" in state.reason
    assert asyncio.get_running_loop().time() - began < 12  # the SDK import, then 1.5 s


async def test_servers_start_concurrently_and_disabled_ones_never(
    running: list[Running], notes: Path
) -> None:
    servers = [toolbox(notes, name=f"box{n}") for n in range(3)]
    off = McpServerSettings(name="off", command="/nonexistent/never-run", enabled=False)
    many = start(running, *servers, off)
    await many.manager.settled()
    assert [s.phase for s in many.manager.states()] == ["ready"] * 3 + ["disabled"]
    started = [c for c in many.changes if c.phase == "ready"]
    assert len(started) == 3


async def test_an_http_server_gets_its_headers_and_its_tools_are_called(
    running: list[Running], hub: Hub
) -> None:
    shelf = McpServerSettings(
        name="shelf", url=hub.url("shelf"), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    item = start(running, shelf)
    await item.manager.settled()
    tools = item.tools()
    assert await tools["shelf__find_book"].invoke({"title": "Dune"}) == (
        "Dune, by Frank Herbert, is on the second shelf from the top."
    )
    assert await tools["shelf__whoami"].invoke({}) == f"Bearer {TOKEN}"


async def test_an_http_server_that_cannot_be_reached_is_named_with_its_url_masked(
    running: list[Running],
) -> None:
    url = f"http://127.0.0.1:9/mcp?key={TOKEN}"
    item = start(running, McpServerSettings(name="far", url=url, timeout=5))
    await item.manager.settled()
    (state,) = item.manager.states()
    assert state.phase == "failed"
    assert "http://127.0.0.1:9/mcp?key=***" in state.reason and TOKEN not in state.reason


async def test_a_reload_restarts_only_the_servers_that_changed(
    running: list[Running], notes: Path
) -> None:
    kept, dropped = toolbox(notes, name="kept"), toolbox(notes, name="dropped")
    item = start(running, kept, dropped)
    await item.manager.settled()
    before = item.tools()["kept__read_note"]
    added = toolbox(notes, name="added")
    await item.manager.reconfigure([kept, added])
    await item.manager.settled()
    assert [s.name for s in item.manager.states()] == ["kept", "added"]
    assert all(s.phase == "ready" for s in item.manager.states())
    assert item.tools()["kept__read_note"] is before  # not restarted
    assert not any(name.startswith("dropped__") for name in item.tools())
