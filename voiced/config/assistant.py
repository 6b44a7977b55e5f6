"""Settings for the conversation, the tools and the daemon."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from voiced.config.api import MODEL_ID
from voiced.config.checks import (
    Command,
    FilePath,
    Names,
    Text,
    Url,
    above,
    at_least,
    between,
    check_fields,
    setting,
)


@dataclass(frozen=True)
class ConversationSettings:
    """Settings for the conversation: its prompt, its memory and when a new one starts."""

    system_prompt: str = setting("", Text(empty_ok=True, multiline=True))
    """System prompt; empty uses the built-in one written for speech. The local date, time
    and timezone are always added to it."""
    history_token_budget: int = setting(8000, at_least(256, at_most=10_000_000, unit="tokens"))
    """Most tokens of earlier turns sent with a question (also capped by the model's context
    window); beyond it the older turns are summarised by the model."""
    keep_recent_turns: int = setting(4, at_least(1, at_most=1000))
    """Latest turns always kept word for word when older ones are summarised."""
    idle_gap_minutes: float = setting(30.0, above(0, at_most=525_600, unit="minutes"))
    """Minutes without a turn after which the next question starts a new conversation."""
    summary_model: str | None = setting(None, MODEL_ID)
    """Model that writes the summaries; unset uses [chat] model."""

    def __post_init__(self) -> None:
        check_fields(self, "conversation")


@dataclass(frozen=True)
class ToolSettings:
    """Settings for the tools the model may call."""

    enabled: tuple[str, ...] = setting((), Names())
    """Names of the tools offered to the model; empty offers every installed tool."""
    disabled: tuple[str, ...] = setting((), Names())
    """Names of tools never offered to the model (wins over enabled)."""
    max_rounds: int = setting(8, at_least(1, at_most=100))
    """Most model requests in one turn; past it the turn ends with an apology."""
    timeout: float = setting(30.0, above(0, at_most=3600, unit="seconds"))
    """Seconds one tool call may run before it is stopped (a tool may set its own)."""
    weather_geocoding_url: str = setting("https://geocoding-api.open-meteo.com/v1", Url())
    """Open-Meteo geocoding API root (turns a place name into coordinates)."""
    weather_forecast_url: str = setting("https://api.open-meteo.com/v1", Url())
    """Open-Meteo forecast API root."""
    notes_file: str = setting("", FilePath())
    """Notes file of the notes tools; empty uses $XDG_DATA_HOME/voiced/notes.md."""
    open_command: str = setting("xdg-open", Command())
    """Program that opens URLs for the open_url tool."""
    voice_confirm: bool = False
    """Let the daemon's side-effect tools also be allowed by voice, with a phrase that names
    the action ("yes, open it") begun within voice_confirm_window_s after voiced asked. Off:
    only the keyboard allows them (the TUI's y; `voiced ask` on a terminal). A spoken "no"
    or "cancel" refuses either way."""
    voice_confirm_window_s: float = setting(10.0, above(0, at_most=15, unit="seconds"))
    """Seconds after voiced finished asking in which a spoken answer may begin (at most 15)."""

    def __post_init__(self) -> None:
        check_fields(self, "tools")


DaemonMode = Literal["wake", "always", "push_to_talk", "muted"]

SOCKET_PATH_BYTES = 107
"""Longest Unix socket path Linux binds (sun_path is 108 bytes with its final NUL)."""


@dataclass(frozen=True)
class DaemonSettings:
    """Settings for the running assistant: its control socket, when it listens, barge-in."""

    socket: str = setting("", FilePath(max_bytes=SOCKET_PATH_BYTES))
    """Control socket path; empty uses $XDG_RUNTIME_DIR/voiced/control.sock, or without a
    private runtime directory $XDG_CACHE_HOME/voiced/control.sock (the VOICED_SOCKET
    environment variable wins over all)."""
    mode: DaemonMode = "wake"
    """How the daemon starts: "wake" (listens on this machine for the wake word of ``[wake]``
    and sends nothing anywhere until it hears it: see the privacy rule in the README),
    "always" (answers every utterance it hears, so every one is uploaded), "push_to_talk"
    (hears only while `voiced ptt start` … `stop` or the TUI's space key holds the microphone
    open), or "muted"."""
    barge_in: bool = True
    """Speaking over voiced stops its reply and starts a new turn; false gives half-duplex:
    the microphone is ignored while voiced speaks."""
    barge_in_min_ms: int = setting(300, between(0, 5000, "ms"))
    """Voiced audio needed while voiced speaks before it counts as barge-in (so a cough or
    "mhm" does not), when the microphone is echo-cancelled."""
    rejoin_heard_ms: int = setting(500, between(0, 5000, "ms"))
    """With ``[listen] turn_rejoin_ms``: when the speaker goes on after a thinking pause that
    was taken for the end, the turn answering the first part is withdrawn and the whole is
    asked as one question while no reply audio has played, or, with the microphone
    echo-cancelled (so the speech is the user's), while less than this much of the reply
    has (the withdrawal then waits for barge_in_min_ms of the speech). 0: only before any."""
    rejoin_hold: bool = True
    """With ``[listen] turn_rejoin_ms``: when the turn model ended an utterance early and its
    transcript sounds unfinished (it ends on a word like "the", "to", "and", trails off or has
    no final mark), the reply's first audio waits until speech can no longer rejoin it (the
    request and the speech go on meanwhile), so going on after the pause withdraws the turn
    before a word of it is heard, with echo cancellation or without; false plays it at once."""
    barge_in_echo_min_ms: int = setting(700, between(0, 5000, "ms"))
    """The same bar when the microphone is not echo-cancelled (voiced hears itself); then the
    reply is only paused until the transcript shows whether it was voiced's own voice."""
    echo_cancelled: bool | None = None
    """Whether the microphone is echo-cancelled; unset guesses from [audio] input_device or the
    sound server's default source (module-echo-cancel sources are named "echo…"). A replayed
    file never hears voiced. Without echo cancellation, transcripts of voiced's own words heard
    while it speaks are discarded."""
    wake_phrase: str | None = setting(
        None, Text(hint="remove the key to answer without a wake phrase")
    )
    """A phrase a transcript must start with to be answered (matched ignoring case and
    punctuation, e.g. "hey voiced"); unset answers everything heard."""
    wake_window_s: float = setting(30.0, between(0, 3600, "seconds"))
    """After an answer, follow-ups within this many seconds need no wake phrase."""
    speculative: bool = True
    """Start transcription and the reply at the tentative end of speech, so the answer is
    ready when the end is confirmed (discarded if speech resumes)."""
    speculate_after_ms: int = setting(200, above(0, at_most=10_000, unit="ms"))
    """Silence after which the speculative turn starts: the daemon's tentative end of speech
    ([listen] tentative_end_ms is voiced listen's). Transcription (about 300 ms on Groq) and the
    first token (about 200 ms) must fit in the hangover after it, so the answer is ready when the
    end is confirmed. The utterance sent ends this long after its last voiced frame: at 150 ms a
    weak final consonant in loud noise lost its last 100 ms in the segmenter's recordings, at 200
    ms none did. A pause this long inside a sentence costs one discarded transcription."""
    replay_turns: int = setting(10, between(0, 1000))
    """Recent turns sent to a client (the TUI) when it connects."""

    def __post_init__(self) -> None:
        check_fields(self, "daemon")
