"""A real voiced daemon on a private socket, with its pipeline idle, for the TUI's tests."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from voiced.config import Settings
from voiced.daemon import Daemon, EventBus, IdleEngine
from voiced.protocol.events import Event


class RecordingEngine(IdleEngine):
    """The daemon's idle engine, also counting the cancels it is asked for."""

    def __init__(self, bus: EventBus) -> None:
        super().__init__(bus)
        self.cancels = 0

    async def cancel(self) -> bool:
        self.cancels += 1
        return False


class RunningDaemon:
    """Starts and stops :class:`voiced.daemon.Daemon` (control server included) in this loop.

    Args:
        socket: The control socket; restarting reuses it, as a restarted service does.
        settings: The daemon's settings.
    """

    def __init__(self, socket: Path, settings: Settings | None = None) -> None:
        self.socket = socket
        self.settings = settings or Settings()
        self.daemon: Daemon | None = None
        self.engine: RecordingEngine | None = None
        self._task: asyncio.Task[int] | None = None

    def _engine(self, daemon: Daemon) -> RecordingEngine:
        self.engine = RecordingEngine(daemon.bus)
        return self.engine

    async def start(self) -> Daemon:
        """Start a new daemon and return once its socket accepts connections."""
        self.daemon = Daemon(
            self.settings, socket=self.socket, engine=self._engine, loader=lambda: self.settings
        )
        self._task = asyncio.create_task(self.daemon.run(handle_signals=False))
        async with asyncio.timeout(5):
            while not self.socket.exists():
                if self._task.done():
                    self._task.result()
                await asyncio.sleep(0.01)
        return self.daemon

    async def stop(self) -> None:
        """Stop the daemon and wait for it to close its socket."""
        if self.daemon is not None and self._task is not None:
            self.daemon.stop("stopped by the test")
            async with asyncio.timeout(5):
                await self._task
        self.daemon, self._task = None, None

    def publish(self, *events: Event) -> None:
        """Publish events on the daemon's bus, as its pipeline does."""
        assert self.daemon is not None, "the daemon is not running"
        for event in events:
            self.daemon.publish(event)

    @property
    def clients(self) -> int:
        """How many clients are connected to the control socket."""
        assert self.daemon is not None
        return self.daemon.control.clients


def short_tempdir() -> tuple[Path, Callable[[], None]]:
    """A private directory with a short path (a Unix socket path must fit in 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="vtui-"))
    return path, lambda: shutil.rmtree(path, ignore_errors=True)
