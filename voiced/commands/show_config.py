"""``voiced config``: the effective settings as TOML, with the key and URL credentials masked."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from typing import Any

from voiced.commands.common import settings
from voiced.config import SECTIONS, Settings, Url, check_of, config_path, mask_url
from voiced.config.mcp import Strings


def run(args: argparse.Namespace) -> int:
    """Print where settings came from and every effective value."""
    print(render(settings()), end="")
    return 0


def render(loaded: Settings) -> str:
    """Render the effective settings; unset optional values appear as comments.

    The API key shows only its ends; a URL's user, password, query values and fragment
    (where a proxy or a key may hide) show as ``***``.
    """
    path = loaded.config_path or config_path()
    state = "" if loaded.config_path else " (not found: defaults in use)"
    key = (
        f"{loaded.api_key.masked()} (from {loaded.api_key_source})"
        if loaded.api_key
        else "not set (export GROQ_API_KEY=… or write it to the credentials file)"
    )
    lines = [f"# config file: {path}{state}", f"# API key: {key}"]
    for name in SECTIONS:
        section = getattr(loaded, name)
        if name == "mcp":
            lines += _servers(loaded)
            continue
        lines.append(f"\n[{name}]")
        lines += _fields(section)
    text = "\n".join(lines) + "\n"
    if loaded.api_key and len(loaded.api_key.reveal()) >= 8:  # e.g. a key pasted into a path
        text = text.replace(loaded.api_key.reveal(), loaded.api_key.masked())
    return text


def _fields(section: Any) -> list[str]:
    """``key = value`` lines; URLs masked, and the values of secret tables as ***."""
    lines = []
    for f in fields(section):
        value = getattr(section, f.name)
        check = check_of(f)
        if isinstance(check, Url) and isinstance(value, str):
            value = mask_url(value)
        if isinstance(check, Strings) and isinstance(value, dict):
            shown = ", ".join(f'{json.dumps(k)} = "***"' for k in value)
            lines.append(f"{f.name} = {{ {shown} }}" if value else f"{f.name} = {{}}")
            continue
        lines.append(f"# {f.name} = (unset)" if value is None else f"{f.name} = {_toml(value)}")
    return lines


def _servers(loaded: Settings) -> list[str]:
    """The ``[[mcp.servers]]`` tables, their secrets masked."""
    servers = loaded.mcp.servers
    if not servers:
        return ["\n[mcp]", "servers = []  # none: add [[mcp.servers]] tables"]
    lines = []
    for server in servers:
        lines.append("\n[[mcp.servers]]")
        lines += _fields(server)
    return lines


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
