"""Settings for the microphone, the speaker, listening and speaking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from voiced.config.api import GROQ_API_ROOT, MODEL_ID
from voiced.config.checks import (
    Device,
    Names,
    Text,
    Url,
    above,
    between,
    check_fields,
    setting,
    steps,
)
from voiced.errors import ConfigError

OUTPUT_LATENCY_MS = 35
"""How far ahead the speaker is fed by default, in ms ([audio] output_latency_ms)."""

SpeechEngine = Literal["espeak", "groq"]
EchoCancel = Literal["auto", "on", "off"]

ORPHEUS_VOICES: dict[str, tuple[str, ...]] = {
    "canopylabs/orpheus-v1-english": ("autumn", "diana", "hannah", "austin", "daniel", "troy"),
    "canopylabs/orpheus-arabic-saudi": ("abdullah", "fahad", "sultan", "lulwa", "noura", "aisha"),
}
"""The voices of Groq's Orpheus speech models (Groq has no endpoint that lists them)."""


@dataclass(frozen=True)
class AudioSettings:
    """Settings for the microphone and the speaker."""

    input_device: int | str | None = setting(None, Device())
    """Microphone: an index from `voiced devices`, or part of its name (case-insensitive,
    e.g. "USB"); unset uses the system default input."""
    output_device: int | str | None = setting(None, Device())
    """Speaker: an index from `voiced devices`, or part of its name; unset uses the system
    default output."""
    output_latency_ms: int = setting(OUTPUT_LATENCY_MS, between(5, 500, "ms"))
    """How far ahead the speaker is fed, in ms (PortAudio's output latency): a reply keeps
    playing smoothly through a stall this long on a busy machine, and starts this much later.
    Stopping, holding and speech over a reply drop what is buffered at once, whatever its
    size. 35 is PortAudio's "high" on ALSA; 9, its "low", crackled beside a CPU-bound test run
    (a real-time thread overslept by up to 16 ms there)."""
    capture_rate: int | None = setting(None, between(8000, 384000, "Hz"))
    """Open the microphone at this rate in Hz and resample to 16 kHz; unset opens it at 16 kHz
    when it can, else at its default rate."""
    capture_block_ms: int = setting(60, steps(30, 300, 30, "ms"))
    """Audio handed over per wake-up while voiced is silent, in ms (a multiple of 30, at most
    300): 30 hears the end of speech up to 30 ms sooner, but listening to silence then costs
    about 1 % of a core instead of 0.6 %; 60 keeps that under the 1 % budget."""
    speaking_block_ms: int = setting(30, steps(30, 300, 30, "ms"))
    """Audio handed over per wake-up from a turn's start to its reply's end: 30 hears speech
    over a reply sooner (with voiced's own echo canceller a barge-in falls silent in about
    350 ms instead of 400). The switch opens a second stream on the microphone that takes
    over without losing a sample; set it to ``capture_block_ms`` to never switch."""
    quiet_wait_ms: int = setting(300, between(0, 1000, "ms"))
    """While nothing is being heard, audio too quiet to be speech is handed over in batches of
    up to this many ms (louder audio at once, with what waited); 0 hands every block over."""
    echo_cancel: EchoCancel = "auto"
    """Take voiced's own voice out of what the microphone hears, in-process (WebRTC AEC3, fed
    with exactly what voiced plays): "on", "off", or "auto": on unless the microphone is
    already an echo-cancelled source (PulseAudio/PipeWire echo-cancel) or the speaker is a
    headset (told by its name, form factor or port, as pactl reports them). With it on,
    speech over a reply stops it after [daemon] barge_in_min_ms; off, the reply is held until
    the transcript says whose voice it was."""
    echo_min_erle_db: float = setting(20.0, between(0, 60, "dB"))
    """Echo reduction (ERLE) the canceller must reach before speech over a reply is taken for
    the user's at once; below it (still adapting to the room, or the speaker is not the one it
    is fed from) speech over a reply is held and judged by its transcript, as with it off."""

    def __post_init__(self) -> None:
        check_fields(self, "audio")


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

    vad_aggressiveness: int = setting(2, steps(0, 3))
    """webrtcvad aggressiveness 0–3: higher rejects more noise, and more quiet speech."""
    energy_margin_db: float = setting(6.0, between(0, 60, "dB"))
    """A frame counts as voiced only this many dB above the adaptive noise floor."""
    min_level_db: float = setting(-60.0, between(-150, 0, "dBFS"))
    """Frames quieter than this (dBFS RMS) never count as voiced, whatever the noise floor."""
    noise_window_s: float = setting(3.0, between(0, 600, "seconds"))
    """The noise floor is the quietest frame of the last this many seconds, so a steady noise
    that starts (a fan) stops counting as voiced within this time."""
    confirm_speech: bool = True
    """Confirm each would-be utterance with Silero VAD before it opens; this rejects the
    keyboard clicks, music and bursts of noise that webrtcvad takes for speech."""
    confirm_threshold: float = setting(0.5, between(0, 1))
    """Silero speech probability (0–1) a 32 ms chunk needs to count as speech."""
    confirm_ms: int = setting(64, above(0, at_most=1000, unit="ms"))
    """Audio Silero must judge as speech before an utterance opens, in ms (32 ms chunks)."""
    confirm_end: bool = True
    """End utterances on speech evidence, not on the sound level: inside an utterance a frame
    is voiced only while Silero hears speech, so speech over music or TV ends on the last word
    and a quiet speaker right after start-up keeps every word (webrtcvad has not learned the
    room yet); about 1 % of a core while someone speaks; needs confirm_speech. False ends
    utterances on webrtcvad and the energy gate alone."""
    turn_model: bool = True
    """Judge at the first short silence whether the speaker has finished, with the Smart Turn
    v3.2 audio model (shipped with voiced, run with onnxruntime): a finished turn is
    transcribed at once and ends after turn_complete_ms, an unfinished one waits up to
    turn_incomplete_ms; false ends every utterance after hangover_ms of silence."""
    turn_check_ms: int = setting(60, above(0, at_most=2000, unit="ms"))
    """Silence after which the turn model judges the utterance so far, once a pause: a turn
    that sounds finished is sent for transcription at once. Shorter than a pause between
    words, longer than a dip inside one; judged much later it hears any long silence as a
    finished turn."""
    turn_send_at_check: bool = True
    """With the turn model: send the utterance so far for transcription (the tentative end,
    and in the daemon the speculative turn) at the first short silence, while the model
    judges it, rather than once it says "finished" or after tentative_end_ms; the judgement
    (30–100 ms on a small machine) is then off the reply's critical path. Costs an upload
    at each pause of turn_check_ms inside a sentence (about 0.3 a question), dropped when
    the speaker goes on."""
    turn_text: bool = True
    """With the turn model and speculation: when the model held a pause open (unfinished or
    unsure) and the early transcript of the utterance so far comes back ending in a question
    mark (not after an article, possessive or conjunction), the turn ends as a finished one
    the model is sure of would (after turn_complete_ms of quiet, or at once if that has
    passed). False: only the model decides."""
    turn_complete: float = setting(0.5, between(0, 1))
    """Turn-model probability (0–1) at or above which the turn is finished."""
    turn_sure: float = setting(0.9, between(0, 1))
    """Turn-model probability at or above which a finished turn ends after turn_complete_ms;
    below it, the less sure the model, the longer the wait, up to hangover_ms at
    turn_complete (set it to turn_complete for one wait)."""
    turn_incomplete: float = setting(0.2, between(0, 1))
    """Turn-model probability below which the turn is unfinished (between the two: unsure,
    ended after hangover_ms)."""
    turn_complete_ms: int = setting(400, above(0, at_most=10_000, unit="ms"))
    """Silence that ends a finished turn (it was sent for transcription at once)."""
    turn_incomplete_ms: int = setting(1200, above(0, at_most=10_000, unit="ms"))
    """Silence that ends an unfinished turn: a thinking pause shorter than this is not cut."""
    turn_rejoin_ms: int = setting(1000, between(0, 10_000, "ms"))
    """With the turn model: speech that begins within this much silence after the last word
    of an utterance that was ended early (the model heard a finished turn in a thinking
    pause) rejoins it, and the whole (first part, pause, rest) is one utterance again. In the
    daemon the turn answering the first part is withdrawn (stopped, kept out of the history)
    while no reply audio has played yet, or, with the echo cancelled, less than
    ``[daemon] rejoin_heard_ms`` of it; otherwise the speech is a new utterance (``[daemon]
    rejoin_hold`` keeps the reply to a question that sounds unfinished silent until then). 0: never.
    ``voiced listen`` never rejoins (it prints each utterance as it ends)."""
    preroll_ms: int = setting(600, between(0, 10_000, "ms"))
    """Audio kept from before the detected onset, so the first word is never clipped."""
    start_window_ms: int = setting(300, above(0, at_most=10_000, unit="ms"))
    """Window in which start_voiced_ms of voiced audio opens an utterance."""
    start_voiced_ms: int = setting(150, above(0, at_most=10_000, unit="ms"))
    """Voiced audio within start_window_ms needed to open an utterance."""
    tentative_end_ms: int = setting(250, above(0, at_most=10_000, unit="ms"))
    """Silence after which a tentative end is announced (so transcription can start early);
    also the silence kept at the end of every utterance."""
    hangover_ms: int = setting(700, above(0, at_most=10_000, unit="ms"))
    """Silence that ends an utterance."""
    min_voiced_ms: int = setting(250, above(0, at_most=10_000, unit="ms"))
    """Utterances with less voiced audio than this are dropped as clicks."""
    max_utterance_s: float = setting(30.0, above(0, at_most=600, unit="seconds"))
    """Longest utterance; a longer one is cut at its quietest recent point and continues."""
    cut_search_s: float = setting(3.0, between(0, 600, "seconds"))
    """How far back from max_utterance_s the quietest point to cut at is looked for."""
    level_interval_ms: int = setting(100, between(10, 10_000, "ms"))
    """Interval of the input level reports for meters."""
    no_speech_prob: float = setting(0.6, between(0, 1))
    """A transcript segment is rejected when its no_speech_prob is above this and its
    avg_logprob below no_speech_logprob (Whisper's own silence rule)."""
    no_speech_logprob: float = setting(-0.5, between(-100, 0))
    """See no_speech_prob."""
    max_no_speech_prob: float = setting(0.9, between(0, 1))
    """A segment whose no_speech_prob is above this is rejected whatever its avg_logprob."""
    min_avg_logprob: float = setting(-1.0, between(-100, 0))
    """A segment whose avg_logprob is below this is rejected as a guess."""
    max_compression_ratio: float = setting(2.4, above(0, at_most=100))
    """A segment whose compression_ratio is above this is rejected as repetition."""
    phantom_phrases: tuple[str, ...] = setting(PHANTOM_PHRASES, Names())
    """Transcripts made only of these phrases are rejected when the utterance is quiet, or
    short and doubtful: Whisper's own metadata doubts it (phantom_no_speech_prob,
    phantom_min_logprob) or its speech lasts less than phantom_min_s; without metadata (a
    plain json transcript) every short one is rejected. Case, punctuation and repeats are
    ignored. A clearly spoken "Thank you." is kept."""
    phantom_no_speech_prob: float = setting(0.06, between(0, 1))
    """A phantom phrase in a short utterance is doubtful when a segment's no_speech_prob is
    above this (Whisper scores a real "thank you" below 0.02, the ones it invents above)."""
    phantom_min_logprob: float = setting(-0.5, between(-100, 0))
    """A phantom phrase in a short utterance is doubtful when a segment's avg_logprob is below
    this."""
    phantom_min_s: float = setting(0.4, between(0, 600, "seconds"))
    """A phantom phrase whose speech lasts less than this many seconds is doubtful."""
    phantom_max_s: float = setting(3.0, between(0, 600, "seconds"))
    """Utterances whose speech lasts less than this many seconds are short, for
    phantom_phrases."""
    phantom_quiet_db: float = setting(-40.0, between(-150, 0, "dBFS"))
    """Utterances whose speech is quieter than this (dBFS RMS) are quiet, for phantom_phrases."""

    def __post_init__(self) -> None:
        check_fields(self, "listen")
        if self.start_voiced_ms > self.start_window_ms:
            raise ConfigError(
                "[listen] start_voiced_ms must not exceed start_window_ms "
                f"({self.start_voiced_ms} > {self.start_window_ms})"
            )
        if self.tentative_end_ms >= self.hangover_ms:
            raise ConfigError(
                "[listen] tentative_end_ms must be shorter than hangover_ms "
                f"({self.tentative_end_ms} >= {self.hangover_ms})"
            )
        if not self.turn_complete <= self.turn_sure:
            raise ConfigError(
                "[listen] turn_sure must not be below turn_complete "
                f"({self.turn_sure} < {self.turn_complete})"
            )
        if self.turn_incomplete > self.turn_complete:
            raise ConfigError(
                "[listen] turn_incomplete must not exceed turn_complete "
                f"({self.turn_incomplete} > {self.turn_complete})"
            )
        if not self.turn_check_ms < self.turn_complete_ms <= self.turn_incomplete_ms:
            raise ConfigError(
                "[listen] turn_check_ms < turn_complete_ms <= turn_incomplete_ms must hold "
                f"({self.turn_check_ms}, {self.turn_complete_ms}, {self.turn_incomplete_ms})"
            )
        if self.cut_search_s >= self.max_utterance_s:
            raise ConfigError(
                "[listen] max_utterance_s must be above cut_search_s "
                f"({self.max_utterance_s} <= {self.cut_search_s})"
            )


