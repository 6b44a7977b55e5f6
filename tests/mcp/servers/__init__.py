"""Real MCP servers for the tests, written with the SDK's server side (MCPServer)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOOLBOX = HERE / "toolbox.py"
HTTP_HUB = HERE / "http_hub.py"
PYTHON = sys.executable
