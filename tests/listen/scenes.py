"""The catalogue of recordings the segmenter is tested and measured on."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from tests.audio.signals import to_int16
from tests.audio.speech import (
    RATE,
    ROOM_DB,
    SPEECH_DB,
    Floats,
    Scene,
    clicks,
    distant,
    fan,
    music,
    pink,
    speak,
    white,
)

Part = float | Sequence[Floats | float]
"""Silence in seconds, or one utterance: phrases with pauses (seconds) between them."""

LIGHTS = "Turn on the kitchen lights."
WEATHER = "What is the weather like tomorrow morning?"
REMIND = "Remind me to call my sister at five."
PLAY = "Play some quiet music in the living room."
TIMER = ("Set a timer", "for ten minutes, please.")
LIST = ("Add milk", "eggs", "and bread to my shopping list.")


def lay_out(
    name: str,
    parts: Sequence[Part],
    background: Floats | None = None,
    snr_db: float = 0.0,
    speech_db: float = SPEECH_DB,
    seed: int = 0,
) -> Scene:
    """Place utterances in silence at known offsets and add room noise and a background.

    Args:
        name: The scene's name.
        parts: Silences (seconds) and utterances, in order.
        background: Noise at 0 dBFS RMS, at least as long as the scene, or None.
        snr_db: The background's level below ``speech_db``.
        speech_db: The level the speech was made at, that ``snr_db`` counts from.
        seed: Seed of the room noise.
    """
    pieces: list[Floats] = []
    bounds: list[tuple[int, int]] = []
    at = 0
    for part in parts:
        if isinstance(part, float | int):
            piece = np.zeros(int(part * RATE))
        else:
            piece = np.concatenate(
                [np.zeros(int(p * RATE)) if isinstance(p, float | int) else p for p in part]
            )
            bounds.append((at, at + piece.size))
        pieces.append(piece)
        at += piece.size
    speech = np.concatenate(pieces)
    audio = speech + white(at / RATE, seed + 1000)[:at] * 10 ** (ROOM_DB / 20)
    if background is not None:
        audio += background[:at] * 10 ** ((speech_db - snr_db) / 20)
    return Scene(name, to_int16(audio), tuple(bounds), speech)


def only(name: str, noise: Floats, level_db: float = 0.0) -> Scene:
    """A scene of noise alone (no utterance), at ``level_db`` dBFS RMS plus room noise."""
    room = white(noise.size / RATE, 999)[: noise.size] * 10 ** (ROOM_DB / 20)
    return Scene(name, to_int16(noise * 10 ** (level_db / 20) + room), (), np.zeros(noise.size))


def noise_bursts(seconds: float, seed: int) -> Floats:
    """Rustles and bumps: 0.1–0.6 s bursts of pink noise at irregular times, 0 dBFS inside."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * RATE))
    at = 0.5
    while at < seconds - 0.7:
        burst = pink(rng.uniform(0.1, 0.6), int(rng.integers(1 << 30)))
        ramp = np.arange(burst.size)
        fade = np.minimum(1.0, np.minimum(ramp, burst.size - ramp) / 160)
        start = int(at * RATE)
        out[start : start + burst.size] += burst * fade * 10 ** (rng.uniform(-12, 0) / 20)
        at += burst.size / RATE + rng.uniform(0.4, 1.5)
    return out


