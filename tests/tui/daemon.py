"""The TUI tests' daemon: a real voiced daemon on a private socket, with its pipeline idle."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from tests.running import RunningDaemon
from voiced.daemon import EventBus, IdleEngine


class RecordingEngine(IdleEngine):
    """The daemon's idle engine, also counting the cancels it is asked for."""

    def __init__(self, bus: EventBus) -> None:
        super().__init__(bus)
        self.cancels = 0

    async def cancel(self) -> bool:
        self.cancels += 1
        return False


def idle_daemon(socket: Path) -> RunningDaemon:
    """A daemon (not started) whose engine is a RecordingEngine and whose reload loads
    ``running.settings``; its events are published by the test."""
    running = RunningDaemon(socket, engine=lambda daemon: RecordingEngine(daemon.bus))
    running.options["loader"] = lambda: running.settings
    return running


def short_tempdir() -> tuple[Path, Callable[[], None]]:
    """A private directory with a short path (a Unix socket path must fit in 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="vtui-"))
    return path, lambda: shutil.rmtree(path, ignore_errors=True)
