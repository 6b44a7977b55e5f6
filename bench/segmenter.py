"""Benchmark: segmenter throughput, end-of-speech latency, and false utterances per stage.

Run: .venv/bin/python bench/segmenter.py [--rounds N]
Every figure comes from the generated test recordings (tests/listen/scenes.py), measured in this
run. Throughput is CPU time of this process (one core: webrtcvad and Silero each use one
thread) against the length of the audio, next to plain webrtcvad over the same frames as the
baseline; beside it, the share of the audio Silero was asked to judge (counted model calls,
independent of the machine). Latency is counted in samples on the input clock, so it does
not depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import webrtcvad

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.audio.speech import RATE, Scene  # noqa: E402
from tests.listen.harness import count, counted, ended, frames, run  # noqa: E402
from tests.listen.scenes import (  # noqa: E402
    lay_out,
    long_background,
    non_speech_scenes,
    speech_over_music,
    speech_scenes,
)
from voiced.config import ListenSettings  # noqa: E402
from voiced.listen import Segmenter  # noqa: E402

DEFAULTS = ListenSettings()
STAGES = {
    "webrtcvad alone": replace(
        DEFAULTS, energy_margin_db=0.0, min_level_db=-100.0, confirm_speech=False
    ),
    "+ energy gate": replace(DEFAULTS, confirm_speech=False),
    "webrtcvad + Silero": replace(DEFAULTS, energy_margin_db=0.0, min_level_db=-100.0),
    "+ Silero (default)": DEFAULTS,
}


def cpu_seconds(settings: ListenSettings, scenes: list[Scene], rounds: int) -> float:
    """Best-of-``rounds`` CPU seconds to segment every scene (model loading excluded)."""
    best = float("inf")
    cut = [list(frames(s.audio)) for s in scenes]
    for _ in range(rounds):
        segmenters = [Segmenter(settings) for _ in scenes]
        began = time.process_time()
        for segmenter, scene_frames in zip(segmenters, cut, strict=True):
            for frame in scene_frames:
                segmenter.feed(frame)
            segmenter.flush()
        best = min(best, time.process_time() - began)
    return best


def webrtcvad_seconds(scenes: list[Scene], rounds: int) -> float:
    """Best-of-``rounds`` CPU seconds for bare webrtcvad on the same frames (the baseline)."""
    best = float("inf")
    cut = [[f.samples.tobytes() for f in frames(s.audio)] for s in scenes]
    for _ in range(rounds):
        vad = webrtcvad.Vad(DEFAULTS.vad_aggressiveness)
        began = time.process_time()
        for scene_frames in cut:
            for data in scene_frames:
                vad.is_speech(data, RATE)
        best = min(best, time.process_time() - began)
    return best


def judged_share(settings: ListenSettings, scenes: list[Scene]) -> float:
    """Share of the audio the second stage judged (32 ms chunks it was asked about)."""
    chunks = 0.0
    for scene in scenes:
        segmenter, model = counted(settings)
        run(segmenter, scene.audio)
        chunks += model.share(scene.audio.size) * scene.audio.size
    return chunks / sum(s.audio.size for s in scenes)


def throughput(rounds: int) -> None:
    silence = lay_out("silence", [60.0])
    groups = {
        "speech recordings": list(speech_scenes().values()),
        "noise, clicks, music": list(non_speech_scenes().values()),
        "30 s music + 30 s typing": [long_background("music"), long_background("keyboard")],
        "60 s of room silence": [silence],
    }
    print(f"Throughput, multiple of real time on one core (CPU time, best of {rounds}):")
    print(
        f"  {'recordings':24} {'seconds':>8} {'webrtcvad':>10} {'1st stage':>10} {'2 stages':>10}"
        f" {'+confirm_end':>13} {'Silero judged':>14}"
    )
    for name, scenes in groups.items():
        seconds = sum(s.audio.size for s in scenes) / RATE
        base = seconds / webrtcvad_seconds(scenes, rounds)
        first = seconds / cpu_seconds(STAGES["+ energy gate"], scenes, rounds)
        both = seconds / cpu_seconds(DEFAULTS, scenes, rounds)
        end = seconds / cpu_seconds(replace(DEFAULTS, confirm_end=True), scenes, rounds)
        share = 100 * judged_share(DEFAULTS, scenes)
        print(
            f"  {name:24} {seconds:8.1f} {base:9.0f}x {first:9.0f}x {both:9.0f}x {end:12.0f}x"
            f" {share:12.1f} %"
        )
    print("  (Silero judged: share of the audio the second stage heard, default stages)")
    idle = 60.0 / cpu_seconds(DEFAULTS, [silence], rounds)
    print(f"  CPU share of one core while listening to silence: {100 / idle:.3f} %")


def latency() -> None:
    hangover = DEFAULTS.hangover_ms * RATE // 1000
    print(
        f"\nEnd of speech in the input -> SpeechEnded, less the {DEFAULTS.hangover_ms} ms hangover:"
    )
    clean, noisy = [], []
    for scene in speech_scenes().values():
        found = ended(run(Segmenter(DEFAULTS), scene.audio))
        excess = [
            (u.at - off - hangover) * 1000 / RATE
            for u, (_, off) in zip(found, scene.utterances, strict=False)
        ]
        (noisy if "db" in scene.name or "fan" in scene.name else clean).extend(excess)
        print(f"  {scene.name:16} " + "  ".join(f"{e:+6.1f} ms" for e in excess))
    for label, values in (("clean", clean), ("noisy", noisy), ("all", clean + noisy)):
        print(
            f"  {label:6} median {statistics.median(values):+6.1f} ms   max {max(values):+6.1f} ms"
            f"   (n={len(values)})"
        )
    print(
        "  (negative: in noise the last weak consonant is below the floor, so the end comes early)"
    )


def whole(scene: Scene, settings: ListenSettings) -> int:
    """Utterances found whole (99.9 % of their speech energy, from before the onset) by
    exactly one found utterance that holds no other."""
    found = ended(run(Segmenter(settings), scene.audio))
    hits = 0
    for onset, offset in scene.utterances:
        energy = 0.999 * scene.speech_energy(onset, offset)
        holders = [
            u
            for u in found
            if u.start <= onset and scene.held(u.start, u.end, onset, offset) >= energy
        ]
        others = [(a, b) for a, b in scene.utterances if (a, b) != (onset, offset)]
        if len(holders) == 1 and not any(
            holders[0].start < b and a < holders[0].end for a, b in others
        ):
            hits += 1
    return hits


def false_utterances() -> None:
    print("\nFalse utterances per stage (SpeechEnded on recordings without speech):")
    scenes = non_speech_scenes()
    head = " ".join(f"{n:>12}" for n in scenes)
    print(f"  {'stages':19} {head} {'total':>6} {'seconds':>8} {'speech whole':>13}")
    expected = sum(len(s.utterances) for s in speech_scenes().values())
    for stage, settings in STAGES.items():
        runs = [run(Segmenter(settings), s.audio) for s in scenes.values()]
        counts = [count(events) for events in runs]
        seconds = sum(u.duration for events in runs for u in ended(events))
        right = sum(whole(scene, settings) for scene in speech_scenes().values())
        cells = " ".join(f"{c.utterances:>12}" for c in counts)
        total = sum(c.utterances for c in counts)
        print(f"  {stage:19} {cells} {total:>6} {seconds:>7.1f}s {right:>6}/{expected}")
    rejected = [count(run(Segmenter(DEFAULTS), s.audio)).unconfirmed for s in scenes.values()]
    print(f"  candidates Silero turned away with all stages on: {sum(rejected)}")
    scene = speech_over_music()
    truth = ", ".join(f"{a / RATE:.2f}-{b / RATE:.2f}" for a, b in scene.utterances)
    print(f"\nTwo commands spoken over music (speech at {truth} s):")
    for confirm_end in (False, True):
        found = ended(run(Segmenter(replace(DEFAULTS, confirm_end=confirm_end)), scene.audio))
        spans = ", ".join(f"{u.start / RATE:.2f}-{u.end / RATE:.2f} ({u.reason})" for u in found)
        print(f"  confirm_end={str(confirm_end).lower():5}  {spans}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds (best is kept)")
    args = parser.parse_args()
    throughput(args.rounds)
    latency()
    false_utterances()


if __name__ == "__main__":
    main()
