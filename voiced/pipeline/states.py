"""The one place the pipeline moves the daemon's state: each move named, with its guard."""

from __future__ import annotations

from voiced.pipeline.host import Host
from voiced.protocol.events import State

BUSY: tuple[State, ...] = ("thinking", "speaking")
"""Voiced answering: the model is thinking or the reply is playing."""
HEARD: tuple[State, ...] = ("hearing", "transcribing")
"""An utterance open, or being transcribed."""


class PipelineState:
    """Moves the host's state machine for the pipeline, and only as the pipeline's events say.

    Every module of the pipeline reports what happened here; whether that changes the state
    is decided here alone, so the guards (e.g. "only from thinking") live in one module.

    Args:
        host: Owns the state machine and knows the idle state (listening or muted).
    """

    def __init__(self, host: Host) -> None:
        self.host = host

    @property
    def now(self) -> State:
        """The current state."""
        return self.host.state.state

    def _to(self, target: State, reason: str) -> None:
        self.host.state.to(target, reason)

    def _idle(self, reason: str) -> None:
        self._to(self.host.idle_state(), reason)

    # -- the microphone ------------------------------------------------------------------

    def microphone_failed(self) -> None:
        """It could not be opened (it will be retried)."""
        if self.host.state.can("error"):
            self._to("error", "no microphone")

    def microphone_lost(self) -> None:
        """It went away while listening."""
        if self.now in ("listening", *HEARD):
            self._to("error", "microphone lost")

    def microphone_back(self) -> None:
        """Frames arrive again after a failure."""
        if self.now == "error":
            self._idle("the microphone works again")

    # -- utterances ----------------------------------------------------------------------

    def speech_started(self) -> None:
        """An utterance opened (over a reply the reply decides the state: see hold)."""
        if self.now in ("listening", "error", "transcribing"):
            self._to("hearing", "speech started")

    def speech_ended(self) -> None:
        """An utterance is complete and goes to speech to text."""
        if self.now == "hearing":
            self._to("transcribing", "speech ended")

    def settle(self, reason: str, busy: bool) -> None:
        """Nothing more to do for what was heard: rest, unless a turn or other work is on."""
        if self.now in HEARD and not busy:
            self._idle(reason)

    # -- the reply -----------------------------------------------------------------------

    def answering(self) -> None:
        """A turn starts: the model is asked."""
        self._to("thinking", "answering")

    def first_audio(self) -> None:
        """The reply's first audio plays."""
        if self.now == "thinking":
            self._to("speaking", "first audio")

    def turn_over(self, turn: int, reason: str) -> None:
        """A turn ended (done, cancelled, failed); a barge-in leaves the state to the speech
        that interrupted it."""
        if reason != "barge_in" and self.now in BUSY:
            self._idle(f"turn {turn} {reason}")

    def barged_in(self, hearing: bool) -> None:
        """The user stopped the reply by speaking: hearing them, or idle when their
        utterance is already over."""
        if self.now in BUSY:
            if hearing:
                self._to("hearing", "barge-in")
            else:
                self._idle("barge-in")

    def held(self) -> None:
        """The reply is held while speech over it is judged."""
        if self.now in BUSY:
            self._to("hearing", "speech over the reply: holding it")

    def played_on(self, why: str) -> None:
        """A held reply plays on."""
        if self.now in HEARD:
            self._to("speaking", f"playing on: {why}")
