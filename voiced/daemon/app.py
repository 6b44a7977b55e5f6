"""The daemon: state, event bus, control socket and the turn pipeline, under systemd or not."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from voiced.config import Settings, load_settings
from voiced.converse.sqlite import StoreLost
from voiced.daemon.bus import EventBus
from voiced.daemon.controls import Controls
from voiced.daemon.dispatch import Dispatcher
from voiced.daemon.engine import Engine, IdleEngine
from voiced.daemon.notify import Notifier
from voiced.daemon.recent import RecentConversation
from voiced.daemon.server import ControlServer
from voiced.daemon.state import StateMachine
from voiced.errors import ConfigError
from voiced.protocol.events import Event, State, StateChanged
from voiced.protocol.paths import socket_path
from voiced.protocol.reports import (
    ErrorReport,
    LogRecord,
    McpServerLine,
    ModelsChanged,
    UsageReport,
)

if TYPE_CHECKING:
    from voiced.pipeline.agentvoice import AgentVoice

log = logging.getLogger(__name__)

EngineFactory = Callable[["Daemon"], Engine]

STOP_GRACE_S = 1.0
"""How long the pipeline gets to finish its current write when the daemon stops."""


class Daemon:
    """The assistant that runs all day.

    Args:
        settings: The settings it starts with.
        socket: The control socket; defaults to ``[daemon] socket`` or the runtime dir.
        engine: Builds the turn pipeline from the daemon (its bus, state and controls); None
            runs an :class:`IdleEngine` that hears nothing (for clients' tests).
        notifier: sd_notify; defaults to one reading ``NOTIFY_SOCKET`` from the environment.
        loader: Loads settings again on SIGHUP or ``reload``.
        queue_size: Events a client may have waiting before it is cut off.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        socket: Path | None = None,
        engine: EngineFactory | None = None,
        notifier: Notifier | None = None,
        loader: Callable[[], Settings] = load_settings,
        queue_size: int | None = None,
    ) -> None:
        self.settings = settings
        self.loader = loader
        self.bus = EventBus()
        self.controls = Controls.from_setting(settings.daemon.mode, settings.wake.model.phrase)
        self.state = StateMachine(self._state_changed, initial=self.idle_state())
        self.recent = RecentConversation(settings.daemon.replay_turns)
        self.bus.listen(self.recent)
        self.bus.listen(self._count_cost)
        self.models = {"chat": settings.chat.model, "stt": settings.stt.model}
        self.session_cost_usd = 0.0
        self.socket_path = socket or socket_path(settings.daemon.socket)
        self.control = ControlServer(self.socket_path, self.bus, Dispatcher(self), queue_size)
        self.notifier = notifier or Notifier()
        self.engine: Engine = engine(self) if engine else IdleEngine(self.bus)
        self.started = time.monotonic()
        self.stop_reason = ""
        self.ready = asyncio.Event()
        """Set once the socket serves and the pipeline runs."""
        self._stop: asyncio.Event | None = None
        self.standing: list[ErrorReport] = []
        """Problems that last as long as the daemon runs, sent to each client that connects."""
        self.voice: AgentVoice | None = None
        """Speaks and asks for other programs (``voiced mcp``); set once the pipeline is up."""
        self.mcp_states: Callable[[], tuple[McpServerLine, ...]] = tuple
        """The MCP servers' states, for ``status``; set when they are started."""

    def idle_state(self) -> State:
        """Where the daemon rests between turns: "muted" when the microphone is off."""
        return "muted" if self.controls.muted and not self.controls.ptt else "listening"

    def apply_controls(self, flush: bool = True) -> None:
        """Tell the pipeline and the clients about changed controls; settle an idle state."""
        self.engine.set_gate(self.controls.mic_open, flush=flush)
        self.bus.publish(self.controls.event())
        idle = self.idle_state()
        if self.state.state in ("listening", "muted", "error") or (
            idle == "muted" and self.state.state in ("hearing", "transcribing")
        ):
            held = ", push-to-talk held" if self.controls.ptt else ""
            self.state.to(idle, f"mode {self.controls.shown_mode}{held}")

    def storage_lost(self, lost: StoreLost) -> None:
        """The history or timers database could not be opened and the daemon keeps that data
        in memory: say so to every client now, and to each client that connects later (the
        log already has it)."""
        report = ErrorReport(code=lost.kind, message=lost.message, hint=lost.hint)
        self.standing.append(report)
        self.publish(report)

    def publish(self, event: Event) -> None:
        """Publish an event to every client."""
        self.bus.publish(event)

    async def run(self, handle_signals: bool = True) -> int:
        """Serve until stopped (SIGTERM, SIGINT, :meth:`stop`) or the replayed input is over.

        Args:
            handle_signals: Install SIGTERM/SIGINT (stop) and SIGHUP (reload) handlers.

        Returns:
            0 after a clean stop, 1 when the pipeline failed.

        Raises:
            DaemonRunningError: Another daemon owns the control socket.
            DaemonError: The control socket cannot be created.
        """
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        await self.control.start()
        if handle_signals:
            loop.add_signal_handler(signal.SIGTERM, self.stop, "SIGTERM")
            loop.add_signal_handler(signal.SIGINT, self.stop, "SIGINT")
            loop.add_signal_handler(signal.SIGHUP, self._reload_soon)
        self.engine.set_gate(self.controls.mic_open)
        engine = asyncio.create_task(self.engine.run(), name="voiced-engine")
        watchdog = asyncio.create_task(self.notifier.watchdog(), name="voiced-watchdog")
        stopped = asyncio.create_task(self._stop.wait())
        self.notifier.ready(self.state.state)
        self.ready.set()
        log.info("daemon ready on %s", self.socket_path)
        await asyncio.wait({engine, stopped}, return_when=asyncio.FIRST_COMPLETED)
        code = 0
        if engine.done() and not engine.cancelled() and engine.exception() is not None:
            error = engine.exception()
            log.error("the pipeline failed: %r", error, exc_info=error)
            self.publish(ErrorReport(code="internal", message=f"the pipeline failed: {error!r}"))
            code, self.stop_reason = 1, self.stop_reason or "the pipeline failed"
        self.notifier.stopping()
        engine.cancel()
        await asyncio.wait({engine}, timeout=STOP_GRACE_S)
        for task in (watchdog, stopped):
            task.cancel()
        await self.control.stop(self.stop_reason or "the input has ended")
        if handle_signals:
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(signum)
        self.bus.close()
        self.notifier.close()
        log.info("daemon stopped: %s", self.stop_reason or "the input has ended")
        return code

    def stop(self, reason: str = "stopped") -> None:
        """Ask :meth:`run` to finish (safe to call from a signal handler)."""
        self.stop_reason = self.stop_reason or reason
        if self._stop is not None:
            self._stop.set()

    async def reload(self) -> None:
        """Read the settings again and hand them to the pipeline.

        Raises:
            ConfigError: The new settings are invalid; the old ones stay in force.
        """
        self.notifier.reloading()
        try:
            settings = await asyncio.to_thread(self.loader)
        except ConfigError as exc:
            self.publish(ErrorReport(code="config", message=exc.message, hint=exc.hint))
            raise
        finally:
            self.notifier.ready(self.state.state)
        models, self.models = self.models, {"chat": settings.chat.model, "stt": settings.stt.model}
        try:
            self.engine.apply_settings(settings)
        except ConfigError as exc:  # the new settings failed in the pipeline: keep the old
            self.models = models
            self.publish(ErrorReport(code="config", message=exc.message, hint=exc.hint))
            raise
        self.settings = settings
        self.controls.wake_word = settings.wake.model.phrase
        self.recent.turns = settings.daemon.replay_turns
        self.publish(ModelsChanged(chat_model=self.models["chat"], stt_model=self.models["stt"]))
        where = settings.config_path or "defaults (no config file)"
        self.publish(LogRecord(level="info", message=f"settings reloaded from {where}"))

    def _reload_soon(self) -> None:
        task = asyncio.create_task(self.reload())
        task.add_done_callback(_log_reload_failure)

    def _state_changed(self, event: StateChanged) -> None:
        self.publish(event)
        self.notifier.status(event.state)

    def _count_cost(self, event: Event) -> None:
        if isinstance(event, UsageReport):
            self.session_cost_usd = event.session_cost_usd


def _log_reload_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("reload failed: %s", error)
