"""Hears the wake word in a stream of frames: frames in, detections out, no I/O and no clocks."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pymicro_wakeword import MicroWakeWordFeatures

from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame
from voiced.config.wakemodel import WakeModel
from voiced.listen.vad import level_db
from voiced.wake import engine
from voiced.wake.verify import VERIFIES, Verifier, verifier_model

if TYPE_CHECKING:
    from voiced.config.wake import WakeSettings

_INT16 = np.dtype(np.int16)
STEP = SAMPLE_RATE // 100
"""Samples between two feature frames of the front end (10 ms)."""
WINDOW = 3 * STEP
"""Samples in one feature frame's window (30 ms): a stream's first feature ends here."""

HOLD_S = 1.0
"""After the last frame at or above the quiet level, the model keeps listening this long: it
decides up to about 0.5 s after the word ends, and a word's last sounds may be quiet."""
CONTEXT_S = 2.0
"""Audio the model hears again before the first loud frame after a quiet spell. Measured on
the bundled models: its state forgets what came before within 1.5–2 s, so with this much the
scores are those of a model that heard everything."""
WARMUP_S = 6.0
"""Audio the front end hears again (features only) before that context: its noise estimate
takes 4–6 s to settle after speech, and the models are sensitive to it in quiet audio."""
RISE_LEVEL = 0.01
"""A windowed probability above this counts as the model starting to hear the word."""
RISE_LEAD_S = 0.7
"""The model's probability starts to rise 0.4–0.7 s into the word (espeak-ng voices at
140–210 words a minute, all four bundled words), so a word starts about this much earlier."""


@dataclass(frozen=True, slots=True)
class WakeDetection:
    """The wake word was heard. Positions are samples on the input's clock."""

    score: float
    """The windowed probability that passed the cut-off (0–1)."""
    start: int
    """Estimated start of the word: this much before the probability began to rise; it errs
    early rather than late (0–0.3 s early on espeak-ng fixtures)."""
    end: int
    """End of the frame in which the score passed the cut-off: the word ended here or a little
    before (0–0.5 s; the model decides once it has heard the whole word)."""
    word: str
    """The model's name, e.g. "okay_nabu"."""

    @property
    def seconds(self) -> tuple[float, float]:
        """(start, end) in seconds on the input's clock."""
        return self.start / SAMPLE_RATE, self.end / SAMPLE_RATE


