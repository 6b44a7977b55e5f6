"""Frozen settings loaded from TOML in the XDG config dir, overridden by the environment."""

from __future__ import annotations

import os
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from voiced.credentials import Secret, load_api_key
from voiced.errors import ConfigError

GROQ_API_ROOT = "https://api.groq.com/openai/v1"
"""The Groq API root every endpoint path is joined to."""

ReasoningEffort = Literal["low", "medium", "high"]


@dataclass(frozen=True)
class ChatSettings:
    """Settings for chat completions."""

    base_url: str = GROQ_API_ROOT
    """API root for chat (any OpenAI-compatible server works, e.g. http://localhost:8000/v1)."""
    model: str = "openai/gpt-oss-20b"
    """Chat model id."""
    temperature: float | None = None
    """Sampling temperature 0–2; unset uses the model's default."""
    max_completion_tokens: int | None = None
    """Upper bound on tokens in one reply; unset uses the model's limit."""
    reasoning_effort: ReasoningEffort | None = None
    """gpt-oss reasoning effort (low, medium, high); unset uses the model's default."""


@dataclass(frozen=True)
class SttSettings:
    """Settings for speech to text."""

    base_url: str = GROQ_API_ROOT
    """API root for transcription and translation."""
    model: str = "whisper-large-v3-turbo"
    """Transcription model id."""
    translation_model: str = "whisper-large-v3"
    """Translation model id (on Groq only whisper-large-v3 translates)."""
    language: str | None = None
    """ISO-639-1 language of the speech (e.g. "en"); unset lets Whisper detect it."""
    prompt: str | None = None
    """Vocabulary hint sent with every request (at most 896 characters)."""
    upload_limit_mb: float = 25.0
    """Largest file sent in one request, in MB (25 on Groq's free tier, 100 on paid tiers)."""
    chunk_max_s: float = 600.0
    """Longest piece of a long file sent in one request, in seconds: a file over the upload
    limit or longer than this is cut at silences and its pieces transcribed concurrently."""
    max_concurrent_uploads: int = 6
    """Pieces of a long file uploaded at the same time (1 sends them one after another)."""

    def __post_init__(self) -> None:
        if self.upload_limit_mb <= 0:
            raise ConfigError("[stt] upload_limit_mb must be more than 0")
        if self.chunk_max_s < 10:
            raise ConfigError("[stt] chunk_max_s must be at least 10 seconds")
        if not 1 <= self.max_concurrent_uploads <= 32:
            raise ConfigError("[stt] max_concurrent_uploads must be between 1 and 32")


@dataclass(frozen=True)
class NetworkSettings:
    """Settings for every HTTP request."""

    timeout: float = 60.0
    """Seconds to wait for a response before the request counts as timed out."""
    connect_timeout: float = 5.0
    """Seconds to wait for a connection."""
    max_retries: int = 2
    """Retries after a 408, 409, 429, 5xx, timeout or connection error."""


@dataclass(frozen=True)
class AudioSettings:
    """Settings for the microphone and the speaker."""

    input_device: int | str | None = None
    """Microphone: an index from `voiced devices`, or part of its name (case-insensitive,
    e.g. "USB"); unset uses the system default input."""
    output_device: int | str | None = None
    """Speaker: an index from `voiced devices`, or part of its name; unset uses the system
    default output."""
    capture_rate: int | None = None
    """Open the microphone at this rate in Hz and resample to 16 kHz; unset opens it at 16 kHz
    when it can, else at its default rate."""
    capture_block_ms: int = 60
    """Audio handed over per wake-up, in ms (a multiple of 30, at most 300): 30 hears the end
    of speech up to 30 ms sooner, 60 costs about half the CPU."""

    def __post_init__(self) -> None:
        if self.capture_rate is not None and not 8000 <= self.capture_rate <= 384000:
            raise ConfigError("[audio] capture_rate must be between 8000 and 384000 Hz")
        if self.capture_block_ms % 30 or not 30 <= self.capture_block_ms <= 300:
            raise ConfigError("[audio] capture_block_ms must be 30, 60, 90, … up to 300")
        for key in ("input_device", "output_device"):
            value = getattr(self, key)
            if isinstance(value, int) and value < 0:
                raise ConfigError(f"[audio] {key} must be a device index of 0 or more")


