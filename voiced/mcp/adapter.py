"""An MCP server's tools as voiced's own: names, checked schemas, confirmation, results."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from voiced.config import McpServerSettings
from voiced.converse.tools.registry import Tool, ToolError
from voiced.converse.tools.schemacheck import SchemaError, check_schema
from voiced.mcp.names import assign_names

MAX_DESCRIPTION = 1024
"""Longest tool description sent to the model, in characters (OpenAI documents 1,024 for a
function description; Groq documents no limit, so the same is assumed)."""
SHOWN_VALUE = 80
"""Longest argument value quoted in a confirmation question."""
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListedTool:
    """What voiced needs of a tool an MCP server lists."""

    name: str
    description: str
    input_schema: Any
    read_only: bool
    """The server marked it readOnlyHint: it changes nothing."""
    title: str = ""


@dataclass(frozen=True)
class CallOutcome:
    """A tool call's result: its text blocks, its structured content, whether it failed."""

    texts: tuple[str, ...]
    structured: Any = None
    is_error: bool = False

    @property
    def text(self) -> str:
        """The text blocks, one after another."""
        return "\n".join(self.texts)

    def for_model(self) -> Any:
        """What goes back to the model: the structured content when the text only repeats
        it (as the specification asks servers to do), the text alone when there is none,
        else both. The tool runner cuts it to the same length as a built-in's result."""
        if self.structured is None:
            return self.text
        if not self.text or _same(self.text, self.structured):
            return self.structured
        wrapped = self.structured  # a plain value the SDK wrapped as {"result": value}
        if isinstance(wrapped, dict) and list(wrapped) == ["result"]:
            if wrapped["result"] == self.text or _same(self.text, wrapped["result"]):
                return wrapped["result"]
        return {"structured": self.structured, "text": self.text}


def _same(text: str, value: Any) -> bool:
    """Whether ``text`` is ``value`` written as JSON."""
    try:
        return bool(json.loads(text) == value)
    except ValueError:
        return False


Caller = Callable[[str, dict[str, Any]], Awaitable[CallOutcome]]
"""Calls a tool by its own name on the server."""


@dataclass(frozen=True)
class Skipped:
    """A listed tool that is not offered, and why."""

    tool: str
    reason: str


def make_tools(
    server: McpServerSettings, listed: Sequence[ListedTool], call: Caller, taken: Collection[str]
) -> tuple[list[Tool], list[Skipped]]:
    """Turn a server's listing into tools the model may be offered.

    Args:
        server: The server's settings (its name, confirm policy and timeout).
        listed: Its tools, in its order.
        call: Calls one of them.
        taken: Names already in use by other tools.

    Returns:
        The tools, and those skipped with the reason (a schema voiced cannot check).
    """
    tools: list[Tool] = []
    skipped: list[Skipped] = []
    usable: list[ListedTool] = []
    for item in listed:
        try:
            check_schema(item.input_schema)
        except SchemaError as exc:
            skipped.append(Skipped(item.name, str(exc)))
            continue
        usable.append(item)
    names = assign_names(server.name, (t.name for t in usable), taken)
    by_own = {own: given for given, own in names.items()}
    for item in usable:
        if item.name not in by_own:
            continue
        tools.append(_tool(server, item, by_own.pop(item.name), call))
    return tools, skipped


def needs_confirmation(server: McpServerSettings, item: ListedTool) -> bool:
    """Whether a call waits for the user's yes: per the server's ``confirm`` policy."""
    if server.confirm == "always":
        return True
    if server.confirm == "never":
        return False
    return not item.read_only


def _tool(server: McpServerSettings, item: ListedTool, name: str, call: Caller) -> Tool:
    own = item.name

    async def run(**arguments: Any) -> Any:
        outcome = await call(own, arguments)
        if outcome.is_error:
            raise ToolError(outcome.text or f"{own} failed (the server gave no reason)")
        return outcome.for_model()

    def describe(arguments: dict[str, Any]) -> str:
        shown = ", ".join(f"{k}={_short(v)}" for k, v in arguments.items())
        return f"Let the MCP server {server.name} run {own}" + (f" ({shown})?" if shown else "?")

    about = " ".join((item.description or item.title or own).split())
    where = f" [tool {own!r} of the MCP server {server.name!r}]"
    if len(about) + len(where) > MAX_DESCRIPTION:
        about = about[: MAX_DESCRIPTION - len(where) - 1] + "…"
    return Tool(
        name=name,
        description=about + where,
        parameters=item.input_schema,
        function=run,
        confirm=needs_confirmation(server, item),
        timeout=server.timeout,
        describe=describe,
        confirm_verbs=("run",),
        source=f"MCP server {server.name}",
    )


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= SHOWN_VALUE else text[: SHOWN_VALUE - 1] + "…"
