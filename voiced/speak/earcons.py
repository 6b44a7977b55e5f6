"""Earcons: short chimes for listening started, listening stopped and error, made with numpy."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from voiced.audio.frames import Int16Array
from voiced.audio.playback import Clip, Playback
from voiced.audio.wav import encode_wav

EarconName = Literal["listening", "stopped", "error"]
EARCONS: tuple[EarconName, ...] = ("listening", "stopped", "error")
RATE = 22050
ASSETS = Path(__file__).resolve().parents[2] / "assets" / "earcons"
"""Where the rendered earcons are kept in a source checkout (assets/earcons/NAME.wav)."""

# Each earcon is a few notes: (frequency Hz, start s, length s, level 0–1).
_NOTES: dict[str, tuple[tuple[float, float, float, float], ...]] = {
    "listening": ((880.0, 0.0, 0.16, 0.30), (1318.5, 0.07, 0.18, 0.30)),  # A5 then E6, rising
    "stopped": ((1318.5, 0.0, 0.16, 0.26), (880.0, 0.07, 0.18, 0.26)),  # E6 then A5, falling
    "error": ((440.0, 0.0, 0.12, 0.34), (415.3, 0.14, 0.20, 0.34)),  # A4 then G#4, low and sour
}


def synthesize(name: EarconName) -> Int16Array:
    """Render an earcon: bell-like notes (a fundamental with two soft overtones, a 4 ms
    attack and an exponential decay) at 22050 Hz mono int16."""
    notes = _NOTES[name]
    length = max(start + span for _, start, span, _ in notes)
    mix = np.zeros(int(length * RATE) + 1)
    for freq, start, span, level in notes:
        t = np.arange(int(span * RATE)) / RATE
        envelope = np.minimum(1.0, t / 0.004) * np.exp(-t * 5.0 / span)
        envelope[-int(0.004 * RATE) :] *= np.linspace(1.0, 0.0, int(0.004 * RATE))
        tone = np.sin(2 * np.pi * freq * t)
        tone += 0.3 * np.sin(4 * np.pi * freq * t) + 0.1 * np.sin(6 * np.pi * freq * t)
        first = int(start * RATE)
        mix[first : first + t.size] += level * envelope * tone / 1.4
    return np.clip(np.rint(mix * 32767), -32768, 32767).astype(np.int16)


def load(name: EarconName) -> Clip:
    """The earcon from assets/earcons, or rendered afresh where the assets are not installed."""
    path = ASSETS / f"{name}.wav"
    if path.is_file():
        with wave.open(str(path), "rb") as wav:
            samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
            return Clip(samples.astype(np.int16), wav.getframerate())
    return Clip(synthesize(name), RATE)


def write_assets(directory: Path = ASSETS) -> list[Path]:
    """Render every earcon to ``directory``/NAME.wav; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in EARCONS:
        path = directory / f"{name}.wav"
        path.write_bytes(encode_wav(synthesize(name), RATE))
        paths.append(path)
    return paths


class _Output(Protocol):
    def begin(self) -> Playback: ...


class Earcons:
    """Plays the earcons on an output, unless they are switched off ([speech] earcons).

    Args:
        output: Where they play (the same Player as speech, so stop() silences them too).
        enabled: False makes ``play`` do nothing.
    """

    def __init__(self, output: _Output, enabled: bool = True) -> None:
        self.output = output
        self.enabled = enabled
        self._clips = {name: load(name) for name in EARCONS} if enabled else {}

    def play(self, name: EarconName) -> Playback | None:
        """Queue the earcon; return its Playback, or None when earcons are off."""
        if not self.enabled:
            return None
        playback = self.output.begin()
        playback.add(self._clips[name])
        playback.close()
        return playback