@dataclass(frozen=True)
class ConversationSettings:
    """Settings for the conversation: its prompt, its memory and when a new one starts."""

    system_prompt: str = ""
    """System prompt; empty uses the built-in one written for speech. The local date, time
    and timezone are always added to it."""
    history_token_budget: int = 8000
    """Most tokens of earlier turns sent with a question (also capped by the model's context
    window); beyond it the older turns are summarised by the model."""
    keep_recent_turns: int = 4
    """Latest turns always kept word for word when older ones are summarised."""
    idle_gap_minutes: float = 30.0
    """Minutes without a turn after which the next question starts a new conversation."""
    summary_model: str | None = None
    """Model that writes the summaries; unset uses [chat] model."""

    def __post_init__(self) -> None:
        if self.history_token_budget < 256:
            raise ConfigError("[conversation] history_token_budget must be at least 256")
        if self.keep_recent_turns < 1:
            raise ConfigError("[conversation] keep_recent_turns must be at least 1")
        if self.idle_gap_minutes <= 0:
            raise ConfigError("[conversation] idle_gap_minutes must be above 0")


@dataclass(frozen=True)
class ToolSettings:
    """Settings for the tools the model may call."""

    enabled: tuple[str, ...] = ()
    """Names of the tools offered to the model; empty offers every installed tool."""
    disabled: tuple[str, ...] = ()
    """Names of tools never offered to the model (wins over enabled)."""
    max_rounds: int = 8
    """Most model requests in one turn; past it the turn ends with an apology."""
    timeout: float = 30.0
    """Seconds one tool call may run before it is stopped (a tool may set its own)."""
    weather_geocoding_url: str = "https://geocoding-api.open-meteo.com/v1"
    """Open-Meteo geocoding API root (turns a place name into coordinates)."""
    weather_forecast_url: str = "https://api.open-meteo.com/v1"
    """Open-Meteo forecast API root."""
    notes_file: str = ""
    """Notes file of the notes tools; empty uses $XDG_DATA_HOME/voiced/notes.md."""
    open_command: str = "xdg-open"
    """Program that opens URLs for the open_url tool."""

    def __post_init__(self) -> None:
        if self.max_rounds < 1:
            raise ConfigError("[tools] max_rounds must be at least 1")
        if self.timeout <= 0:
            raise ConfigError("[tools] timeout must be above 0")


PHANTOM_PHRASES = (
    "Thank you.",
    "Thank you very much.",
    "Thanks for watching!",
    "Thank you for watching.",
    "Thanks for listening.",
    "Please subscribe.",
    "Like and subscribe.",
    "Bye.",
    "Bye-bye.",
    "you",
    "Oh.",
    "Subtitles by the Amara.org community",
    "Transcription by CastingWords",
)
"""What Whisper writes over silence, noise and breath; matched ignoring case and punctuation."""


