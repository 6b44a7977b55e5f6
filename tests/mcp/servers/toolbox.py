"""A stdio MCP server for the tests: notes to read and delete, and tools that misbehave.

Run as ``python toolbox.py [--tools N] [--fail-at-start] [--silent-start]``. The notes live in
the directory ``$TOOLBOX_NOTES``; ``delete_note`` removes a file there, so a test sees whether
it ran. ``$TOOLBOX_TOKEN`` stands for a secret the server is given: it writes it on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations

NOTES = Path(os.environ.get("TOOLBOX_NOTES", "."))
server = MCPServer("toolbox", log_level="WARNING")


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def read_note(name: str) -> str:
    """Read one of the user's notes."""
    return (NOTES / name).read_text()


@server.tool(annotations=ToolAnnotations(destructive_hint=True))
def delete_note(name: str) -> str:
    """Delete one of the user's notes for good."""
    (NOTES / name).unlink()
    return f"deleted {name}"


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def word_count(text: str, unique: bool | None = None) -> dict[str, int]:
    """Count the words of a text (structured output)."""
    words = text.split()
    return {"words": len(set(words) if unique else words)}


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def crash() -> str:
    """Dies in the middle of the call."""
    print("toolbox: out of cheese, exiting", file=sys.stderr, flush=True)
    os._exit(3)


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
async def hang() -> str:
    """Never answers."""
    await anyio.sleep(3600)
    return "never"


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def huge() -> str:
    """Answers with far more text than a model should get."""
    return "x" * 200_000


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def weird(value: str) -> str:
    """Has a schema voiced cannot check (its parameters are replaced below)."""
    return value


@server.tool()
async def grow(ctx: Context) -> str:
    """Adds a tool and tells the client its tools changed."""
    server.add_tool(lambda: "fresh!", name="fresh", description="A tool added later")
    await ctx.session.send_tool_list_changed()
    return "grown"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", type=int, default=0, help="add this many filler tools")
    parser.add_argument("--fail-at-start", action="store_true")
    parser.add_argument("--silent-start", action="store_true", help="never answer initialize")
    args = parser.parse_args()
    token = os.environ.get("TOOLBOX_TOKEN")
    if token:
        print(f"toolbox: starting with token {token}", file=sys.stderr, flush=True)
    if args.fail_at_start:
        print(f"toolbox: cannot open the database (token {token})", file=sys.stderr, flush=True)
        sys.exit(1)
    if args.silent_start:
        time.sleep(3600)
    tool = server._tool_manager.get_tool("weird")
    assert tool is not None
    tool.parameters = {"type": "object", "properties": {"value": {"type": "date"}}}
    for number in range(args.tools):
        server.add_tool(
            lambda number=number: f"filler {number}",
            name=f"filler_{number:03d}",
            description=f"Filler tool number {number}, which does nothing useful. " * 3,
            annotations=ToolAnnotations(read_only_hint=True),
        )
    server.run()


if __name__ == "__main__":
    main()
