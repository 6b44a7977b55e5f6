"""The daemon's MCP servers: started beside the pipeline, their troubles told to every client.

A server that fails is reported as an ``error`` event (and kept for clients that connect
later) until it is back; ``status`` lists every server; tools left out of requests to stay
within Groq's limits are reported as a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from voiced.config import Settings
from voiced.converse.tools.registry import MAX_TOOL_CHARS, MAX_TOOLS, ToolRegistry
from voiced.mcp.manager import McpManager, ServerState
from voiced.protocol.reports import ErrorReport, LogRecord, McpServerLine

if TYPE_CHECKING:
    from voiced.pipeline.host import EngineHost as Daemon


class McpLink:
    """Starts the configured servers with the daemon and reports on them.

    Args:
        daemon: Where the reports go, and whose ``status`` lists the servers.
        settings: ``[mcp]``'s servers.
    """

    def __init__(self, daemon: Daemon, settings: Settings) -> None:
        self.daemon = daemon
        self.manager = McpManager(settings.mcp.servers, self._changed)
        self.registry: ToolRegistry | None = None
        self._standing: dict[str, ErrorReport] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        daemon.mcp_states = self.lines

    def watch(self, registry: ToolRegistry) -> None:
        """Report the tools this registry leaves out of requests when servers change."""
        self.registry = registry
        self._check_limits()

    def reload(self, settings: Settings) -> None:
        """Take reloaded settings (in the background): changed servers are restarted."""
        task = asyncio.create_task(self.manager.reconfigure(settings.mcp.servers))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def lines(self) -> tuple[McpServerLine, ...]:
        """Every server's state, for ``status``."""
        return tuple(
            McpServerLine(
                name=s.name,
                state=s.phase,
                tools=len(s.tools),
                skipped=len(s.skipped),
                reason=s.reason,
            )
            for s in self.manager.states()
        )

    def _changed(self, state: ServerState) -> None:
        d = self.daemon
        name = state.name
        if state.phase == "ready":
            self._clear(name)
            skipped = f"; {len(state.skipped)} skipped" if state.skipped else ""
            d.publish(
                LogRecord(
                    level="info",
                    message=f"MCP server {name} is ready: {len(state.tools)} tools{skipped}",
                )
            )
            for item in state.skipped:
                d.publish(
                    LogRecord(
                        level="warning",
                        message=f"MCP server {name}: the tool {item.tool!r} is not offered: "
                        f"{item.reason}",
                    )
                )
            self._check_limits()
        elif state.phase == "failed":
            self._clear(name)
            report = ErrorReport(
                code="mcp",
                message=f"MCP server {name} is not available: {state.reason}",
                hint=f"its tools are not offered until it is back; voiced starts it again in "
                f"{state.retry_in_s or 0:g} s (check its [[mcp.servers]] table, or run "
                "`voiced doctor`)",
            )
            self._standing[name] = report
            d.standing.append(report)
            d.publish(report)
            self._check_limits()

    def _clear(self, name: str) -> None:
        report = self._standing.pop(name, None)
        if report is not None and report in self.daemon.standing:
            self.daemon.standing.remove(report)

    def _check_limits(self) -> None:
        if self.registry is None:
            return
        before = self.registry.left_out
        self.registry.offered()
        left_out = self.registry.left_out
        if left_out and left_out != before:
            self.daemon.publish(
                LogRecord(
                    level="warning",
                    message=f"{len(left_out)} MCP tools are not offered, to keep each request "
                    f"within {MAX_TOOLS} tools (Groq's limit) and {MAX_TOOL_CHARS:,} characters "
                    f"of tool definitions: {', '.join(left_out)}",
                )
            )


@asynccontextmanager
async def daemon_mcp(
    daemon: Daemon, settings: Settings, after: asyncio.Event | None = None
) -> AsyncIterator[McpLink]:
    """Start the daemon's MCP servers once ``after`` is set (the pipeline listens: loading the
    SDK and starting the programs then costs its start nothing), and stop them at the end."""
    link = McpLink(daemon, settings)

    async def start() -> None:
        if after is not None:
            await after.wait()
        link.manager.start()

    starting = asyncio.create_task(start(), name="mcp-start")
    try:
        yield link
    finally:
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        await link.manager.aclose()
