"""A second okay_nabu model that must agree before a detection of the first one counts.

pymicro-wakeword 2.5.0's okay_nabu (the model voiced listens with) wakes on near misses such
as "Okay, now then" or "Okay, go ahead". pymicro-wakeword 1.0.0 and 2.0.0 shipped another
okay_nabu model, trained differently (English only, 60 kB); it ships with voiced in
``voiced/wake/models/`` (Apache-2.0, see the README there) and is checked against its SHA-256
before it is loaded. It runs only on demand: when the first model detects the word, it hears
the last few seconds again from a cold start (the first model's gate replay, done at once),
and the detection stands only if its probability reached ``CUTOFF`` within ``BEFORE_S`` before
to ``AFTER_S`` after the first model's detection. While nothing is detected it costs one deque
append a frame.

Measured with ``bench/wake.py`` (espeak-ng voices, synthetic conversation and TV; figures in
docs/benchmarks.md): both models reach their cut-offs within about −240…+180 ms of each other
on the true word, and the second model scores the first one's false wakes far lower.
"""

from __future__ import annotations

import hashlib
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures

from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame
from voiced.config.wakemodel import WakeModel, read_model
from voiced.errors import ConfigError
from voiced.wake import engine

if TYPE_CHECKING:
    from voiced.wake.detector import WakeDetection

MODELS = Path(__file__).resolve().parent / "models"
"""The models voiced ships itself."""
VERIFIER = MODELS / "okay_nabu_v1.json"
VERIFIER_SHA256 = "0689abe1912a95a3318a0d8cb2e67bad0cbcfe3e24dd6e050c75debddfb6f891"
"""Of ``okay_nabu_v1.tflite``, as in the pymicro-wakeword 1.0.0 and 2.0.0 wheels."""
VERIFIES = "okay_nabu"
"""The bundled word the verifier is for (it hears no other)."""
CUTOFF = 0.90
"""The second model's probability must reach this. Chosen on the first 1.5 h false-wake corpus
only: the lowest cut-off in steps of 0.05 that refuses both its false wakes (their second-model
peaks 0.880 and 0.326 as verified here), while the true word reached it in 128 of 132 trials
(65/66 clean, 63/66 at 10 dB; the misses all one voice, en-gb-x-rp)."""
BEFORE_S = 0.3
"""The second model may have reached its cut-off this long before the first one's detection."""
AFTER_S = 0.3
"""… or this long after it: the detection waits at most this long for the verdict."""
MODEL_S = 3.5
"""Audio the second model hears before the detection: its state forgets what came earlier
within 1.5–2 s, and the word itself lasts up to about 1.5 s."""
WARMUP_S = 4.0
"""Audio before that which only the front end hears (its noise estimate settles in 4–6 s)."""


def verifier_model() -> WakeModel:
    """The verifier's model, its SHA-256 checked.

    Raises:
        ConfigError: The model is missing, unreadable or not the one voiced shipped.
    """
    model = read_model(VERIFIER, bundled=True)
    try:
        digest = hashlib.sha256(model.tflite.read_bytes()).hexdigest()
    except OSError as exc:
        raise ConfigError(
            f"{model.tflite}: cannot read the wake-word verifier: {exc.strerror}",
            "reinstall voiced: pip install -e .",
        ) from None
    if digest != VERIFIER_SHA256:
        raise ConfigError(
            f"{model.tflite}: the wake-word verifier is not the model voiced shipped "
            f"(sha256 {digest[:12]}…, expected {VERIFIER_SHA256[:12]}…)",
            "reinstall voiced (pip install -e .), or set [wake] verify = false",
        )
    return model


class _Check:
    """One detection of the first model being verified: a cold second model on the audio."""

    def __init__(self, model: WakeModel, detection: WakeDetection) -> None:
        self.detection = detection
        self.since = detection.end - round(BEFORE_S * SAMPLE_RATE)
        self.until = detection.end + round(AFTER_S * SAMPLE_RATE)
        self.features = MicroWakeWordFeatures()
        self.mww: MicroWakeWord = engine.load(model)
        self.best = 0.0

    def hear(self, frame: Frame, infer: bool) -> None:
        """Run the front end on ``frame`` and, if ``infer``, the model on its features."""
        features = list(self.features.process_streaming(frame.samples.tobytes()))
        if not infer:
            return
        probability = 0.0
        for feature in features:
            probability = max(probability, self.mww.process_streaming_prob(feature) or 0.0)
        if self.since <= frame.end <= self.until:
            self.best = max(self.best, probability)


class Verifier:
    """Confirms or refuses the first model's detections (see the module's docstring).

    Building one loads nothing: each check loads the second model afresh (about 1 ms, after
    TensorFlow Lite has verified it) and hears the kept audio again: about 12 ms of CPU a
    detection on this machine.

    Args:
        model: The second model (``verifier_model()``).
        cutoff: Its probability must reach this.
    """

    def __init__(self, model: WakeModel, cutoff: float = CUTOFF) -> None:
        self.model = model
        self.cutoff = cutoff
        keep = WARMUP_S + MODEL_S + 2.5  # + a replayed detection's lag (at most 2 s)
        self._frames: deque[Frame] = deque(maxlen=round(keep * SAMPLE_RATE / FRAME_SAMPLES))
        self._checks: list[_Check] = []
        self.confirmed = 0
        """Detections it let through since it was built."""
        self.refused = 0
        """Detections it refused since it was built."""
        self.refusals: deque[tuple[WakeDetection, float]] = deque(maxlen=64)
        """The latest refused detections, with the second model's best score, oldest first."""

    def reset(self) -> None:
        """Forget the stream and any check under way."""
        self._frames.clear()
        self._checks.clear()

    @property
    def checking(self) -> bool:
        """Whether a detection awaits its verdict."""
        return bool(self._checks)

    def feed(self, frame: Frame, found: list[WakeDetection]) -> list[WakeDetection]:
        """Hear one frame and the first model's detections that it completed; return the
        detections confirmed now, oldest first.

        A detection is confirmed in the frame in which the second model reaches the cut-off
        (at once when it had before the detection) and refused once ``AFTER_S`` has passed
        without it; it keeps its own score and positions.

        Raises:
            ConfigError: The second model's file no longer passes verification.
        """
        self._frames.append(frame)
        for check in self._checks:
            check.hear(frame, True)
        for detection in found:
            check = _Check(self.model, detection)
            first = check.since - round((MODEL_S - BEFORE_S + WARMUP_S) * SAMPLE_RATE)
            infer_from = first + round(WARMUP_S * SAMPLE_RATE)
            for old in self._frames:
                if old.end > first:
                    check.hear(old, old.end > infer_from)
            self._checks.append(check)
        confirmed: list[WakeDetection] = []
        waiting: list[_Check] = []
        for check in self._checks:
            if check.best >= self.cutoff:
                self.confirmed += 1
                confirmed.append(check.detection)
            elif frame.end >= check.until:
                self.refused += 1
                self.refusals.append((check.detection, check.best))
            else:
                waiting.append(check)
        self._checks = waiting
        return confirmed