class WakeDetector:
    """Runs a microWakeWord model over 30 ms frames, and only over those that could be speech.

    ``feed`` takes the quiet level the segmenter's energy gate reports
    (``Segmenter.quiet_below_db``, the level below which a frame cannot be speech; None while
    it hears something). Frames below it are only kept: the front end and the model run on
    nothing while the room is quiet. The first frame at or above it replays what was kept,
    ``WARMUP_S`` through the front end and the last ``CONTEXT_S`` of it through the model too,
    so the model hears the word with the state it would have had, had it run all along (tested
    against an ungated detector on the fixtures). The model then keeps running until
    ``HOLD_S`` after the last frame at or above the quiet level. Each frame is processed at
    most once, so gating never costs more than running on everything.

    Costs (one core of this machine): about 0.1 ms a frame while the model runs (0.36 % of a
    core), under 3 µs a frame while the gate is closed, and a replay of up to about 10 ms at
    the first loud frame after a quiet spell.

    Building one verifies and loads the model (about 2 ms for a bundled one).

    Args:
        model: The wake-word model (``voiced.config.wakemodel.find_model``).
        cutoff: The detection cut-off; None uses the model's own.
        refractory_s: After a detection, no other for this long.
        verifier: A second model that must agree before a detection counts
            (``voiced.wake.verify``); None counts the first model's alone.

    Raises:
        ConfigError: The model fails verification (the message names the file).
    """

    def __init__(
        self,
        model: WakeModel,
        cutoff: float | None = None,
        refractory_s: float = 2.0,
        verifier: Verifier | None = None,
    ) -> None:
        self.model = model
        self.verifier = verifier
        self.cutoff = model.cutoff if cutoff is None else cutoff
        """Windowed probabilities above this are detections."""
        self.refractory = round(refractory_s * SAMPLE_RATE)
        """Samples after a detection in which no other is made."""
        self._mww = engine.load(model)
        self._features = MicroWakeWordFeatures()
        self._kept: deque[Frame] = deque(maxlen=round(WARMUP_S * SAMPLE_RATE / FRAME_SAMPLES))
        self._hold = round(HOLD_S * SAMPLE_RATE)
        self._context = round(CONTEXT_S * SAMPLE_RATE)
        self._lead = round(RISE_LEAD_S * SAMPLE_RATE)
        self.heard = 0
        """Frames fed since it was built."""
        self.inferred = 0
        """Frames the model ran on (replays included) since it was built."""
        self._reset_stream()

    @classmethod
    def from_settings(cls, settings: WakeSettings) -> WakeDetector:
        """A detector for the ``[wake]`` settings.

        Raises:
            ConfigError: The model (or the verifier's) is missing, malformed or fails
                verification.
        """
        model = settings.model
        return cls(
            model,
            settings.cutoff,
            settings.refractory_s,
            verifier_for(model, settings.verify, settings.cutoff),
        )

    def _reset_stream(self) -> None:
        self._kept.clear()
        self._origin: int | None = None
        self._fed = 0
        self._running = False
        self._next: int | None = None
        self._open_until = -1
        self._rise: int | None = None
        self._blocked_until = -1
        self.probability = 0.0
        """The latest windowed probability (0 while the gate is closed)."""

    def reset(self) -> None:
        """Forget the stream: the next frame may start anywhere on a new input clock.

        The model's state can only be cleared by loading it again (about 1 ms), so it is
        verified again first, in case its file changed.

        Raises:
            ConfigError: The model's file no longer passes verification.
        """
        self._features.reset()
        self._mww = engine.load(self.model)
        self._reset_stream()
        if self.verifier is not None:
            self.verifier.reset()

    def feed(self, frame: Frame, quiet_below_db: float | None = None) -> list[WakeDetection]:
        """Hear one frame; return the detections it completed (at most one unless the
        refractory period is 0), oldest first.

        The first loud frame after a quiet spell replays the frames kept before it, so a
        detection it returns may end before ``frame`` does (by at most ``CONTEXT_S``).

        Args:
            frame: The next frame: 480 int16 samples following the previous frame.
            quiet_below_db: The level (dBFS) below which the frame cannot be speech
                (``Segmenter.quiet_below_db``); None runs the model on it whatever its level.

        With a verifier, a detection is returned once the second model agrees, up to
        ``verify.AFTER_S`` later than without one, and not at all when it does not.

        Raises:
            ValueError: The frame is not ``FRAME_SAMPLES`` int16 samples, or it starts
                before the end of the previous frame.
            ConfigError: The verifier's model no longer passes verification.
        """
        found = self._feed(frame, quiet_below_db)
        if self.verifier is None:
            return found
        return self.verifier.feed(frame, found)

    def _feed(self, frame: Frame, quiet_below_db: float | None) -> list[WakeDetection]:
        samples = frame.samples
        if samples.shape != (FRAME_SAMPLES,) or samples.dtype != _INT16:
            raise ValueError(f"a frame must be {FRAME_SAMPLES} int16 samples")
        if self._next is not None and frame.start < self._next:
            raise ValueError(f"frame at {frame.start} overlaps the previous one")
        self._next = frame.end
        if self._origin is None:
            self._origin = frame.start
        self.heard += 1
        if quiet_below_db is None or level_db(samples) >= quiet_below_db:
            self._open_until = frame.end + self._hold
        if frame.end > self._open_until:
            self._kept.append(frame)
            self._running = False
            self.probability = 0.0
            return []
        found: list[WakeDetection] = []
        if self._kept:
            kept = list(self._kept)
            self._kept.clear()
            for old in kept:
                self._hear(old, old.end > frame.start - self._context, found)
        self._hear(frame, True, found)
        return found

    def _hear(self, frame: Frame, infer: bool, found: list[WakeDetection]) -> None:
        """Run the front end on ``frame`` and, if ``infer``, the model on its features."""
        features = list(self._features.process_streaming(frame.samples.tobytes()))
        if not infer:
            self._running = False
            return
        if not self._running:
            features = self._align(frame, features)
            self._running = bool(features)
        self.inferred += 1
        probability = 0.0
        for feature in features:
            # 0.0 between the model's steps (it runs every ``stride`` features)
            probability = max(probability, self._mww.process_streaming_prob(feature) or 0.0)
            self._fed += 1
        self.probability = probability
        if probability <= RISE_LEVEL:
            self._rise = None
            return
        if self._rise is None:
            self._rise = frame.start
        if probability > self.cutoff and frame.end > self._blocked_until:
            self._blocked_until = frame.end + self.refractory
            start = max(self._rise - self._lead, 0)
            found.append(WakeDetection(probability, start, frame.end, self.model.name))

    def _align(self, frame: Frame, features: list[np.ndarray]) -> list[np.ndarray]:
        """Start a run of the model in step with the stream, as if it had never stopped.

        The model runs once every ``stride`` features, on the features since its last run. An
        ungated model's runs fall on the stream's feature indices that are multiples of the
        stride; this drops the frame's features before the next such index, and first fills
        up the group the model was left in when it stopped (its state forgets that group
        within ``CONTEXT_S``, like everything else before the replay).
        """
        assert self._origin is not None
        stride = max(int(self._mww.stride), 1)
        last = (frame.end - self._origin - WINDOW) // STEP
        aligned = features[(-(last - len(features) + 1)) % stride :]
        if aligned:
            for _ in range((-self._fed) % stride):
                self._mww.process_streaming_prob(aligned[0])
                self._fed += 1
        return aligned


def verifier_for(model: WakeModel, verify: bool, cutoff: float | None = None) -> Verifier | None:
    """The verifier for ``model`` when ``verify`` asks for one and one exists (only the
    bundled okay_nabu has one), else None.

    A ``cutoff`` below the model's own turns it off: the verifier was measured with the first
    model at its own cut-off, and a lower one is set to hear a voice the first model scores
    low, which the second model, that must agree, would refuse again. A higher one keeps it.

    Raises:
        ConfigError: The verifier's model is missing or not the one voiced shipped.
    """
    if not verify or not model.bundled or model.name != VERIFIES:
        return None
    if cutoff is not None and cutoff < model.cutoff:
        return None
    return Verifier(verifier_model())
