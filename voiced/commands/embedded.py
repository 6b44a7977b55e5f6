"""A daemon hosted inside the TUI's process: its own thread and event loop, same socket protocol."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from voiced.config import Settings
from voiced.daemon.app import Daemon, EngineFactory
from voiced.daemon.notify import Notifier
from voiced.errors import VoicedError
from voiced.logs import redact
from voiced.protocol.reports import LogRecord

STOP_TIMEOUT_S = 5.0
"""How long quitting waits for the hosted daemon to finish."""

log = logging.getLogger(__name__)

Engines = Callable[[Settings], EngineFactory | None]
"""Picks the turn pipeline for the settings (the daemon's ``engine_factory``)."""


def _default_engines(settings: Settings) -> EngineFactory | None:
    from voiced.pipeline.assemble import engine_factory

    return engine_factory(settings, None)


class EmbeddedDaemon:
    """Runs :class:`voiced.daemon.Daemon` in a thread with an event loop of its own.

    The TUI talks to it over the control socket as to any daemon, so the two loops never wait
    on each other; its warnings reach the TUI's log pane as ``log`` events.

    Args:
        socket: The control socket it serves.
        engines: Builds its turn pipeline; defaults to the one ``voiced daemon`` runs.
        on_error: Called from the daemon's thread when it fails to start or run.
    """

    def __init__(
        self,
        socket: Path,
        engines: Engines = _default_engines,
        on_error: Callable[[VoicedError], None] | None = None,
    ) -> None:
        self.socket, self.engines, self.on_error = socket, engines, on_error
        self.started = False
        self.error: VoicedError | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop = asyncio.Event()
        self._lock = threading.Lock()
        self._settled = False
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def start(self, settings: Settings) -> None:
        """Start the daemon with these settings (once)."""
        if self.started:
            return
        self.started = True
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run, args=(settings,), name="voiced-daemon", daemon=True
        )
        self._thread.start()

    async def wait_ready(self) -> None:
        """Return once the daemon accepts clients, or has failed to start."""
        ready = asyncio.Event()
        with self._lock:
            if self._settled:
                return
            self._waiters.append((asyncio.get_running_loop(), ready))
        await ready.wait()

    def stop(self) -> None:
        """Stop the daemon and wait (at most STOP_TIMEOUT_S) for it to finish."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # its loop is closed: it is over already
            loop.call_soon_threadsafe(self._stop.set)
        thread.join(STOP_TIMEOUT_S)
        if thread.is_alive():
            log.warning("the in-process daemon did not stop within %g s", STOP_TIMEOUT_S)

    def _settle(self) -> None:
        """Wake everyone waiting for the daemon to be ready (it is, or it failed)."""
        with self._lock:
            self._settled = True
            waiters, self._waiters = self._waiters, []
        for loop, ready in waiters:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(ready.set)

    def _run(self, settings: Settings) -> None:
        assert self._loop is not None
        try:
            self._loop.run_until_complete(self._serve(settings))
        except VoicedError as exc:
            self.error = exc
            if self.on_error is not None:
                self.on_error(exc)
        finally:
            self._settle()
            self._loop.close()

    async def _serve(self, settings: Settings) -> None:
        daemon = Daemon(
            settings,
            socket=self.socket,
            engine=self.engines(settings),
            notifier=_Readiness(self._settle),
        )
        forward = _LogToBus(daemon, asyncio.get_running_loop())
        logging.getLogger("voiced").addHandler(forward)
        try:
            running = asyncio.create_task(daemon.run(handle_signals=False))
            stop = asyncio.create_task(self._stop.wait())
            await asyncio.wait({running, stop}, return_when=asyncio.FIRST_COMPLETED)
            daemon.stop("the TUI that hosted it quit")
            stop.cancel()
            await running
        finally:
            logging.getLogger("voiced").removeHandler(forward)


class _Readiness(Notifier):
    """Stands in for sd_notify: READY=1 wakes the TUI instead of a service manager."""

    def __init__(self, on_ready: Callable[[], None]) -> None:
        super().__init__(env={})
        self._on_ready = on_ready

    def ready(self, status: str = "") -> bool:
        self._on_ready()
        return True


class _LogToBus(logging.Handler):
    """Publishes the daemon's warnings and errors as ``log`` events, from any thread."""

    def __init__(self, daemon: Daemon, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(logging.WARNING)
        self.daemon, self.loop = daemon, loop

    def emit(self, record: logging.LogRecord) -> None:
        error = record.levelno >= logging.ERROR
        message = redact(record.getMessage())
        event = LogRecord(level="error" if error else "warning", message=message)
        with contextlib.suppress(RuntimeError):  # the daemon's loop is closed: nobody to tell
            self.loop.call_soon_threadsafe(self.daemon.publish, event)