@dataclass(frozen=True)
class ListenSettings:
    """Settings for hearing speech: cutting the microphone into utterances and judging
    their transcripts."""

    vad_aggressiveness: int = 2
    """webrtcvad aggressiveness 0–3: higher rejects more noise, and more quiet speech."""
    energy_margin_db: float = 6.0
    """A frame counts as voiced only this many dB above the adaptive noise floor."""
    min_level_db: float = -60.0
    """Frames quieter than this (dBFS RMS) never count as voiced, whatever the noise floor."""
    noise_window_s: float = 3.0
    """The noise floor is the quietest frame of the last this many seconds, so a steady noise
    that starts (a fan) stops counting as voiced within this time."""
    confirm_speech: bool = True
    """Confirm each would-be utterance with Silero VAD before it opens; this rejects the
    keyboard clicks, music and bursts of noise that webrtcvad takes for speech."""
    confirm_threshold: float = 0.5
    """Silero speech probability (0–1) a 32 ms chunk needs to count as speech."""
    confirm_ms: int = 64
    """Audio Silero must judge as speech before an utterance opens, in ms (32 ms chunks)."""
    confirm_end: bool = False
    """Let Silero end utterances too: a frame is voiced only while Silero also hears speech.
    Ends speech over music or TV (which otherwise runs on to max_utterance_s), for about
    0.7 % of a core while someone speaks; needs confirm_speech."""
    preroll_ms: int = 600
    """Audio kept from before the detected onset, so the first word is never clipped."""
    start_window_ms: int = 300
    """Window in which start_voiced_ms of voiced audio opens an utterance."""
    start_voiced_ms: int = 150
    """Voiced audio within start_window_ms needed to open an utterance."""
    tentative_end_ms: int = 250
    """Silence after which a tentative end is announced (so transcription can start early);
    also the silence kept at the end of every utterance."""
    hangover_ms: int = 700
    """Silence that ends an utterance."""
    min_voiced_ms: int = 250
    """Utterances with less voiced audio than this are dropped as clicks."""
    max_utterance_s: float = 30.0
    """Longest utterance; a longer one is cut at its quietest recent point and continues."""
    cut_search_s: float = 3.0
    """How far back from max_utterance_s the quietest point to cut at is looked for."""
    level_interval_ms: int = 100
    """Interval of the input level reports for meters."""
    no_speech_prob: float = 0.6
    """A transcript segment is rejected when its no_speech_prob is above this and its
    avg_logprob below no_speech_logprob (Whisper's own silence rule)."""
    no_speech_logprob: float = -0.5
    """See no_speech_prob."""
    max_no_speech_prob: float = 0.9
    """A segment whose no_speech_prob is above this is rejected whatever its avg_logprob."""
    min_avg_logprob: float = -1.0
    """A segment whose avg_logprob is below this is rejected as a guess."""
    max_compression_ratio: float = 2.4
    """A segment whose compression_ratio is above this is rejected as repetition."""
    phantom_phrases: tuple[str, ...] = PHANTOM_PHRASES
    """Transcripts made only of these phrases are rejected when the utterance is short or
    quiet (case, punctuation and repeats are ignored)."""
    phantom_max_s: float = 3.0
    """Utterances whose speech lasts less than this many seconds are short, for
    phantom_phrases."""
    phantom_quiet_db: float = -40.0
    """Utterances whose speech is quieter than this (dBFS RMS) are quiet, for phantom_phrases."""

    def __post_init__(self) -> None:
        if not 0 <= self.vad_aggressiveness <= 3:
            raise ConfigError("[listen] vad_aggressiveness must be 0, 1, 2 or 3")
        positive = ("confirm_ms", "start_window_ms", "start_voiced_ms", "tentative_end_ms")
        for key in (*positive, "hangover_ms", "min_voiced_ms", "level_interval_ms"):
            if getattr(self, key) <= 0:
                raise ConfigError(f"[listen] {key} must be above 0")
        for key in ("preroll_ms", "noise_window_s", "cut_search_s", "phantom_max_s"):
            if getattr(self, key) < 0:
                raise ConfigError(f"[listen] {key} must be 0 or more")
        for key in ("confirm_threshold", "no_speech_prob", "max_no_speech_prob"):
            if not 0 <= getattr(self, key) <= 1:
                raise ConfigError(f"[listen] {key} must be between 0 and 1")
        if self.start_voiced_ms > self.start_window_ms:
            raise ConfigError("[listen] start_voiced_ms must not exceed start_window_ms")
        if self.tentative_end_ms >= self.hangover_ms:
            raise ConfigError("[listen] tentative_end_ms must be shorter than hangover_ms")
        if not self.cut_search_s < self.max_utterance_s <= 600:
            raise ConfigError("[listen] max_utterance_s must be above cut_search_s and at most 600")


@dataclass(frozen=True)
class SpeechSettings:
    """Settings for speaking: the voice, its speed and loudness, and the earcons."""

    voice: str | None = None
    """espeak-ng voice: an id from `voiced voices` (e.g. "gmw/en-us"), a voice name or a
    language code; unset uses espeak-ng's default voice. The speaker is [audio] output_device."""
    rate: int = 175
    """Speaking rate in words per minute (80–450)."""
    volume: float = 1.0
    """Speech volume from 0.0 (silent) to 1.0 (full)."""
    earcons: bool = True
    """Play the short sounds for listening started, listening stopped and error."""

    def __post_init__(self) -> None:
        if not 80 <= self.rate <= 450:
            raise ConfigError("[speech] rate must be between 80 and 450 words per minute")
        if not 0.0 <= self.volume <= 1.0:
            raise ConfigError("[speech] volume must be between 0.0 and 1.0")


DaemonMode = Literal["always", "push_to_talk", "muted"]


