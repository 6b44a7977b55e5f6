"""One live connection to an MCP server, over stdio or streamable HTTP, with the ``mcp`` SDK.

The only module of voiced's MCP client that imports the SDK (about a second of imports, which
:mod:`voiced.mcp.manager` does in a worker thread). SDK errors become :class:`McpError`s that
say what happened without the server's secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TextIO

import httpx2
import mcp.types as types
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.shared.jsonrpc_dispatcher import JSONRPCDispatcher
from mcp_types import CONNECTION_CLOSED

from voiced import __version__
from voiced.config import McpServerSettings, mask_url
from voiced.errors import McpError
from voiced.mcp.adapter import CallOutcome, ListedTool

log = logging.getLogger(__name__)

MAX_PAGES = 100
"""Most pages of a tools listing read (a server that pages forever cannot hang voiced)."""
TAIL_LINES = 20
"""Lines of a stdio server's stderr kept to say why it stopped."""
LINE_CHARS = 500
"""Longest stderr line kept."""


class Connection:
    """A server that answered ``initialize``: list and call its tools while it lives.

    Attributes:
        changed: Set when the server says its tools changed (``tools/list_changed``).
        closed: Set when the connection ended (the program exited, the stream closed).
    """

    def __init__(self, server_name: str, stderr: StderrTail | None = None) -> None:
        self.server_name = server_name
        self._stderr = stderr
        self._session: ClientSession | None = None
        self.changed = asyncio.Event()
        self.closed = asyncio.Event()

    @property
    def session(self) -> ClientSession:
        """The SDK's session (once :func:`connect` made it)."""
        if self._session is None:
            raise McpError("the connection to the server is not open")
        return self._session

    async def list_tools(self) -> list[ListedTool]:
        """Every tool the server offers (all pages)."""
        listed: list[ListedTool] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
            page = await self.session.list_tools(params=params)
            listed += [_listed(tool) for tool in page.tools]
            cursor = page.next_cursor
            if not cursor:
                break
        return listed

    async def call(self, name: str, arguments: dict[str, Any]) -> CallOutcome:
        """Call a tool; the caller bounds the time.

        Raises:
            McpError: The connection closed during the call, or the server refused it.
        """
        try:
            result = await self.session.call_tool(name, arguments)
        except MCPError as exc:
            if exc.code == CONNECTION_CLOSED or self.closed.is_set():
                failure = McpError(f"the server stopped during the call{self.last_words()}")
                failure.closed = True
                raise failure from exc
            raise McpError(f"the server refused the call: {exc.message}") from exc
        if not isinstance(result, types.CallToolResult):
            raise McpError("the server answered the call with something other than a result")
        return _outcome(result)

    async def ping(self) -> None:
        """Check the server still answers (the caller bounds the time).

        Raises:
            McpError: It does not.
        """
        try:
            await self.session.send_ping()
        except MCPError as exc:
            failure = McpError(f"the server did not answer a ping: {exc.message}")
            failure.closed = exc.code == CONNECTION_CLOSED
            raise failure from exc

    def last_words(self) -> str:
        """``: its last words on stderr: …`` from a stdio server, or ""."""
        if self._stderr is None or not self._stderr.lines:
            return ""
        return f"; the last thing it wrote on stderr: {self._stderr.lines[-1]}"

    async def notice(self, message: types.ServerNotification | Exception) -> None:
        """The session's message handler: tools/list_changed and transport errors."""
        if isinstance(message, types.ToolListChangedNotification):
            self.changed.set()
        elif isinstance(message, Exception):
            log.debug("MCP server %s sent something unreadable: %s", self.server_name, message)


