"""``voiced mcp``: serve the daemon's voice to other programs as an MCP server on stdio."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    """Serve until the client closes stdin; the daemon need not be running yet (each tool
    call connects to it, and says so when none is).

    Returns:
        0 when the client closed the connection.
    """
    from voiced.commands.control import configured_socket
    from voiced.mcp.server import serve

    serve(args.socket or configured_socket())
    return 0