@dataclass(frozen=True)
class DaemonSettings:
    """Settings for the running assistant: its control socket, when it listens, barge-in."""

    socket: str = ""
    """Control socket path; empty uses $XDG_RUNTIME_DIR/voiced/control.sock (the
    VOICED_SOCKET environment variable wins over both)."""
    mode: DaemonMode = "always"
    """How the daemon starts: "always" listening, "push_to_talk" (hears only while
    `voiced ptt start` … `stop` or the TUI's space key holds the microphone open), or "muted"."""
    barge_in: bool = True
    """Speaking over voiced stops its reply and starts a new turn; false gives half-duplex:
    the microphone is ignored while voiced speaks."""
    barge_in_min_ms: int = 300
    """Voiced audio needed while voiced speaks before it counts as barge-in (so a cough or
    "mhm" does not), when the microphone is echo-cancelled."""
    barge_in_echo_min_ms: int = 700
    """The same bar when the microphone is not echo-cancelled (voiced hears itself)."""
    echo_cancelled: bool | None = None
    """Whether the microphone is echo-cancelled; unset guesses from [audio] input_device or the
    sound server's default source (module-echo-cancel sources are named "echo…"). A replayed
    file never hears voiced. Without echo cancellation, transcripts of voiced's own words heard
    while it speaks are discarded."""
    wake_phrase: str | None = None
    """A phrase a transcript must start with to be answered (matched ignoring case and
    punctuation, e.g. "hey voiced"); unset answers everything heard."""
    wake_window_s: float = 30.0
    """After an answer, follow-ups within this many seconds need no wake phrase."""
    speculative: bool = True
    """Start transcription and the reply at the tentative end of speech, so the answer is
    ready when the end is confirmed (discarded if speech resumes)."""
    replay_turns: int = 10
    """Recent turns sent to a client (the TUI) when it connects."""

    def __post_init__(self) -> None:
        for key in ("barge_in_min_ms", "barge_in_echo_min_ms"):
            if getattr(self, key) < 0:
                raise ConfigError(f"[daemon] {key} must be 0 or more")
        if self.wake_window_s < 0:
            raise ConfigError("[daemon] wake_window_s must be 0 or more")
        if self.wake_phrase is not None and not self.wake_phrase.strip():
            raise ConfigError(
                "[daemon] wake_phrase is empty", "remove the key to answer without a wake phrase"
            )
        if self.replay_turns < 0:
            raise ConfigError("[daemon] replay_turns must be 0 or more")