class _Watched(JSONRPCDispatcher[Any]):
    """The SDK's dispatcher, telling when its read loop ends (the connection closed)."""

    def __init__(self, ended: asyncio.Event, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ended = ended

    async def run(self, *args: Any, **kwargs: Any) -> None:
        try:
            await super().run(*args, **kwargs)
        finally:
            self.ended.set()


class StderrTail:
    """Reads what a stdio server writes on stderr: the last lines are kept (secrets masked)
    to say why it stopped, and each is logged at debug level.

    Args:
        server: The server's name, for the log.
        secrets: Values to mask in what is kept and logged.
    """

    def __init__(self, server: str, secrets: Iterable[str]) -> None:
        self.server = server
        self.secrets = tuple(s for s in secrets if s)
        self.lines: deque[str] = deque(maxlen=TAIL_LINES)
        read, write = os.pipe()
        self.file: TextIO = os.fdopen(write, "w")
        self._read = os.fdopen(read, "rb", buffering=0)
        self._transport: asyncio.ReadTransport | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Begin reading."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        self._transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), self._read
        )
        self._task = asyncio.create_task(self._pump(reader), name=f"mcp-{self.server}-stderr")

    def spawned(self) -> None:
        """The program has its own copy of the pipe: close ours, so its exit ends the read."""
        self.file.close()

    async def aclose(self) -> None:
        """Stop reading and close the pipe (everything is closed before anything is awaited,
        so a cancelled caller leaves nothing open)."""
        if not self.file.closed:
            self.file.close()
        if self._transport is not None:
            self._transport.close()  # the pipe itself is closed on the loop's next turn
        else:
            self._read.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.sleep(0)

    async def _pump(self, reader: asyncio.StreamReader) -> None:
        pending = b""
        while chunk := await reader.read(4096):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._keep(line)
            pending = pending[-LINE_CHARS * 4 :]
        if pending:
            self._keep(pending)

    def _keep(self, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace").rstrip()
        for secret in self.secrets:
            text = text.replace(secret, "***")
        if text.strip():
            text = text if len(text) <= LINE_CHARS else text[:LINE_CHARS] + "…"
            self.lines.append(text)
            log.debug("MCP server %s: %s", self.server, text)


@asynccontextmanager
async def connect(server: McpServerSettings) -> AsyncIterator[Connection]:
    """Start (stdio) or reach (HTTP) a server and run the ``initialize`` handshake.

    The caller bounds the time. The connection ends with the context.

    Raises:
        McpError: The program cannot be started, the URL cannot be reached, or the server
            closed or failed before answering.
    """
    stack = AsyncExitStack()
    stderr: StderrTail | None = None
    try:
        if server.transport == "stdio":
            stderr = StderrTail(server.name, server.secrets)
            stack.push_async_callback(stderr.aclose)
            await stderr.start()
            params = StdioServerParameters(
                command=server.command, args=list(server.args), env=dict(server.env)
            )
            streams = await stack.enter_async_context(stdio_client(params, stderr.file))
            stderr.spawned()
        else:
            timeout = httpx2.Timeout(server.timeout, read=max(300.0, server.timeout))
            http = await stack.enter_async_context(
                httpx2.AsyncClient(headers=dict(server.headers), timeout=timeout)
            )
            streams = await stack.enter_async_context(
                streamable_http_client(server.url, http_client=http)
            )
        connection = Connection(server.name, stderr)
        session = ClientSession(
            dispatcher=_Watched(connection.closed, *streams),
            message_handler=connection.notice,
            client_info=types.Implementation(name="voiced", version=__version__),
        )
        connection._session = session
        await stack.enter_async_context(session)
        await session.initialize()
    except BaseException as exc:
        causes: list[BaseException] = [exc]
        try:
            await stack.aclose()  # the transport's own error often comes out here
        except BaseException as more:
            causes.append(more)
        real = [e for c in causes for e in _flat(c) if not isinstance(e, asyncio.CancelledError)]
        task = asyncio.current_task()
        if not real or (isinstance(exc, asyncio.CancelledError) and task and task.cancelling()):
            raise  # cancelled by the caller (its time ran out), not by the SDK's task group
        raise McpError(_failure(server, causes, stderr)) from exc
    try:
        yield connection
    finally:
        await stack.aclose()


def _failure(
    server: McpServerSettings, causes: list[BaseException], stderr: StderrTail | None
) -> str:
    """Why a server could not be started or reached, in words, with no secret in them."""
    found = [e for c in causes for e in _flat(c) if not isinstance(e, asyncio.CancelledError)]
    specific = [e for e in found if isinstance(e, OSError | httpx2.HTTPError | McpError)]
    exc = (specific or found or causes)[0]
    tail = ""
    if stderr is not None and stderr.lines:
        tail = f"; the last thing it wrote on stderr: {stderr.lines[-1]}"
    if isinstance(exc, McpError):
        return exc.message
    if isinstance(exc, FileNotFoundError):
        return f"cannot start {server.command!r}: no such program{tail}"
    if isinstance(exc, PermissionError):
        return f"cannot start {server.command!r}: permission denied{tail}"
    if isinstance(exc, OSError) and server.transport == "stdio":
        return f"cannot start {server.command!r}: {exc.strerror or exc}{tail}"
    if isinstance(exc, httpx2.HTTPError):
        words = str(exc) or type(exc).__name__
        for secret in server.secrets:
            words = words.replace(secret, "***")
        shown = mask_url(server.url)
        return f"cannot reach {shown}: {words.replace(server.url, shown)}"
    if isinstance(exc, MCPError):
        if exc.code == CONNECTION_CLOSED:
            return f"the server closed the connection before it was ready{tail}"
        return f"the server refused to start a session: {exc.message}{tail}"
    return f"{type(exc).__name__}: {exc}{tail}"


def _flat(exc: BaseException) -> list[BaseException]:
    """The errors inside (nested) exception groups, in order."""
    if isinstance(exc, BaseExceptionGroup):
        return [e for inner in exc.exceptions for e in _flat(inner)]
    return [exc]


def _listed(tool: types.Tool) -> ListedTool:
    notes = tool.annotations
    return ListedTool(
        name=tool.name,
        description=tool.description or "",
        input_schema=tool.input_schema,
        read_only=bool(notes and notes.read_only_hint),
        title=tool.title or (notes.title if notes else None) or "",
    )


def _outcome(result: types.CallToolResult) -> CallOutcome:
    texts: list[str] = []
    for block in result.content:
        if isinstance(block, types.TextContent):
            texts.append(block.text)
        elif isinstance(block, types.ImageContent | types.AudioContent):
            kind = "image" if isinstance(block, types.ImageContent) else "audio"
            texts.append(
                f"[{kind} ({block.mime_type}, {len(block.data) * 3 // 4:,} bytes) "
                "not shown: voiced passes only text to the model]"
            )
        elif isinstance(block, types.ResourceLink):
            texts.append(f"[resource: {block.uri}]")
        elif isinstance(block, types.EmbeddedResource):
            inner = block.resource
            if isinstance(inner, types.TextResourceContents):
                texts.append(f"[resource {inner.uri}]\n{inner.text}")
            else:
                texts.append(f"[resource {inner.uri}: binary, not shown]")
    return CallOutcome(tuple(texts), result.structured_content, bool(result.is_error))
