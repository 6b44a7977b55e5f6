"""The names MCP tools reach the model by: ``SERVER__TOOL``, within Groq's rules for names."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

SEPARATOR = "__"
"""Between the server's name and the tool's: Groq allows no dot in a function name."""
MAX_NAME = 64
"""Groq's longest function name."""
_BAD = re.compile(r"[^A-Za-z0-9_-]")


def model_name(server: str, tool: str) -> str:
    """The name the model calls ``tool`` of ``server`` by, before any clash is settled.

    Characters Groq does not allow become ``_``; a name longer than 64 characters is cut
    and given a short hash of the tool's own name, so two long names stay apart.
    """
    base = f"{server}{SEPARATOR}{_BAD.sub('_', tool) or '_'}"
    if len(base) <= MAX_NAME:
        return base
    return f"{base[: MAX_NAME - 9]}_{_digest(tool)}"


def assign_names(server: str, tools: Iterable[str], taken: Iterable[str] = ()) -> dict[str, str]:
    """Give each of a server's tools its model name, every one distinct.

    Args:
        server: The server's name.
        tools: Its tools' own names, in the order it listed them.
        taken: Names already in use (voiced's own tools, plug-ins).

    Returns:
        {model name: the tool's own name}. Two tools whose names map alike (``get.file`` and
        ``get_file``), or a name that is taken, are told apart by a short hash of the tool's
        own name, which does not depend on the order the server lists them in.
    """
    wanted: dict[str, list[str]] = {}
    for tool in dict.fromkeys(tools):  # a name listed twice is one tool
        wanted.setdefault(model_name(server, tool), []).append(tool)
    busy = set(taken)
    names: dict[str, str] = {}
    for name, owners in wanted.items():
        for tool in owners:
            unchanged = len(owners) == 1 and name not in busy
            given = name if unchanged else _distinct(name, tool)
            names[given] = tool
    return names


def _distinct(name: str, tool: str) -> str:
    return f"{name[: MAX_NAME - 9]}_{_digest(tool)}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
