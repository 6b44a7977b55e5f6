"""Settings for the MCP tool servers voiced starts: one ``[[mcp.servers]]`` table each."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from voiced.config.checks import (
    CHECK,
    Check,
    Text,
    Url,
    above,
    check_fields,
    one_line,
    setting,
)
from voiced.errors import ConfigError

ConfirmPolicy = Literal["auto", "always", "never"]
SERVER_NAME = r"[A-Za-z0-9][A-Za-z0-9_-]{0,29}"
"""A server's name: it prefixes its tools' names, which Groq allows 64 characters of
``[A-Za-z0-9_-]``, so it is kept short and within that alphabet."""
ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,127}"
HEADER_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}"
"""An HTTP header name (RFC 9110 token)."""


@dataclass(frozen=True)
class Strings(Check):
    """A table of one-line strings whose keys match ``keys`` (described by ``what``)."""

    keys: str = ENV_NAME
    what: str = "environment variable names"
    hint: str = 'write it as a table, e.g. { TOKEN = "…" }'

    @property
    def words(self) -> str:
        return f"a table of {self.what} to one-line strings"

    def fits(self, value: Any) -> bool:
        return isinstance(value, Mapping) and all(
            isinstance(k, str)
            and re.fullmatch(self.keys, k) is not None
            and isinstance(v, str)
            and one_line(v)
            and "\x00" not in v
            for k, v in value.items()
        )

    def show(self, value: Any) -> str:
        """Only the keys: the values are secrets."""
        if not isinstance(value, Mapping):
            return super().show(value)
        return super().show({k: "***" for k in value})


@dataclass(frozen=True)
class Arguments(Check):
    """An array of one-line strings (a program's arguments, which may be empty strings)."""

    @property
    def words(self) -> str:
        return "an array of one-line strings"

    def fits(self, value: Any) -> bool:
        return isinstance(value, tuple | list) and all(
            isinstance(v, str) and one_line(v) for v in value
        )


@dataclass(frozen=True)
class EndpointUrl(Url):
    """An http or https URL with a host, or empty."""

    @property
    def words(self) -> str:
        return "an http:// or https:// URL with a host, or empty"

    def fits(self, value: Any) -> bool:
        return value == "" or super().fits(value)


def _no_secrets() -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class McpServerSettings:
    """One MCP server: a program voiced starts (stdio) or a URL it connects to (HTTP)."""

    name: str = setting(
        "",
        Text(
            pattern=SERVER_NAME,
            described="a name of 1–30 letters, digits, _ or - (starting with a letter or digit)",
            hint='name each server, e.g. name = "files"',
        ),
    )
    """What the server is called: its tools reach the model as NAME__TOOL."""
    command: str = setting("", Text(empty_ok=True))
    """The program that runs a stdio server (looked up on PATH); empty for an HTTP server."""
    args: tuple[str, ...] = setting((), Arguments())
    """The program's arguments."""
    env: dict[str, str] = field(default_factory=_no_secrets, metadata={CHECK: Strings()})
    """Environment variables added for the program (besides HOME, PATH, USER, LOGNAME, SHELL
    and TERM; nothing else of voiced's, never GROQ_API_KEY). Secrets may go here: their
    values are never logged and `voiced config` shows them as ***."""
    url: str = setting("", EndpointUrl())
    """The endpoint of a streamable HTTP server (e.g. http://127.0.0.1:8000/mcp); empty for
    a stdio server."""
    headers: dict[str, str] = field(
        default_factory=_no_secrets,
        metadata={
            CHECK: Strings(
                keys=HEADER_NAME,
                what="HTTP header names",
                hint='write it as a table, e.g. { Authorization = "Bearer …" }',
            )
        },
    )
    """HTTP headers sent with every request (e.g. Authorization); values never logged."""
    enabled: bool = True
    """Whether voiced starts it."""
    confirm: ConfirmPolicy = "auto"
    """Which of its tools need the user's yes first: "auto" every tool not marked read-only
    (readOnlyHint) by the server, "always" every tool, "never" none."""
    timeout: float = setting(30.0, above(0, at_most=3600, unit="seconds"))
    """Seconds its start (and each call of its tools) may take before it is given up."""

    def __post_init__(self) -> None:
        check_fields(self, "mcp.servers")
        if bool(self.command) == bool(self.url):
            raise ConfigError(
                "[mcp.servers] "
                + ("has both command and url" if self.command else "has neither command nor url")
                + ": a server is either a program (command, for stdio) or a URL (streamable HTTP)",
                'e.g. command = "npx" with args = [...], or url = "http://127.0.0.1:8000/mcp"',
            )
        if self.command and self.headers:
            raise ConfigError(
                "[mcp.servers] headers are for an HTTP server (url), not a program (command)",
                "pass a stdio server's secrets in env",
            )
        if self.url and (self.args or self.env):
            raise ConfigError(
                "[mcp.servers] args and env are for a program (command), not a URL",
                "pass an HTTP server's secrets in headers",
            )

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values never to show: those of ``env`` and ``headers`` (the short ones too)."""
        return tuple(v for v in (*self.env.values(), *self.headers.values()) if v)

    @property
    def transport(self) -> Literal["stdio", "http"]:
        """How voiced talks to it."""
        return "stdio" if self.command else "http"


@dataclass(frozen=True)
class ServerTables(Check):
    """The ``[[mcp.servers]]`` tables."""

    @property
    def words(self) -> str:
        return "an array of tables, one [[mcp.servers]] per server"

    def fits(self, value: Any) -> bool:
        return isinstance(value, tuple) and all(isinstance(v, McpServerSettings) for v in value)


@dataclass(frozen=True)
class McpSettings:
    """The MCP servers whose tools the model may call (the ``[mcp]`` section)."""

    servers: tuple[McpServerSettings, ...] = setting((), ServerTables())
    """One [[mcp.servers]] table per server, in the order their tools are offered."""

    def __post_init__(self) -> None:
        check_fields(self, "mcp")
        seen: set[str] = set()
        for server in self.servers:
            if server.name.lower() in seen:
                raise ConfigError(
                    f"two [[mcp.servers]] are named {server.name!r}",
                    "give each server its own name (names differ in more than case)",
                )
            seen.add(server.name.lower())

    @property
    def enabled(self) -> tuple[McpServerSettings, ...]:
        """The servers voiced starts."""
        return tuple(s for s in self.servers if s.enabled)
