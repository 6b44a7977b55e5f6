"""Tools the model may call: the ``@tool`` decorator, the registry, the runner and the loop."""

from voiced.converse.tools.registry import (
    ENTRY_POINT_GROUP,
    Announce,
    Tool,
    ToolContext,
    ToolError,
    ToolRegistry,
    entry_point_tools,
    tool,
)
from voiced.converse.tools.runner import (
    APOLOGY,
    Confirm,
    ConfirmRequest,
    LoopResult,
    ToolLoop,
    ToolOutcome,
    ToolRunner,
    refuse,
)
from voiced.converse.tools.schema import ArgumentError

__all__ = [
    "APOLOGY",
    "ENTRY_POINT_GROUP",
    "Announce",
    "ArgumentError",
    "Confirm",
    "ConfirmRequest",
    "LoopResult",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolLoop",
    "ToolOutcome",
    "ToolRegistry",
    "ToolRunner",
    "entry_point_tools",
    "refuse",
    "tool",
]
