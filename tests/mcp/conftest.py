"""Fixtures for the MCP tests: real MCP servers (stdio programs and an HTTP hub) and configs."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mcp.servers import HTTP_HUB, PYTHON, TOOLBOX

TOKEN = "tok_9f8e7d6c5b4a39281706"
"""A secret given to the servers in env or headers: it must never be shown or logged."""


class Hub:
    """The HTTP MCP servers of ``http_hub.py``, running in a subprocess."""

    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process, self.port = process, port

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}/mcp"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_hub(*args: str) -> Hub:
    process = subprocess.Popen(
        [PYTHON, str(HTTP_HUB), *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip().isdigit(), f"the hub did not start: {line!r}"
    return Hub(process, int(line))


@pytest.fixture
def hub() -> Iterator[Hub]:
    running = start_hub()
    yield running
    running.stop()


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    """The toolbox's notes directory, with one note in it."""
    where = tmp_path / "notes"
    where.mkdir()
    (where / "shopping").write_text("eggs, flour, a lot of cheese")
    return where


def toolbox_table(notes: Path, name: str = "box", *extra: str, **keys: str) -> str:
    """A [[mcp.servers]] table that runs the toolbox server."""
    args = ", ".join(f'"{a}"' for a in (str(TOOLBOX), *extra))
    lines = [
        "[[mcp.servers]]",
        f'name = "{name}"',
        f'command = "{PYTHON}"',
        f"args = [{args}]",
        f'env = {{ TOOLBOX_NOTES = "{notes}", TOOLBOX_TOKEN = "{TOKEN}" }}',
        *(f"{k} = {v}" for k, v in keys.items()),
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private home whose XDG_DATA_HOME (the history, timers) is its ``data``."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path
