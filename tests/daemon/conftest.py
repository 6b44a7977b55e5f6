"""Fixtures: a daemon on a private socket, and clients of it."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.running import RunningDaemon
from voiced.config import Settings
from voiced.daemon import Daemon


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private home whose XDG_DATA_HOME (the history, timers) is its ``data``."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    """A short private directory for sockets (Unix socket paths are limited to 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="vd-"))
    path.chmod(0o700)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sock(runtime_dir: Path) -> Path:
    return runtime_dir / "voiced" / "control.sock"


@pytest.fixture
async def start_daemon(sock: Path) -> AsyncIterator[Callable[..., asyncio.Future[RunningDaemon]]]:
    """Start an in-process daemon with no pipeline; stopped at the end of the test."""
    started: list[RunningDaemon] = []

    async def start(settings: Settings | None = None, **kwargs: object) -> RunningDaemon:
        daemon = Daemon(settings or Settings(), socket=sock, **kwargs)  # type: ignore[arg-type]
        running = await RunningDaemon.serving(daemon)
        started.append(running)
        return running

    yield start  # type: ignore[misc]
    for running in started:
        await running.stop()
