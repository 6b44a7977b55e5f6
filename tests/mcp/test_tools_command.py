"""`voiced tools`: built-in, plug-in and MCP tools, each with its source, confirmation, state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hostile.cli import ROOT, Cli
from tests.mcp.conftest import TOKEN, toolbox_table

pytestmark = pytest.mark.subprocess

PLUGIN = '''
from voiced.converse.tools import tool


@tool
def shout(text: str) -> str:
    """Say a text louder.

    Args:
        text: What to shout.
    """
    return text.upper()
'''


def install_plugin(where: Path) -> Path:
    """A real plug-in: a module and its dist-info with a ``voiced.tools`` entry point."""
    where.mkdir()
    (where / "voiced_shout.py").write_text(PLUGIN)
    info = where / "voiced_shout-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: voiced-shout\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[voiced.tools]\nshout = voiced_shout:shout\n")
    return where


def test_every_tool_is_listed_with_its_source_confirmation_and_state(
    tmp_path: Path, notes: Path
) -> None:
    cli = Cli(tmp_path / "home")
    cli.env["PYTHONPATH"] = f"{ROOT}:{install_plugin(tmp_path / 'plugins')}"
    config = toolbox_table(notes) + (
        '[[mcp.servers]]\nname = "off"\ncommand = "/nonexistent/x"\nenabled = false\n'
        '[[mcp.servers]]\nname = "gone"\ncommand = "/nonexistent/mcp-server"\n'
        '[tools]\ndisabled = ["box__hang"]\n'
    )
    (cli.home / ".config" / "voiced" / "config.toml").write_text(config)
    done = cli("tools", "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["name"]: r for r in map(json.loads, done.stdout.decode().splitlines())}
    assert rows["current_time"] == {
        "name": "current_time",
        "source": "built-in",
        "confirm": False,
        "enabled": True,
        "state": "enabled",
    }
    assert rows["open_url"]["confirm"] is True
    assert rows["shout"]["source"] == "plugin shout" and rows["shout"]["enabled"]
    assert rows["box__read_note"]["source"] == "MCP server box"
    assert not rows["box__read_note"]["confirm"] and rows["box__delete_note"]["confirm"]
    assert rows["box__hang"]["enabled"] is False
    assert rows["box__hang"]["state"] == "disabled ([tools] enabled/disabled)"
    assert rows["weird"]["state"].startswith("not offered: the argument 'value' has a type")
    assert rows["(off)"]["state"] == "disabled (enabled = false)"
    assert rows["(gone)"]["state"] == (
        "unavailable: cannot start '/nonexistent/mcp-server': no such program"
    )
    assert TOKEN.encode() not in done.stdout + done.stderr


def test_the_table_has_a_header_and_one_line_a_tool(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "home")
    done = cli("tools")
    lines = done.stdout.decode().splitlines()
    assert lines[0].split() == ["tool", "source", "confirm", "state"]
    assert any(line.split()[:3] == ["open_url", "built-in", "yes"] for line in lines)
    assert len(lines) == 14  # the header and the 13 built-in tools
