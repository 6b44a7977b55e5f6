"""What the daemon reports beside the conversation: speech out, timings, costs, errors, status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from voiced.protocol.events import Event, Mode, State, StopReason


@dataclass(frozen=True, kw_only=True)
class ModelsChanged(Event):
    """The models in use changed (``set_model`` or a reload)."""

    type: ClassVar[str] = "models"
    chat_model: str
    stt_model: str


@dataclass(frozen=True, kw_only=True)
class SpeakingStarted(Event):
    """The first audio of a reply went to the speaker."""

    type: ClassVar[str] = "speaking_started"
    turn: int


@dataclass(frozen=True, kw_only=True)
class SpeakingStopped(Event):
    """Playback of a reply ended, because it was done or stopped."""

    type: ClassVar[str] = "speaking_stopped"
    turn: int
    reason: StopReason = "done"


@dataclass(frozen=True, kw_only=True)
class Timeline(Event):
    """A turn's latency marks, in ms after the end of speech (where the voice stopped).

    A mark is None when the turn never reached it (a typed turn has no end of speech, so its
    marks count from when the text arrived).
    """

    type: ClassVar[str] = "timeline"
    turn: int
    speculative: bool
    """Whether the answer came from work started at the tentative end."""
    speech_end_s: float | None = None
    """Input clock of the end of speech, in seconds."""
    end_confirmed_ms: float | None = None
    transcript_ms: float | None = None
    first_token_ms: float | None = None
    first_clause_ms: float | None = None
    first_audio_ms: float | None = None
    echo_erle_db: float | None = None
    """How much the in-process echo canceller took voiced's own voice out of the microphone
    over the reply (ERLE, dB); None when it is off or heard too little of the reply."""


@dataclass(frozen=True, kw_only=True)
class ErrorReport(Event):
    """Something failed; the daemon goes on. ``code`` is a short machine-readable kind."""

    type: ClassVar[str] = "error"
    code: str
    message: str
    hint: str = ""
    turn: int | None = None


@dataclass(frozen=True, kw_only=True)
class RateLimitSnapshot(Event):
    """What the latest Groq response said about the rate limits."""

    type: ClassVar[str] = "ratelimit"
    remaining_requests: int | None = None
    limit_requests: int | None = None
    remaining_tokens: int | None = None
    limit_tokens: int | None = None
    reset_requests_s: float | None = None
    reset_tokens_s: float | None = None


@dataclass(frozen=True, kw_only=True)
class UsageReport(Event):
    """What one request cost. Transcriptions are billed as at least 10 s of audio."""

    type: ClassVar[str] = "usage"
    turn: int
    kind: Literal["stt", "chat"]
    model: str
    audio_s: float = 0.0
    billed_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    """None when the model's price is unknown."""
    session_cost_usd: float = 0.0


@dataclass(frozen=True, kw_only=True)
class HistoryEntry:
    """One line of the recent conversation."""

    turn: int
    """Turns of this daemon count from 1; turns stored before it started are 0, -1, …"""
    role: Literal["user", "assistant", "tool"]
    text: str
    name: str = ""
    """The tool's name, for tool entries."""
    ok: bool = True
    """False for a tool entry whose call failed or was declined (``text`` says why)."""


@dataclass(frozen=True, kw_only=True)
class History(Event):
    """The recent conversation, sent to a client right after the greeting (followed by any
    confirmation still waiting for an answer, as its ``confirm_request``)."""

    type: ClassVar[str] = "history"
    entries: tuple[HistoryEntry, ...] = ()


@dataclass(frozen=True, kw_only=True)
class McpServerLine:
    """How one MCP tool server is doing, for ``status``."""

    name: str
    state: Literal["starting", "ready", "failed", "disabled"]
    tools: int = 0
    """Its tools offered to the model, when ready."""
    skipped: int = 0
    """Its tools that are not offered (a schema voiced cannot check)."""
    reason: str = ""
    """Why it failed (it is started again after a backoff)."""


@dataclass(frozen=True, kw_only=True)
class Status(Event):
    """The daemon's whole state, the answer to the ``status`` command."""

    type: ClassVar[str] = "status"
    id: str = ""
    """The ``id`` of the command this answers."""
    state: State
    mode: Mode
    ptt: bool
    chat_model: str
    stt_model: str
    barge_in: bool
    speculative: bool
    wake_word: str = ""
    """The wake word's phrase (e.g. "Okay Nabu"), which "wake" mode listens for."""
    wake_phrase: str | None = None
    awake: bool = True
    """Whether a follow-up needs no wake phrase right now."""
    clients: int = 0
    uptime_s: float = 0.0
    session_cost_usd: float = 0.0
    version: str = ""
    pid: int = 0
    mcp: tuple[McpServerLine, ...] = ()
    """The MCP tool servers configured."""
    echo: str = ""
    """How the daemon keeps from hearing itself (in-process echo cancellation on or off, and
    why), on one line; "" before the pipeline is up."""
    echo_erle_db: float | None = None
    """The in-process echo canceller's echo reduction over the last reply (dB), or None."""


@dataclass(frozen=True, kw_only=True)
class UserAnswer(Event):
    """The answer to an ``ask_user`` command (``id`` is that command's), or why there is none."""

    type: ClassVar[str] = "user_answer"
    id: str
    question: str
    answered: bool
    text: str = ""
    """What the user said (or typed), when answered."""
    source: Literal["voice", "typed", ""] = ""
    reason: str = ""
    """Why there is no answer: the time ran out, it was cancelled, the microphone was muted."""


@dataclass(frozen=True, kw_only=True)
class Ack(Event):
    """The answer to every command: done, or refused with the reason."""

    type: ClassVar[str] = "ack"
    id: str
    command: str
    ok: bool
    message: str = ""


@dataclass(frozen=True, kw_only=True)
class LogRecord(Event):
    """A line for the TUI's log pane."""

    type: ClassVar[str] = "log"
    level: Literal["debug", "info", "warning", "error"]
    message: str


@dataclass(frozen=True, kw_only=True)
class Goodbye(Event):
    """The daemon is closing the connection (stopping, or the client is too slow)."""

    type: ClassVar[str] = "goodbye"
    reason: str
