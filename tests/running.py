"""A voiced daemon serving in a task of the test's own event loop, control socket included."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from voiced.config import Settings
from voiced.daemon import Daemon
from voiced.daemon.engine import Engine
from voiced.protocol import ControlClient, Event

READY_S = 5.0
"""How long a daemon may take to get ready, or to stop."""


class RunningDaemon:
    """Starts and stops :class:`voiced.daemon.Daemon` in this event loop.

    Args:
        socket: The control socket; starting again reuses it, as a restarted service does.
        settings: The daemon's settings (``Settings()`` by default).
        **options: Further arguments of ``Daemon`` (``engine``, ``loader``, …).
    """

    def __init__(self, socket: Path, settings: Settings | None = None, **options: Any) -> None:
        self.socket = socket
        self.settings = settings or Settings()
        self.options = options
        self.daemon: Daemon | None = None
        self.task: asyncio.Task[int] | None = None

    @classmethod
    async def serving(cls, daemon: Daemon) -> RunningDaemon:
        """Run a daemon the test built; return once it is ready."""
        running = cls(daemon.socket_path, daemon.settings)
        await running._run(daemon)
        return running

    async def start(self) -> Daemon:
        """Start a new daemon with the settings and options; return it once it is ready."""
        return await self._run(Daemon(self.settings, socket=self.socket, **self.options))

    async def _run(self, daemon: Daemon) -> Daemon:
        """Serve ``daemon`` in a task; raise what it failed with, or fail if it is not ready
        (its socket accepting clients) within ``READY_S``."""
        self.daemon = daemon
        self.task = task = asyncio.create_task(daemon.run(handle_signals=False))
        ready = asyncio.create_task(daemon.ready.wait())
        await asyncio.wait({task, ready}, timeout=READY_S, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            if task.done():
                task.result()
            raise AssertionError(f"the daemon did not get ready within {READY_S:g} s")
        return daemon

    async def connect(self) -> ControlClient:
        """A client of its control socket."""
        return await ControlClient.connect(self.socket)

    async def stop(self, reason: str = "test over") -> int:
        """Stop the daemon (clients are told ``reason``); return its exit code (0 when none
        was running)."""
        daemon, task = self.daemon, self.task
        self.daemon, self.task = None, None
        if daemon is None or task is None:
            return 0
        daemon.stop(reason)
        async with asyncio.timeout(READY_S):
            return await task

    @property
    def engine(self) -> Engine | None:
        """The running daemon's engine."""
        return self.daemon.engine if self.daemon is not None else None

    def publish(self, *events: Event) -> None:
        """Publish events on the daemon's bus, as its pipeline does."""
        assert self.daemon is not None, "the daemon is not running"
        for event in events:
            self.daemon.publish(event)

    @property
    def clients(self) -> int:
        """How many clients are connected to the control socket."""
        assert self.daemon is not None, "the daemon is not running"
        return self.daemon.control.clients