def _speech() -> list[Scene]:
    us = [speak(t, "en-us", 160) for t in (LIGHTS, WEATHER)]
    gb = [speak(t, "en-gb", 120) for t in (REMIND, LIGHTS)]
    f3 = [speak(t, "en+f3", 220) for t in (WEATHER, PLAY)]
    m3 = [speak(t, "en-us+m3", 140) for t in (PLAY, REMIND)]
    timer = [speak(t, "en-us", 160) for t in TIMER]
    shopping = [speak(t, "en-gb", 150) for t in LIST]
    near = [speak(t, "en-us", 150) for t in (LIGHTS, REMIND)]
    far = [distant(p, 7) for p in near]
    return [
        lay_out("us_160", [1.0, [us[0]], 1.5, [us[1]], 1.2]),
        lay_out("gb_120", [0.8, [gb[0]], 2.0, [gb[1]], 1.0], seed=1),
        lay_out("f3_220", [1.2, [f3[0]], 1.0, [f3[1]], 1.0], seed=2),
        lay_out("m3_140", [0.7, [m3[0]], 1.3, [m3[1]], 1.1], seed=3),
        lay_out("pause_us", [1.0, [timer[0], 0.3, timer[1]], 1.5], seed=4),
        lay_out("pauses_gb", [0.9, [shopping[0], 0.3, shopping[1], 0.3, shopping[2]], 1.4]),
        lay_out("us_white_20db", [1.0, [us[0]], 1.5, [us[1]], 1.2], white(9, 11), 20, seed=5),
        lay_out("gb_pink_10db", [0.8, [gb[0]], 2.0, [gb[1]], 1.0], pink(12, 12), 10, seed=6),
        lay_out("f3_fan_10db", [1.2, [f3[0]], 1.0, [f3[1]], 1.0], fan(9, 13), 10, seed=7),
        lay_out("pause_pink_5db", [1.0, [timer[0], 0.3, timer[1]], 1.5], pink(6, 14), 5, seed=8),
        lay_out(
            "distant_fan",
            [1.5, [far[0]], 2.0, [far[1]], 1.5],
            fan(12, 15),
            15,
            speech_db=SPEECH_DB - 30,
            seed=9,
        ),
    ]


def _non_speech() -> list[Scene]:
    return [
        only("white_noise", white(6, 21), -35),
        only("pink_noise", pink(6, 22), -30),
        only("fan_noise", fan(6, 23), -30),
        only("fan_starts", np.concatenate([np.zeros(2 * RATE), fan(6, 27)]), -30),
        only("noise_bursts", noise_bursts(10, 24), -25),
        only("keyboard", clicks(10, 25)),
        only("music", music(10, 26)),
    ]


@cache
def speech_over_music() -> Scene:
    """Two commands spoken over music playing 10 dB below them."""
    us = [speak(t, "en-us", 160) for t in (LIGHTS, WEATHER)]
    return lay_out("over_music", [3.0, [us[0]], 3.0, [us[1]], 3.0], music(13, 3) * 10, 10)


@cache
def distant_at_start(lead_s: float) -> Scene:
    """The quiet distant speaker over a fan (``distant_fan``), speaking ``lead_s`` after the
    stream starts: before the noise floor has been learned from any quiet."""
    far = [distant(speak(t, "en-us", 150), 7) for t in (LIGHTS, REMIND)]
    parts = [lead_s, [far[0]], 2.0, [far[1]], 1.5]
    return lay_out(f"distant_at_{lead_s:g}s", parts, fan(12, 15), 15, SPEECH_DB - 30, seed=9)


@cache
def speech_scenes() -> dict[str, Scene]:
    """Scenes holding speech, by name."""
    return {s.name: s for s in _speech()}


@cache
def non_speech_scenes() -> dict[str, Scene]:
    """Scenes holding no speech at all, by name."""
    return {s.name: s for s in _non_speech()}


@cache
def long_background(name: str) -> Scene:
    """30 seconds of background sound without speech: "music" or "keyboard"."""
    sound = {"music": lambda: music(30, 31), "keyboard": lambda: clicks(30, 32)}[name]()
    return only(f"long_{name}", sound)


@cache
def speech_late_in_music(snr_db: float, start_s: float) -> Scene:
    """Music from the start, and one request spoken over it from ``start_s`` on, ``snr_db``
    louder than the music."""
    talk = [speak(WEATHER), 0.3, speak(REMIND)]
    return lay_out(f"late_{snr_db:g}db", [start_s, talk, 2.0], music(start_s + 8, 4) * 10, snr_db)


@cache
def music_with_a_gap(gap_s: float) -> Scene:
    """Ten seconds of music, ``gap_s`` of room silence, then six seconds of music."""
    sound = np.concatenate([music(10, 41), np.zeros(int(gap_s * RATE)), music(6, 42)])
    return only(f"music_gap_{gap_s:g}s", sound)
