"""Replay mode's simulated room: voiced's own output heard back by the replayed microphone.

``voiced daemon --input Q.wav --echo-gain 0.5 --echo-delay-ms 80 [--echo-ir ROOM.wav]`` mixes
what voiced plays into the input: input sample N gets ``gain`` × the output from
``delay`` before it (convolved with the impulse response when one is given), all on the
input's clock, so echo can be tested and measured from files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soxr  # type: ignore[import-untyped, unused-ignore]

from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame, Int16Array
from voiced.errors import InputError

GAIN_RANGE = (0.0, 4.0)
"""Accepted --echo-gain values."""
DELAY_RANGE_MS = (30.0, 2000.0)
"""Accepted --echo-delay-ms values: at least one frame, as voiced cannot play over a frame
before it has heard it."""
MAX_IR_S = 2.0
"""Longest impulse response accepted."""
FFT_TAPS = 256
"""Impulse responses longer than this are applied with an FFT."""

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RoomOptions:
    """How the simulated room echoes voiced's output into the replayed input."""

    gain: float
    """Echo level: the output is scaled by this (0.5 is 6 dB down)."""
    delay_ms: float
    """How long after it is played the echo is heard."""
    impulse_response: Path | None = None
    """A WAV (any rate, mono or mixed to mono) the output is convolved with, or None."""

    def __post_init__(self) -> None:
        lo, hi = GAIN_RANGE
        if not lo <= self.gain <= hi:
            raise InputError(
                f"--echo-gain must be between {lo:g} and {hi:g}, got {self.gain:g}",
                "0.5 is an echo 6 dB below what voiced plays",
            )
        lo, hi = DELAY_RANGE_MS
        if not lo <= self.delay_ms <= hi:
            raise InputError(
                f"--echo-delay-ms must be between {lo:g} and {hi:g}, got {self.delay_ms:g}",
                "a laptop's speaker to microphone path is about 40 to 150 ms",
            )


def load_impulse_response(path: Path) -> Floats:
    """Read an impulse response as 16 kHz mono floats.

    Raises:
        InputError: The file is not readable audio, is empty, too long or not finite.
    """
    import soundfile  # type: ignore[import-untyped, unused-ignore]

    from voiced.audio.wav import as_float_mono, check_readable

    check_readable(path)
    try:
        data, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise InputError(f"--echo-ir {path}: not a WAV file ({exc})", "give a WAV file") from None
    mono = np.asarray(as_float_mono(data), dtype=np.float64)
    if int(rate) != SAMPLE_RATE and mono.size:
        mono = np.asarray(soxr.resample(mono, int(rate), SAMPLE_RATE), dtype=np.float64)
    if not mono.size or not np.isfinite(mono).all() or not np.abs(mono).max() > 0:
        raise InputError(f"--echo-ir {path}: holds no impulse response", "check that it plays")
    if mono.size > MAX_IR_S * SAMPLE_RATE:
        raise InputError(
            f"--echo-ir {path}: {mono.size / SAMPLE_RATE:.1f} s long, over {MAX_IR_S:g} s",
            "trim it to the room's reverberation",
        )
    return mono


class SimulatedRoom:
    """Mixes the output back into each input frame.

    Args:
        options: Gain, delay and impulse response.
        played: The output's samples from an input-clock position (silence outside it).
    """

    def __init__(self, options: RoomOptions, played: Callable[[int, int], Int16Array]) -> None:
        self.options, self.played = options, played
        self.delay = round(options.delay_ms * SAMPLE_RATE / 1000)
        path = options.impulse_response
        self.ir: Floats = load_impulse_response(path) if path else np.ones(1)
        self._ir_fft: npt.NDArray[np.complex128] | None = None
        self._fft_size = 0

    def mix(self, frame: Frame) -> Frame:
        """The frame as the microphone in the room hears it."""
        taps = self.ir.size
        source = self.played(frame.start - self.delay - (taps - 1), FRAME_SAMPLES + taps - 1)
        if not source.any():
            return frame
        echo = self._convolve(source.astype(np.float64)) * self.options.gain
        mixed = np.clip(np.rint(frame.samples + echo), -32768, 32767).astype(np.int16)
        return Frame(mixed, frame.start)

    def _convolve(self, source: Floats) -> Floats:
        """The 'valid' part of ``source`` convolved with the impulse response."""
        taps = self.ir.size
        if taps <= FFT_TAPS:
            return np.convolve(source, self.ir, mode="valid")
        if self._ir_fft is None:
            self._fft_size = 1 << (source.size + taps - 1).bit_length()
            self._ir_fft = np.fft.rfft(self.ir, self._fft_size)
        full = np.fft.irfft(np.fft.rfft(source, self._fft_size) * self._ir_fft, self._fft_size)
        return full[taps - 1 : source.size]
