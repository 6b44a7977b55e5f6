"""The MCP SDK costs about a second to import: nothing loads it until a server is started."""

from __future__ import annotations

import pytest

from tests.daemon.test_import_hygiene import loaded_after_import

pytestmark = pytest.mark.subprocess

SDK = {"mcp", "mcp_types", "pydantic", "httpx2", "starlette", "uvicorn"}


def test_the_cli_the_daemon_and_ask_do_not_import_the_mcp_sdk() -> None:
    modules = [
        "voiced.cli",
        "voiced.daemon.app",
        "voiced.pipeline.assemble",
        "voiced.commands.ask",
        "voiced.commands.tools",
        "voiced.mcp.manager",
    ]
    assert loaded_after_import(modules, SDK) == []


def test_the_connection_module_is_the_one_that_does() -> None:
    assert "mcp" in loaded_after_import(["voiced.mcp.connection"], SDK)
