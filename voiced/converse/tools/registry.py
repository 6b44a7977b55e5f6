"""The ``@tool`` decorator, the registry of tools and the ``voiced.tools`` entry-point group."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, overload

from voiced.converse.tools.schema import (
    check_arguments,
    decode_arguments,
    docstring_summary,
    parameters_schema,
)

ENTRY_POINT_GROUP = "voiced.tools"
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
log = logging.getLogger(__name__)

Announce = Callable[[str], Awaitable[None]]
"""Says something to the user unprompted (a timer went off): spoken by the daemon."""


class ToolError(Exception):
    """Raised by a tool to tell the model, in words, why it could not do what was asked."""


@dataclass(frozen=True)
class Tool:
    """A function the model may call.

    Attributes:
        name: The name the model calls it by.
        description: What it does, for the model (the docstring's summary).
        parameters: The JSON schema of its arguments.
        function: The Python function; async ones are awaited, others run in a thread.
        confirm: Whether it has side effects the user must confirm first.
        timeout: Seconds it may run; None uses ``[tools] timeout``.
        describe: Turns checked arguments into the question put to the user when confirming;
            it may raise ToolError to refuse arguments before anyone is asked.
        confirm_verbs: Verbs that name the action in a spoken approval ("open" allows
            "yes, open it"); empty uses the first word of the name.
        source: Where it comes from, for ``voiced tools``: "built-in", "plugin NAME" or
            "MCP server NAME".
    """

    name: str
    description: str
    parameters: dict[str, Any]
    function: Callable[..., Any]
    confirm: bool = False
    timeout: float | None = None
    describe: Callable[[dict[str, Any]], str] | None = field(default=None, compare=False)
    confirm_verbs: tuple[str, ...] = ()
    source: str = field(default="built-in", compare=False)

    def schema(self) -> dict[str, Any]:
        """Return the tool as the chat API's ``tools`` list expects it."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def check(self, arguments: str) -> dict[str, Any]:
        """Decode and check the model's argument text.

        Raises:
            ArgumentError: Invalid, oversized or too deeply nested JSON, or arguments that do
                not fit the schema.
        """
        return check_arguments(self.parameters, decode_arguments(arguments))

    def question(self, arguments: dict[str, Any]) -> str:
        """The question put to the user before running a tool that needs confirmation."""
        if self.describe is not None:
            return self.describe(arguments)
        shown = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
        return f"Run {self.name}({shown})?"

    async def invoke(self, arguments: dict[str, Any]) -> Any:
        """Call the function with checked arguments (sync ones in a worker thread)."""
        if inspect.iscoroutinefunction(self.function):
            return await self.function(**arguments)
        return await asyncio.to_thread(self.function, **arguments)


@overload
def tool(function: Callable[..., Any], /) -> Tool: ...


@overload
def tool(
    *,
    name: str | None = None,
    confirm: bool = False,
    timeout: float | None = None,
    describe: Callable[[dict[str, Any]], str] | None = None,
    confirm_verbs: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    function: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    confirm: bool = False,
    timeout: float | None = None,
    describe: Callable[[dict[str, Any]], str] | None = None,
    confirm_verbs: tuple[str, ...] = (),
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Turn a typed function with a Google-style docstring into a :class:`Tool`.

    Use bare (``@tool``) or with options (``@tool(confirm=True)``). The docstring's first
    paragraph becomes the description and its ``Args:`` entries the parameter descriptions.

    Args:
        function: The function, when used bare.
        name: The tool's name; defaults to the function's.
        confirm: The tool has side effects and runs only once the user confirms.
        timeout: Seconds it may run; None uses the configured default.
        describe: Builds the confirmation question from the arguments.
        confirm_verbs: Verbs a spoken approval must name ("open": "yes, open it").

    Raises:
        TypeError: The name is not allowed, the docstring is missing, or a parameter's type
            is unsupported.
    """

    def make(fn: Callable[..., Any]) -> Tool:
        tool_name = name or fn.__name__
        if not NAME_RE.match(tool_name):
            raise TypeError(f"tool name {tool_name!r} must match {NAME_RE.pattern}")
        if not fn.__doc__:
            raise TypeError(f"tool {tool_name}: the docstring is the model's description")
        return Tool(
            name=tool_name,
            description=docstring_summary(fn.__doc__),
            parameters=parameters_schema(fn),
            function=fn,
            confirm=confirm,
            timeout=timeout,
            describe=describe,
            confirm_verbs=confirm_verbs,
        )

    return make if function is None else make(function)


@dataclass(frozen=True)
class ToolContext:
    """What a tool factory from an entry point may need.

    Attributes:
        data_dir: voiced's private data directory.
        announce: Says something to the user later (timers, reminders).
    """

    data_dir: Path
    announce: Announce | None = None


class ToolSource(Protocol):
    """Tools that come and go while voiced runs (an MCP server's, once it is up)."""

    def tools(self) -> Sequence[Tool]:
        """The tools offered now, in order."""
        ...


MAX_TOOLS = 128
"""Most tools one chat request may offer: Groq's limit (``tools``, maxItems 128)."""
MAX_TOOL_CHARS = 64_000
"""Most characters of tool definitions one request offers (about 16,000 tokens), so tools
never crowd the conversation out of the context window. Not a limit Groq documents: an
assumption, as Groq documents none beside the context window and the tokens-per-minute
rate limit; built-in and plug-in tools always fit, tools from a ToolSource are left out past
it."""


class ToolRegistry:
    """The tools by name, in the order they were added (the first of a name wins), and those
    of any live sources after them, as far as the request limits allow.

    Args:
        tools: The fixed tools (built-in and plug-ins).
        sources: Live sources whose tools come after the fixed ones.
        enabled: When non-empty, only tools of these names are offered.
        disabled: Tools of these names are never offered.
    """

    def __init__(
        self,
        tools: Iterable[Tool] = (),
        sources: Sequence[ToolSource] = (),
        enabled: Sequence[str] = (),
        disabled: Sequence[str] = (),
    ) -> None:
        self._tools: dict[str, Tool] = {}
        for item in tools:
            self.add(item)
        self._sources = tuple(sources)
        self._enabled, self._disabled = tuple(enabled), tuple(disabled)
        self._left_out: tuple[str, ...] = ()

    def add(self, item: Tool) -> None:
        """Add a tool; a second tool of the same name is ignored with a warning."""
        if item.name in self._tools:
            log.warning("two tools are called %s; keeping the first", item.name)
            return
        self._tools[item.name] = item

    def wanted(self, name: str) -> bool:
        """Whether ``[tools] enabled`` and ``disabled`` let a tool of this name be offered."""
        return (not self._enabled or name in self._enabled) and name not in self._disabled

    def offered(self) -> dict[str, Tool]:
        """Every tool offered now: the fixed ones, then the live ones that fit the limits
        (:data:`MAX_TOOLS`, :data:`MAX_TOOL_CHARS`); those left out are logged once."""
        chosen = dict(self._tools)
        if not self._sources:
            return chosen
        used = sum(len(json.dumps(t.schema())) for t in chosen.values())
        left_out: list[str] = []
        for source in self._sources:
            for item in source.tools():
                if item.name in chosen or not self.wanted(item.name):
                    continue
                size = len(json.dumps(item.schema()))
                if len(chosen) >= MAX_TOOLS or used + size > MAX_TOOL_CHARS:
                    left_out.append(item.name)
                    continue
                chosen[item.name] = item
                used += size
        if tuple(left_out) != self._left_out:
            self._left_out = tuple(left_out)
            if left_out:  # logged for the record; its users tell the user (ask, the daemon)
                log.info(
                    "%d tools were left out of the request to stay within %d tools and %d "
                    "characters of tool definitions: %s",
                    len(left_out),
                    MAX_TOOLS,
                    MAX_TOOL_CHARS,
                    ", ".join(left_out),
                )
        return chosen

    @property
    def left_out(self) -> tuple[str, ...]:
        """The live tools the last :meth:`offered` left out for the limits."""
        return self._left_out

    def get(self, name: str) -> Tool | None:
        """The tool of that name, or None."""
        return self._tools.get(name) or (self.offered().get(name) if self._sources else None)

    @property
    def names(self) -> list[str]:
        """Every tool name, in order."""
        return list(self.offered())

    def schemas(self) -> tuple[dict[str, Any], ...]:
        """The ``tools`` list for a chat request."""
        return tuple(t.schema() for t in self.offered().values())

    def select(self, enabled: Sequence[str] = (), disabled: Sequence[str] = ()) -> ToolRegistry:
        """Return the registry limited to ``enabled`` (all when empty) minus ``disabled``;
        the same choice applies to the tools of its live sources, by their names."""
        for wanted in (*enabled, *disabled):
            if wanted not in self._tools and "__" not in wanted:  # SERVER__TOOL: MCP's, later
                log.warning("[tools] names %r, but no such tool is installed", wanted)
        return ToolRegistry(
            (
                t
                for t in self._tools.values()
                if (not enabled or t.name in enabled) and t.name not in disabled
            ),
            self._sources,
            enabled,
            disabled,
        )

    def with_source(self, source: ToolSource) -> ToolRegistry:
        """The same registry with a live source added after the others."""
        return ToolRegistry(
            self._tools.values(), (*self._sources, source), self._enabled, self._disabled
        )


def entry_point_tools(context: ToolContext) -> list[Tool]:
    """Load third-party tools registered in the ``voiced.tools`` entry-point group.

    An entry point may name a :class:`Tool`, a list of them, or a factory taking a
    :class:`ToolContext` and returning tools. One that fails to load is skipped with a
    warning, so a broken plug-in never stops voiced.
    """
    found: list[Tool] = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = point.load()
            if callable(loaded) and not isinstance(loaded, Tool):
                loaded = loaded(context)
            items = [loaded] if isinstance(loaded, Tool) else list(loaded)
            if not all(isinstance(i, Tool) for i in items):
                raise TypeError("it is not a Tool, a list of tools or a factory of them")
        except Exception as exc:  # a plug-in may fail in any way at all
            log.warning("skipping tool plug-in %s (%s): %s", point.name, point.value, exc)
            continue
        found.extend(replace(i, source=f"plugin {point.name}") for i in items)
    return found
