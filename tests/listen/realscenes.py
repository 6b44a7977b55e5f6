"""Scenes from real recordings (tests/audio/recordings.py), and how a segmenter did on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from tests.audio.recordings import VOICE, Prompt, music, prompt, sentences, texts
from tests.audio.speech import RATE, Floats, Scene, pink, rms_db, speak
from tests.listen.harness import answered, rejoins, run
from tests.listen.scenes import lay_out
from voiced.config import ListenSettings
from voiced.listen import Segmenter

HELD = 0.999
"""Share of an utterance's speech energy an upload must hold to count as whole."""
CONDITIONS: dict[str, tuple[str, float] | None] = {
    "clean": None,
    "music 15 dB": ("music", 15.0),
    "music 10 dB": ("music", 10.0),
    "noise 10 dB": ("noise", 10.0),
}
"""The backgrounds the real prompts are heard over: what, and how far below the speech."""
PER_SCENE = 5
"""Prompts in one scene, 1.6–2.6 s apart."""


def background(kind: str, seconds: float, seed: int) -> Floats:
    """Music on hold (one of the five pieces) or pink noise, at 0 dBFS RMS."""
    if kind == "music":
        return music(seconds, seed)
    return pink(seconds, seed)


def _even(audio: Floats) -> Floats:
    """Cut to whole 10 ms, so a scene's silences and bounds land on whole samples."""
    return audio[: audio.size // 160 * 160]


def prompt_scene(
    name: str,
    prompts: Sequence[Prompt | Floats],
    condition: str,
    seed: int = 0,
    lead_s: float = 1.0,
) -> Scene:
    """The prompts one after another in silence (1.6–2.6 s apart), over a condition's
    background."""
    rng = np.random.default_rng(seed)
    parts: list[object] = [lead_s]
    for p in prompts:
        audio = p.audio if isinstance(p, Prompt) else p
        parts += [[_even(audio)], round(float(rng.uniform(1.6, 2.6)), 2)]
    seconds = sum(
        float(p) if isinstance(p, float | int) else p[0].size / RATE  # type: ignore[index]
        for p in parts
    )
    where = CONDITIONS[condition]
    noise = None if where is None else background(where[0], seconds + 1, seed)
    snr = 0.0 if where is None else where[1]
    return lay_out(name, parts, noise, snr, seed=seed)  # type: ignore[arg-type]


@cache
def real_scenes(count: int = 60) -> dict[str, Scene]:
    """``count`` whole-sentence prompts, ``PER_SCENE`` a scene, each group in every condition."""
    chosen = sentences(count)
    scenes = {}
    for i in range(0, len(chosen), PER_SCENE):
        group = chosen[i : i + PER_SCENE]
        for j, condition in enumerate(CONDITIONS):
            name = f"real{i // PER_SCENE:02d} {condition}"
            scenes[name] = prompt_scene(name, group, condition, seed=i + j, lead_s=0.5 + j * 0.3)
    return scenes


@dataclass
class Tally:
    """What a segmenter made of scenes' utterances."""

    whole: int = 0
    """Held whole by exactly one upload that holds no other utterance."""
    clipped: int = 0
    """In one upload that misses some of its speech."""
    split: int = 0
    """Spread over two uploads or more."""
    merged: int = 0
    """Whole, but in an upload that holds another utterance too."""
    missed: int = 0
    """In no upload."""
    false: int = 0
    """Uploads that hold no utterance at all."""
    rejoined: int = 0
    """Early ends withdrawn because the speaker went on (``turn_rejoin_ms``): their upload was
    replaced by the whole utterance's (the daemon withdraws the turn it began)."""

    @property
    def total(self) -> int:
        return self.whole + self.clipped + self.split + self.merged + self.missed

    def add(self, other: Tally) -> None:
        for key in ("whole", "clipped", "split", "merged", "missed", "false", "rejoined"):
            setattr(self, key, getattr(self, key) + getattr(other, key))


def tally(scene: Scene, settings: ListenSettings, segmenter: Segmenter | None = None) -> Tally:
    """Segment ``scene`` and sort its utterances into whole, clipped, split, merged, missed,
    by the uploads that stand (an early end a rejoin withdrew does not count)."""
    events = run(segmenter or Segmenter(settings), scene.audio)
    found = answered(events)
    result = Tally(rejoined=rejoins(events))
    for onset, offset in scene.utterances:
        holders = [u for u in found if u.start < offset and u.end > onset]
        if not holders:
            result.missed += 1
        elif len(holders) > 1:
            result.split += 1
        elif scene.held(holders[0].start, holders[0].end, onset, offset) < HELD * (
            scene.speech_energy(onset, offset)
        ):
            result.clipped += 1
        elif any(
            holders[0].start < b and a < holders[0].end
            for a, b in scene.utterances
            if (a, b) != (onset, offset)
        ):
            result.merged += 1
        else:
            result.whole += 1
    result.false = sum(
        1 for u in found if not any(u.start < b and a < u.end for a, b in scene.utterances)
    )
    return result


def with_pause(first: Floats, rest: Floats, pause_s: float) -> Floats:
    """One utterance: ``first``, a pause of ``pause_s`` of silence, ``rest``."""
    return np.concatenate([_even(first), np.zeros(int(pause_s * RATE)), _even(rest)])


ESPEAK_HALVES = (
    ("I was wondering whether", "you could turn on the kitchen lights.", "en-us", 160),
    ("What is the weather like in", "Paris tomorrow morning?", "en-gb", 150),
    ("Can you tell me about the", "history of Rome?", "en-us", 150),
    ("I would like to", "listen to some quiet music.", "en-gb", 140),
)
"""Sentences with a thinking pause where it plainly does not end (espeak-ng voices)."""


@cache
def espeak_halves() -> tuple[tuple[Floats, Floats], ...]:
    """The two halves of each of ``ESPEAK_HALVES``, rendered."""
    return tuple((speak(a, v, s), speak(b, v, s)) for a, b, v, s in ESPEAK_HALVES)


GAP_DB = 35.0
"""A prompt's inner pause: 10 ms windows this far below its loudest."""


@cache
def real_halves(min_gap_ms: int = 40) -> tuple[tuple[Prompt, Floats, Floats], ...]:
    """One-clause sentences (no punctuation inside them) cut at their longest inner pause (at
    least ``min_gap_ms``, 30–75 % of the way through): the speech before and after it.

    The speaker paused there between two words of a clause she had not finished, so the first
    half ends mid-sentence, in her own voice and intonation.
    """
    found = []
    for name, text in sorted(texts().items()):
        body = text[:-1]
        if "/" in name or not text[:1].isupper() or not text.endswith((".", "?", "!")):
            continue
        if any(mark in body for mark in ".,;:!?") or not 20 <= len(text) <= 100:
            continue
        if not (VOICE / f"{name}.wav").exists():
            continue
        audio = prompt(name).audio
        hop = RATE // 100
        levels = np.array([rms_db(audio[i : i + hop]) for i in range(0, audio.size - hop + 1, hop)])
        quiet = levels < levels.max() - GAP_DB
        best: tuple[int, int] | None = None
        i = 0
        while i < quiet.size:
            if not quiet[i]:
                i += 1
                continue
            j = i
            while j < quiet.size and quiet[j]:
                j += 1
            inside = 0.3 * quiet.size < i and j < 0.75 * quiet.size
            if inside and (best is None or j - i > best[1] - best[0]):
                best = (i, j)
            i = j
        if best is not None and (best[1] - best[0]) * 10 >= min_gap_ms:
            found.append((prompt(name), audio[: best[0] * hop], audio[best[1] * hop :]))
    return tuple(found)
