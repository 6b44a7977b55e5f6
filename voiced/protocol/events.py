"""What the daemon tells its clients: one frozen dataclass per event type, versioned.

Every event is sent as a JSON object whose ``type`` names the class (``{"type": "state",
"state": "hearing", …}``). Clients skip fields and event types they do not know, so both
may be added without a new ``PROTOCOL_VERSION``; renaming or removing anything needs one.
Times ending in ``_s`` are seconds, ``_ms`` milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

from voiced.errors import ProtocolError
from voiced.protocol.codec import from_plain, to_plain

PROTOCOL_VERSION = 1
"""Bumped on any change a client of the previous version would misread."""

State = Literal["listening", "hearing", "transcribing", "thinking", "speaking", "muted", "error"]
Mode = Literal["wake", "always", "push_to_talk", "muted"]
ListeningMode = Literal["wake", "always", "push_to_talk"]
"""How the microphone is listened to when it is not muted."""
StopReason = Literal["done", "barge_in", "cancelled", "error"]


@dataclass(frozen=True, kw_only=True)
class Message:
    """Base of every event and command: the ``type`` tag and the dict conversions."""

    type: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form, ``type`` first."""
        return {"type": self.type, **to_plain(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from a decoded JSON object, validating every field.

        Raises:
            ProtocolError: ``type`` is not this class's, or a field is missing or mistyped.
        """
        if data.get("type") != cls.type:
            raise ProtocolError(f"expected a {cls.type!r} message, got type {data.get('type')!r}")
        return from_plain(cls, data, cls.type)


@dataclass(frozen=True, kw_only=True)
class Event(Message):
    """Base of everything the daemon sends."""


@dataclass(frozen=True, kw_only=True)
class Hello(Event):
    """The greeting, first on every connection."""

    type: ClassVar[str] = "hello"
    protocol: int
    version: str
    """The daemon's voiced version."""
    pid: int
    state: State
    mode: Mode
    chat_model: str
    stt_model: str
    wake_word: str = ""
    """The wake word's phrase, which "wake" mode listens for."""


@dataclass(frozen=True, kw_only=True)
class StateChanged(Event):
    """The daemon moved to another state."""

    type: ClassVar[str] = "state"
    state: State
    previous: State | None = None
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class ModeChanged(Event):
    """Listening mode or push-to-talk changed."""

    type: ClassVar[str] = "mode"
    mode: Mode
    ptt: bool = False
    """Whether push-to-talk currently holds the microphone open."""
    wake_word: str = ""
    """The wake word's phrase in "wake" mode (e.g. "Okay Nabu")."""


@dataclass(frozen=True, kw_only=True)
class WakeDetected(Event):
    """The wake word was heard on this machine: what follows is addressed to voiced."""

    type: ClassVar[str] = "wake_detected"
    word: str
    """The model's name, e.g. "okay_nabu"."""
    score: float
    """The windowed probability that passed the cut-off (0–1)."""
    at_s: float
    """When it was detected, seconds on the input's clock."""


@dataclass(frozen=True, kw_only=True)
class InputLevel(Event):
    """The microphone level, at most ten a second; dropped first for a slow client."""

    type: ClassVar[str] = "level"
    rms_db: float
    floor_db: float
    voiced: bool


@dataclass(frozen=True, kw_only=True)
class SpeechStarted(Event):
    """An utterance opened."""

    type: ClassVar[str] = "speech_started"
    utterance: int
    at_s: float
    """Input clock (seconds since the microphone opened) of the decision."""


@dataclass(frozen=True, kw_only=True)
class SpeechPaused(Event):
    """A tentative end: the speaker paused, speculative work may start."""

    type: ClassVar[str] = "speech_paused"
    utterance: int
    at_s: float


@dataclass(frozen=True, kw_only=True)
class SpeechResumed(Event):
    """The speaker went on after a tentative end; speculative work was discarded."""

    type: ClassVar[str] = "speech_resumed"
    utterance: int
    at_s: float


@dataclass(frozen=True, kw_only=True)
class SpeechEnded(Event):
    """An utterance ended (``reason`` "silence", "max_length" or "end_of_input") or was
    dropped (any other reason, e.g. "too short")."""

    type: ClassVar[str] = "speech_ended"
    utterance: int
    at_s: float
    duration_s: float = 0.0
    reason: str = "silence"
    dropped: bool = False


@dataclass(frozen=True, kw_only=True)
class Transcript(Event):
    """What the user said or typed, and whether it starts a turn."""

    type: ClassVar[str] = "transcript"
    turn: int
    """The turn it starts; 0 when it starts none (rejected, or a spoken yes/no)."""
    text: str
    accepted: bool
    reason: str = ""
    """Why it was rejected (empty when accepted)."""
    source: Literal["voice", "typed"] = "voice"


@dataclass(frozen=True, kw_only=True)
class AssistantDelta(Event):
    """A piece of the reply as it streams."""

    type: ClassVar[str] = "assistant_delta"
    turn: int
    text: str


@dataclass(frozen=True, kw_only=True)
class AssistantText(Event):
    """The whole reply of a turn, once it is over."""

    type: ClassVar[str] = "assistant_text"
    turn: int
    text: str
    interrupted: bool = False


@dataclass(frozen=True, kw_only=True)
class TurnWithdrawn(Event):
    """A turn was withdrawn after its ``transcript``: its reply was stopped and nothing of it
    (question or reply) is kept in the history; show it as withdrawn, not as a turn that
    happened. Sent once per turn, after its ``assistant_text``."""

    type: ClassVar[str] = "turn_withdrawn"
    turn: int
    """The turn withdrawn."""
    reason: str = "speaker_went_on"
    """Why: "speaker_went_on" (the speaker went on after a pause taken for the end of the
    question; the whole of what they said is asked as the next turn)."""


@dataclass(frozen=True, kw_only=True)
class Reasoning(Event):
    """A piece of the model's reasoning (shown, never spoken)."""

    type: ClassVar[str] = "reasoning"
    turn: int
    text: str


@dataclass(frozen=True, kw_only=True)
class ToolCalled(Event):
    """The model called a tool; ``arguments`` is the JSON text it wrote."""

    type: ClassVar[str] = "tool_call"
    turn: int
    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True, kw_only=True)
class ToolResult(Event):
    """A tool call finished (or failed, or was declined)."""

    type: ClassVar[str] = "tool_result"
    turn: int
    call_id: str
    name: str
    ok: bool
    result: str


@dataclass(frozen=True, kw_only=True)
class ConfirmRequest(Event):
    """A tool with side effects waits for the user's yes or no (the ``confirm`` command)."""

    type: ClassVar[str] = "confirm_request"
    turn: int
    call_id: str
    name: str
    arguments: str
    question: str
    timeout_s: float | None = None


@dataclass(frozen=True, kw_only=True)
class ConfirmResolved(Event):
    """A confirmation was answered, timed out or cancelled."""

    type: ClassVar[str] = "confirm_resolved"
    call_id: str
    approved: bool
    by: Literal["user", "timeout", "cancel"] = "user"