@dataclass(frozen=True)
class Settings:
    """Everything voiced reads from its config file, credentials and environment."""

    chat: ChatSettings = field(default_factory=ChatSettings)
    stt: SttSettings = field(default_factory=SttSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    conversation: ConversationSettings = field(default_factory=ConversationSettings)
    tools: ToolSettings = field(default_factory=ToolSettings)
    listen: ListenSettings = field(default_factory=ListenSettings)
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    api_key: Secret | None = None
    """The Groq API key (GROQ_API_KEY or the credentials file); never in config.toml."""
    api_key_source: str = ""
    """Where the key came from, for ``voiced config``."""
    config_path: Path | None = None
    """The config file that was read, or None when there was none."""


SECTIONS: dict[str, type[Any]] = {
    "chat": ChatSettings,
    "stt": SttSettings,
    "network": NetworkSettings,
    "audio": AudioSettings,
    "conversation": ConversationSettings,
    "tools": ToolSettings,
    "listen": ListenSettings,
    "speech": SpeechSettings,
    "daemon": DaemonSettings,
}


def config_dir(env: typing.Mapping[str, str] | None = None) -> Path:
    """Return voiced's config directory, ``$XDG_CONFIG_HOME/voiced``.

    Args:
        env: The environment to read; defaults to ``os.environ``.
    """
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "voiced"


def config_path(env: typing.Mapping[str, str] | None = None) -> Path:
    """Return the config file to read: ``$VOICED_CONFIG`` or ``<config dir>/config.toml``."""
    env = os.environ if env is None else env
    named = env.get("VOICED_CONFIG")
    return Path(named) if named else config_dir(env) / "config.toml"


def data_dir(env: typing.Mapping[str, str] | None = None) -> Path:
    """Return voiced's data directory, ``$XDG_DATA_HOME/voiced`` (history, timers, notes).

    Args:
        env: The environment to read; defaults to ``os.environ``.
    """
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(
        Path(env.get("HOME", "~")).expanduser() / ".local" / "share"
    )
    return Path(base) / "voiced"


def load_settings(env: typing.Mapping[str, str] | None = None) -> Settings:
    """Load settings from the config file, the credentials file and the environment.

    Precedence: ``GROQ_API_KEY`` over the credentials file; a ``base_url`` set in the file
    over ``GROQ_BASE_URL`` over the default (the more specific setting wins).

    Args:
        env: The environment to read; defaults to ``os.environ``.

    Returns:
        The effective settings. The API key may be None: commands that need it ask for it.

    Raises:
        ConfigError: The file is malformed, has an unknown key or a value of the wrong type,
            or the credentials file is readable by others.
    """
    env = os.environ if env is None else env
    path = config_path(env)
    raw = _read_toml(path, must_exist="VOICED_CONFIG" in env)
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in SECTIONS:
            raise ConfigError(
                f"{path}: unknown section [{name}]",
                f"expected one of {', '.join('[' + s + ']' for s in SECTIONS)}",
            )
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {name} must be a [{name}] table, got {_kind(value)}")
        sections[name] = _build(path, name, SECTIONS[name], value)

    base_override = env.get("GROQ_BASE_URL", "").rstrip("/")
    for name in ("chat", "stt"):
        section = sections.get(name) or SECTIONS[name]()
        if base_override and "base_url" not in raw.get(name, {}):
            section = replace(section, base_url=base_override + "/openai/v1")
        sections[name] = section

    key, source = load_api_key(env, config_dir(env) / "credentials")
    return Settings(
        **sections,
        api_key=key,
        api_key_source=source,
        config_path=path if path.exists() else None,
    )


def _read_toml(path: Path, must_exist: bool) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        if must_exist:
            raise ConfigError(
                f"{path}: no such config file", "fix VOICED_CONFIG or create the file"
            ) from None
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc


def _build(path: Path, section: str, cls: type[Any], values: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    known = [f.name for f in fields(cls)]
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(
                f"{path}: unknown key [{section}] {key}", f"expected one of {', '.join(known)}"
            )
        expected = hints[key]
        if not _matches(value, expected):
            raise ConfigError(
                f"{path}: [{section}] {key} must be {_describe(expected)}, "
                f"got {_kind(value)} {value!r}"
            )
        kwargs[key] = _convert(value, expected)
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.message}", exc.hint) from None


def _convert(value: Any, tp: Any) -> Any:
    """TOML ints become floats where a float is wanted; arrays become tuples or lists."""
    for option in _options(tp):
        origin = typing.get_origin(option)
        if origin in (tuple, list) and isinstance(value, list):
            items = [_convert(v, _item_type(option)) for v in value]
            return tuple(items) if origin is tuple else items
    return float(value) if _wants_float(tp) and isinstance(value, int) else value


def _item_type(tp: Any) -> Any:
    """The item type of ``list[X]`` or ``tuple[X, ...]``."""
    return typing.get_args(tp)[0]


def _options(tp: Any) -> tuple[Any, ...]:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return tuple(a for a in typing.get_args(tp) if a is not type(None))
    return (tp,)


def _matches(value: Any, tp: Any) -> bool:
    for option in _options(tp):
        if typing.get_origin(option) is Literal:
            if value in typing.get_args(option):
                return True
        elif typing.get_origin(option) in (tuple, list):
            if isinstance(value, list) and all(_matches(v, _item_type(option)) for v in value):
                return True
        elif option is float:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return True
        elif option is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return True
        elif isinstance(value, option):
            return True
    return False


def _wants_float(tp: Any) -> bool:
    return float in _options(tp)


def _describe(tp: Any) -> str:
    words = []
    for option in _options(tp):
        if typing.get_origin(option) is Literal:
            words.append("one of " + ", ".join(repr(a) for a in typing.get_args(option)))
        elif typing.get_origin(option) in (tuple, list):
            item = _describe(_item_type(option))
            if item.startswith(("a ", "an ")):
                words.append(f"an array of {item.split(' ', 1)[1]}s")
            else:
                words.append(f"an array of values, each {item}")
        else:
            words.append(
                {str: "a string", int: "an integer", float: "a number"}.get(option, option.__name__)
            )
    return " or ".join(words)


def _kind(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)
