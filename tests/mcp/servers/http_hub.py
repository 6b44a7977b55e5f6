"""Streamable HTTP MCP servers for the tests, several on one port: ``/shelf/mcp`` and
``/bulkN/mcp``.

Run as ``python http_hub.py [--bulk N] [--tools M]``; it prints its port on the first line of
stdout. ``shelf`` looks up books (read-only) and says which Authorization header it was
sent; each ``bulkN`` offers M filler tools, for the tests of Groq's request limits.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from starlette.applications import Starlette
from starlette.routing import Mount

BOOKS = {"dune": "Dune, by Frank Herbert, is on the second shelf from the top."}


def shelf() -> MCPServer:
    server = MCPServer("shelf", log_level="WARNING")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def find_book(title: str) -> str:
        """Say where a book is on the user's shelves."""
        return BOOKS.get(title.lower(), f"There is no {title} on the shelves.")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def whoami(ctx: Context) -> str:
        """Say which Authorization header the request carried."""
        return (ctx.headers or {}).get("authorization", "none")

    return server


def bulk(number: int, tools: int) -> MCPServer:
    server = MCPServer(f"bulk{number}", log_level="WARNING")
    for index in range(tools):
        server.add_tool(
            lambda index=index: f"bulk {number} tool {index}",
            name=f"tool_{index:03d}",
            description=f"Bulk tool {index} of server {number}; it does nothing useful at all.",
            annotations=ToolAnnotations(read_only_hint=True),
        )
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bulk", type=int, default=0)
    parser.add_argument("--tools", type=int, default=25)
    args = parser.parse_args()
    servers: dict[str, MCPServer] = {"shelf": shelf()}
    for number in range(args.bulk):
        servers[f"bulk{number}"] = bulk(number, args.tools)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for server in servers.values():
                await stack.enter_async_context(server.session_manager.run())
            yield

    routes = [
        Mount(f"/{name}", app=server.streamable_http_app(streamable_http_path="/mcp"))
        for name, server in servers.items()
    ]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    print(listener.getsockname()[1], flush=True)
    app = Starlette(routes=routes, lifespan=lifespan)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listener])


if __name__ == "__main__":
    main()
