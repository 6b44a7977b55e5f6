"""What the daemon needs of a turn pipeline, so tests and the TUI can run one without audio."""

from __future__ import annotations

import asyncio
from typing import Literal, Protocol

from voiced.config import Settings
from voiced.daemon.bus import EventBus
from voiced.protocol.events import Transcript


class Engine(Protocol):
    """The turn pipeline as the daemon drives it.

    It publishes its events on the daemon's bus and moves the daemon's state machine itself;
    the daemon only forwards the user's commands.
    """

    async def run(self) -> None:
        """Listen and answer until cancelled, or until a replayed input has ended and its
        last turn is over."""

    def set_gate(self, open_: bool, flush: bool = True) -> None:
        """Let the microphone start turns (True) or not (muted, push-to-talk released).

        Closing it with ``flush`` ends an utterance in progress at once and answers it (the
        push-to-talk key was released); without ``flush`` the utterance is dropped (muted).
        """

    async def cancel(self) -> bool:
        """Stop speaking and drop the turn in progress; True when there was one."""

    async def submit_text(self, text: str) -> None:
        """Answer a typed message like a spoken one (the turn runs in the background)."""

    def answer(self, call_id: str, approve: bool) -> bool:
        """Resolve a pending tool confirmation; False when none has that id."""

    def awake(self) -> bool:
        """Whether a follow-up needs no wake phrase right now."""

    def set_model(self, kind: Literal["chat", "stt"], model: str) -> None:
        """Use another model from the next request on."""

    def apply_settings(self, settings: Settings) -> None:
        """Take new settings (after a reload) from the next turn on."""


class IdleEngine:
    """An engine with no microphone and no model: it hears and answers nothing.

    The daemon runs with it when given no pipeline (the TUI's tests publish their own events
    on the bus); typed messages are published as accepted transcripts and go no further.

    Args:
        bus: Where the transcripts of typed messages are published.
    """

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.gate = True
        self.texts: list[str] = []
        self.answers: list[tuple[str, bool]] = []
        self.models: dict[str, str] = {}

    async def run(self) -> None:
        """Wait until cancelled."""
        await asyncio.Event().wait()

    def set_gate(self, open_: bool, flush: bool = True) -> None:
        """Remember the gate."""
        self.gate = open_

    async def cancel(self) -> bool:
        """Nothing is ever in progress."""
        return False

    async def submit_text(self, text: str) -> None:
        """Publish the text as an accepted transcript of a new turn."""
        self.texts.append(text)
        turn = len(self.texts)
        self.bus.publish(Transcript(turn=turn, text=text, accepted=True, source="typed"))

    def awake(self) -> bool:
        """Always: it asks for no wake phrase."""
        return True

    def answer(self, call_id: str, approve: bool) -> bool:
        """Remember the answer; any id is accepted (the daemon checks it is pending)."""
        self.answers.append((call_id, approve))
        return True

    def set_model(self, kind: Literal["chat", "stt"], model: str) -> None:
        """Remember the model."""
        self.models[kind] = model

    def apply_settings(self, settings: Settings) -> None:
        """Nothing to apply."""
