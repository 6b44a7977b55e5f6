"""Keeping the configured MCP servers running, and offering the tools of those that are up.

Each enabled server has a supervisor task: it starts the server (all of them at once, none
waiting for another, nothing waiting for them), lists its tools, relists them when the server
says they changed, pings it now and then, and when the server fails to start, dies or stops
answering, withdraws its tools and starts it again after a backoff (1 s, doubling up to 60 s;
back to 1 s once it has run a minute). Importing the ``mcp`` SDK costs about a second, so the
first supervisor does it in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from voiced.config import McpServerSettings, mask_url
from voiced.converse.tools.registry import Tool, ToolError
from voiced.credentials import Secret
from voiced.errors import McpError
from voiced.logs import protect
from voiced.mcp.adapter import CallOutcome, Skipped, make_tools

if TYPE_CHECKING:
    from voiced.mcp.connection import Connection

log = logging.getLogger(__name__)

FIRST_DELAY_S = 1.0
"""Wait before the first restart of a server that failed."""
MAX_DELAY_S = 60.0
"""Longest wait between restarts."""
HEALTHY_S = 60.0
"""A server that ran this long before failing starts again after FIRST_DELAY_S."""
PING_EVERY_S = 30.0
"""How often a quiet server is pinged to see it still answers."""

Phase = Literal["starting", "ready", "failed", "disabled"]


@dataclass(frozen=True)
class ServerState:
    """How one server is doing.

    Attributes:
        phase: "starting", "ready" (its tools are offered), "failed" (they are not; it is
            started again after ``retry_in_s``) or "disabled" (``enabled = false``).
        tools: The names its tools are offered by, when ready.
        skipped: Its tools that are not offered, with the reason.
        reason: Why it failed.
        retry_in_s: When it is started again, after a failure.
    """

    name: str
    transport: str
    phase: Phase = "starting"
    tools: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    reason: str = ""
    retry_in_s: float | None = None


OnChange = Callable[[ServerState], None]


@dataclass
class _Server:
    settings: McpServerSettings
    state: ServerState
    tools: list[Tool] = field(default_factory=list)
    connection: Connection | None = None
    task: asyncio.Task[None] | None = None
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    suspect: asyncio.Event = field(default_factory=asyncio.Event)


class McpManager:
    """The MCP servers of ``[[mcp.servers]]`` and their tools: a live
    :class:`~voiced.converse.tools.registry.ToolSource`.

    Args:
        servers: Every configured server (disabled ones are listed, never started).
        on_change: Told each time a server's state changes (from the event loop).
    """

    def __init__(self, servers: Sequence[McpServerSettings], on_change: OnChange | None = None):
        self.on_change = on_change
        self._servers: dict[str, _Server] = {}
        self._sdk: asyncio.Future[ModuleType] | None = None
        for settings in servers:
            self._add(settings)

    def start(self) -> None:
        """Start every enabled server's supervisor; returns at once."""
        for server in self._servers.values():
            if server.settings.enabled and server.task is None:
                server.task = asyncio.create_task(
                    self._supervise(server), name=f"mcp-{server.settings.name}"
                )

    def tools(self) -> list[Tool]:
        """The tools of the servers that are up, server by server in config order."""
        return [t for s in self._servers.values() for t in s.tools]

    def states(self) -> list[ServerState]:
        """Every configured server's state, in config order."""
        return [s.state for s in self._servers.values()]

    @property
    def starting(self) -> bool:
        """Whether an enabled server has yet to come up or fail for the first time."""
        return any(s.settings.enabled and not s.settled.is_set() for s in self._servers.values())

    async def settled(self) -> None:
        """Wait until every enabled server has come up or failed at least once (each start
        is bounded by the server's ``timeout``)."""
        await asyncio.gather(
            *(s.settled.wait() for s in self._servers.values() if s.settings.enabled)
        )

    async def reconfigure(self, servers: Sequence[McpServerSettings]) -> None:
        """Take reloaded settings: servers removed or changed are stopped, new or changed
        ones started; those unchanged keep running."""
        old, self._servers = self._servers, {}
        for settings in servers:
            kept = old.pop(settings.name, None)
            if kept is not None and kept.settings == settings:
                self._servers[settings.name] = kept
            else:
                if kept is not None:
                    await self._stop(kept)
                self._add(settings)
        for gone in old.values():
            await self._stop(gone)
        self.start()

    async def aclose(self) -> None:
        """Stop every server."""
        for server in self._servers.values():
            await self._stop(server)

    # -- one server ------------------------------------------------------------------------

    def _add(self, settings: McpServerSettings) -> None:
        for secret in settings.secrets:
            protect(Secret(secret))
        phase: Phase = "starting" if settings.enabled else "disabled"
        state = ServerState(settings.name, settings.transport, phase)
        self._servers[settings.name] = _Server(settings, state)

    async def _stop(self, server: _Server) -> None:
        if server.task is not None:
            server.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await server.task
            server.task = None
        server.tools = []
        server.connection = None

    def _set(self, server: _Server, **changes: Any) -> None:
        server.state = replace(server.state, **changes)
        if server.state.phase in ("ready", "failed"):
            server.settled.set()
        if self.on_change is not None:
            self.on_change(server.state)

    async def _supervise(self, server: _Server) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        while True:
            began = loop.time()
            try:
                reason = await self._serve(server)
            except Exception as exc:  # a server may fail in any way; the daemon goes on
                log.debug("MCP server %s failed", server.settings.name, exc_info=True)
                reason = _reason(exc)
            server.tools, server.connection = [], None
            if loop.time() - began >= HEALTHY_S:
                failures = 0
            delay = min(FIRST_DELAY_S * 2**failures, MAX_DELAY_S)
            failures += 1
            reason = _scrub(server.settings, reason)
            log.info(
                "MCP server %s is not available: %s; its tools are not offered; "
                "starting it again in %g s",
                server.settings.name,
                reason,
                delay,
            )
            self._set(server, phase="failed", tools=(), reason=reason, retry_in_s=delay)
            await asyncio.sleep(delay)
            self._set(server, phase="starting", retry_in_s=None)

    async def _serve(self, server: _Server) -> str:
        """Run one connection to the server until it ends; return why it ended."""
        settings = server.settings
        connection_module = await self._connection_module()
        stack = contextlib.AsyncExitStack()
        try:
            try:
                async with asyncio.timeout(settings.timeout):
                    connection: Connection = await stack.enter_async_context(
                        connection_module.connect(settings)
                    )
                    await self._install(server, connection)
            except TimeoutError:
                return f"it did not answer within {settings.timeout:g} s of being started"
            server.connection = connection
            return await self._watch(server, connection)
        finally:
            server.tools, server.connection = [], None
            try:
                await stack.aclose()
            except Exception:  # the server is gone already; its reason was given
                log.debug("MCP server %s: error while closing", settings.name, exc_info=True)

    async def _watch(self, server: _Server, connection: Connection) -> str:
        settings = server.settings
        ended: asyncio.Future[Any] = asyncio.ensure_future(connection.closed.wait())
        waiting: set[asyncio.Future[Any]] = {ended}
        try:
            while True:
                changed: asyncio.Future[Any] = asyncio.ensure_future(connection.changed.wait())
                suspect: asyncio.Future[Any] = asyncio.ensure_future(server.suspect.wait())
                waiting |= {changed, suspect}
                await asyncio.wait(
                    {ended, changed, suspect},
                    timeout=PING_EVERY_S,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for waiter in (changed, suspect):
                    waiter.cancel()
                    waiting.discard(waiter)
                if ended.done():
                    return "it closed the connection" + connection.last_words()
                if connection.changed.is_set():
                    connection.changed.clear()
                    try:
                        async with asyncio.timeout(settings.timeout):
                            await self._install(server, connection, relisted=True)
                    except TimeoutError:
                        return f"it did not list its changed tools within {settings.timeout:g} s"
                    continue
                server.suspect.clear()
                try:
                    async with asyncio.timeout(settings.timeout):
                        await connection.ping()
                except TimeoutError:
                    return (
                        f"it stopped answering (no answer to a ping within {settings.timeout:g} s)"
                    )
                except McpError as exc:
                    await asyncio.sleep(0)  # let the connection note that it closed
                    if exc.closed or connection.closed.is_set():
                        return "it closed the connection" + connection.last_words()
                    raise
        finally:
            for waiter in waiting:
                waiter.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)

    async def _install(
        self, server: _Server, connection: Connection, relisted: bool = False
    ) -> None:
        listed = await connection.list_tools()
        tools, skipped = make_tools(server.settings, listed, self._caller(server), ())
        for item in skipped:
            if item not in server.state.skipped:
                log.info(
                    "MCP server %s: the tool %r is skipped: %s",
                    server.settings.name,
                    item.tool,
                    item.reason,
                )
        server.tools = tools
        if relisted:
            log.info("MCP server %s: its tools changed (%d now)", server.settings.name, len(tools))
        else:
            log.info("MCP server %s is ready: %d tools", server.settings.name, len(tools))
        self._set(
            server,
            phase="ready",
            tools=tuple(t.name for t in tools),
            skipped=tuple(skipped),
            reason="",
            retry_in_s=None,
        )

    def _caller(self, server: _Server) -> Callable[[str, dict[str, Any]], Any]:
        async def call(tool: str, arguments: dict[str, Any]) -> CallOutcome:
            connection = server.connection
            name = server.settings.name
            if connection is None:
                why = server.state.reason or "it is starting"
                raise ToolError(f"the MCP server {name} is not running ({why}); try again later")
            try:
                return await connection.call(tool, arguments)
            except McpError as exc:
                server.suspect.set()
                message = _scrub(server.settings, exc.message)
                if exc.closed or connection.closed.is_set():
                    raise ToolError(
                        f"MCP server {name}: {message}; voiced is restarting it"
                    ) from None
                raise ToolError(f"MCP server {name}: {message}") from None
            except asyncio.CancelledError:  # timed out: the supervisor checks it still answers
                server.suspect.set()
                raise

        return call

    async def _connection_module(self) -> Any:
        """voiced.mcp.connection, imported once in a worker thread (the SDK is slow to load)."""
        if self._sdk is None:
            loop = asyncio.get_running_loop()
            self._sdk = loop.run_in_executor(None, importlib.import_module, "voiced.mcp.connection")
        return await asyncio.shield(self._sdk)


@contextlib.asynccontextmanager
async def running_servers(
    servers: Sequence[McpServerSettings], on_change: OnChange | None = None
) -> AsyncIterator[McpManager]:
    """Start the enabled servers (returning at once) and stop them all at the end."""
    manager = McpManager(servers, on_change)
    manager.start()
    try:
        yield manager
    finally:
        await manager.aclose()


def _reason(exc: BaseException) -> str:
    """Why a connection failed, from inside the exception groups of the SDK's task groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        inner = [e for e in exc.exceptions if not isinstance(e, asyncio.CancelledError)]
        exc = (inner or list(exc.exceptions))[0]
    return exc.message if isinstance(exc, McpError) else f"{type(exc).__name__}: {exc}"


def _scrub(settings: McpServerSettings, text: str) -> str:
    """The text with the server's secrets and its URL's credentials masked."""
    if settings.url and settings.url in text:
        text = text.replace(settings.url, mask_url(settings.url))
    for secret in sorted(settings.secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
