"""What the pipeline needs of the process that runs it: a narrow view, never the daemon itself.

The daemon (:class:`voiced.daemon.app.Daemon`) satisfies these Protocols; the pipeline
imports nothing from :mod:`voiced.daemon`, and tests can host it with anything that does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from voiced.config import Settings
from voiced.protocol.events import Event, ListeningMode, State
from voiced.protocol.reports import ErrorReport, HistoryEntry, McpServerLine

if TYPE_CHECKING:
    from voiced.converse.sqlite import StoreLost
    from voiced.pipeline.agentvoice import AgentVoice


class States(Protocol):
    """The daemon's state machine, as the pipeline moves it."""

    @property
    def state(self) -> State: ...

    def can(self, target: State) -> bool: ...

    def to(self, target: State, reason: str = "") -> bool: ...


class Listening(Protocol):
    """How the user set the microphone: the mode, mute and push-to-talk."""

    @property
    def mode(self) -> ListeningMode: ...

    @property
    def muted(self) -> bool: ...

    @property
    def ptt(self) -> bool: ...

    @property
    def wake_word(self) -> str: ...


class Host(Protocol):
    """The pipeline's host: where events go, the state, the settings, the user's controls."""

    @property
    def settings(self) -> Settings: ...

    @property
    def state(self) -> States: ...

    @property
    def controls(self) -> Listening: ...

    def publish(self, event: Event) -> None:
        """Send an event to every client."""

    def idle_state(self) -> State:
        """Where the pipeline rests between turns ("listening", or "muted")."""


class Recent(Protocol):
    """The recent conversation clients are shown when they connect."""

    def seed(self, entries: list[HistoryEntry]) -> None: ...


class Bus(Protocol):
    """Every event, as it is published."""

    def listen(self, listener: Callable[[Event], None]) -> None: ...


class EngineHost(Host, Protocol):
    """What assembling the pipeline needs besides: the process's bookkeeping it fills in."""

    @property
    def bus(self) -> Bus: ...

    @property
    def recent(self) -> Recent: ...

    @property
    def models(self) -> dict[str, str]: ...

    @property
    def standing(self) -> list[ErrorReport]: ...

    voice: AgentVoice | None
    """Other programs' voice (``voiced mcp``), set once the pipeline is up."""
    mcp_states: Callable[[], tuple[McpServerLine, ...]]
    """The MCP servers' states, for ``status``."""

    def storage_lost(self, lost: StoreLost) -> None:
        """The history or timers database could not be opened: say so, now and later."""
