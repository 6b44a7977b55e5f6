"""Settings for the microphone, the speaker, listening and speaking."""

from __future__ import annotations

from dataclasses import dataclass

from voiced.errors import ConfigError


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
    quiet_wait_ms: int = 300
    """While nothing is being heard, audio too quiet to be speech is handed over in batches of
    up to this many ms (louder audio at once, with what waited); 0 hands every block over."""

    def __post_init__(self) -> None:
        if self.capture_rate is not None and not 8000 <= self.capture_rate <= 384000:
            raise ConfigError("[audio] capture_rate must be between 8000 and 384000 Hz")
        if self.capture_block_ms % 30 or not 30 <= self.capture_block_ms <= 300:
            raise ConfigError("[audio] capture_block_ms must be 30, 60, 90, … up to 300")
        if not 0 <= self.quiet_wait_ms <= 1000:
            raise ConfigError("[audio] quiet_wait_ms must be between 0 and 1000")
        for key in ("input_device", "output_device"):
            value = getattr(self, key)
            if isinstance(value, int) and value < 0:
                raise ConfigError(f"[audio] {key} must be a device index of 0 or more")


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
