"""``voiced tools``: every tool the model may be offered, where it comes from, and its state.

Built-in tools, plug-ins (the ``voiced.tools`` entry points) and the tools of each enabled
MCP server (started for the listing, concurrently, and stopped after it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import dataclass

from voiced.commands.common import settings


@dataclass(frozen=True)
class Row:
    """One line of the listing."""

    name: str
    source: str
    confirm: str
    """"yes", "no", or "" when it does not apply (a server that is down)."""
    state: str
    """"enabled", "disabled (…)", "not offered (…)", or a server's trouble."""

    @property
    def enabled(self) -> bool:
        """Whether the model is offered it."""
        return self.state == "enabled"


def run(args: argparse.Namespace) -> int:
    """Print the listing (a table, or one JSON object a line with ``--json``).

    Returns:
        0.
    """
    rows = asyncio.run(listing())
    if getattr(args, "json", False):
        for row in rows:
            print(
                json.dumps(
                    {
                        "name": row.name,
                        "source": row.source,
                        "confirm": row.confirm == "yes",
                        "enabled": row.enabled,
                        "state": row.state,
                    },
                    ensure_ascii=False,
                )
            )
        return 0
    print(table(rows))
    return 0


async def listing() -> list[Row]:
    """Every tool, in the order the model is offered them, then what is not offered."""
    from voiced.config import data_dir
    from voiced.converse.sqlite import MEMORY
    from voiced.converse.tools.builtin import builtin_tools
    from voiced.converse.tools.builtin.timers import TimerService
    from voiced.converse.tools.builtin.timerstore import TimerStore
    from voiced.converse.tools.registry import ToolContext, ToolRegistry, entry_point_tools
    from voiced.mcp.manager import running_servers

    loaded = settings()
    data = data_dir()
    timers = TimerService(TimerStore(MEMORY), None)
    fixed = [*builtin_tools(loaded.tools, data, timers), *entry_point_tools(ToolContext(data))]
    rows: list[Row] = []
    async with running_servers(loaded.mcp.servers) as mcp:
        await mcp.settled()
        registry = ToolRegistry(fixed).select(loaded.tools.enabled, loaded.tools.disabled)
        registry = registry.with_source(mcp)
        offered = registry.offered()
        seen: set[str] = set()
        for item in [*fixed, *mcp.tools()]:
            if item.name in seen:
                continue
            seen.add(item.name)
            if item.name in offered:
                state = "enabled"
            elif item.name in registry.left_out:
                state = "not offered (over the limits of one request)"
            else:
                state = "disabled ([tools] enabled/disabled)"
            rows.append(Row(item.name, item.source, "yes" if item.confirm else "no", state))
        for server in mcp.states():
            source = f"MCP server {server.name}"
            for skipped in server.skipped:
                rows.append(Row(skipped.tool, source, "", f"not offered: {skipped.reason}"))
            if server.phase == "disabled":
                rows.append(Row(f"({server.name})", source, "", "disabled (enabled = false)"))
            elif server.phase != "ready":
                rows.append(Row(f"({server.name})", source, "", f"unavailable: {server.reason}"))
    return rows


def table(rows: list[Row]) -> str:
    """The rows as aligned columns under a header."""
    header = Row("tool", "source", "confirm", "state")
    widths = [max(len(getattr(r, f)) for r in [header, *rows]) for f in ("name", "source")]
    confirm = max(len(r.confirm) for r in [header, *rows])
    lines = [
        f"{r.name:<{widths[0]}}  {r.source:<{widths[1]}}  {r.confirm:<{confirm}}  {r.state}"
        for r in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)