@dataclass(frozen=True)
class SpeechSettings:
    """Settings for speaking: the voice, its speed and loudness, and the earcons."""

    voice: str | None = setting(None, Text())
    """espeak-ng voice: an id from `voiced voices` (e.g. "gmw/en-us"), a voice name or a
    language code; unset uses espeak-ng's default voice. The speaker is [audio] output_device."""
    rate: int = setting(175, between(80, 450, "words per minute"))
    """Speaking rate in words per minute (80–450)."""
    volume: float = setting(1.0, between(0.0, 1.0))
    """Speech volume from 0.0 (silent) to 1.0 (full)."""
    earcons: bool = True
    """Play the short sounds for listening started, listening stopped and error."""
    engine: SpeechEngine = "espeak"
    """Who speaks: "espeak" (espeak-ng on this machine: offline, unlimited, robotic) or
    "groq" (Groq's neural Orpheus voices over the network, one request per sentence; falls
    back to espeak-ng for the rest of a reply when Groq fails or is slow)."""
    groq_model: str = setting("canopylabs/orpheus-v1-english", MODEL_ID)
    """Groq speech model for engine = "groq" (its terms must be accepted once in Groq's
    console): canopylabs/orpheus-v1-english or canopylabs/orpheus-arabic-saudi."""
    groq_voice: str = setting("troy", Text(max_chars=100))
    """Voice of groq_model (`voiced voices --engine groq`), e.g. "troy", "autumn"."""
    groq_first_byte_s: float = setting(1.5, above(0, at_most=30, unit="seconds"))
    """Seconds Groq may take to start sending a sentence's audio (retries included) before
    that sentence and the rest of the reply are said by espeak-ng instead."""
    base_url: str = setting(GROQ_API_ROOT, Url())
    """API root for engine = "groq" (GROQ_BASE_URL applies here too)."""

    def __post_init__(self) -> None:
        check_fields(self, "speech")
        voices = ORPHEUS_VOICES.get(self.groq_model)
        if voices is not None and self.groq_voice not in voices:
            raise ConfigError(
                f"[speech] groq_voice must be one of {', '.join(voices)} for "
                f"{self.groq_model}, got {self.groq_voice!r}",
                "run `voiced voices --engine groq` to list them",
            )
