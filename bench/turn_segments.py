"""Benchmark: the turn model and speech-evidence ends against today's fixed timing, same run.

Run: .venv/bin/python bench/turn_segments.py [--prompts 60]

Every figure is counted in samples on the input clock (no machine timing), for two
configurations of the segmenter side by side:
- "fixed": today's segmenter (turn_model = false, confirm_end = false: the end is 700 ms of
  silence measured by webrtcvad and the energy gate);
- "turn model": the defaults (Silero decides where speech ends, Smart Turn v3.2 judges each
  pause: a turn it is sure is finished ends after 400 ms, less sure up to 700 ms, an
  unfinished one waits up to 1.2 s).

1. Real voices: the ≥ 50 Asterisk prompts (a human voice, tests/audio/recordings.py) in
   silence, over music on hold at 15 and 10 dB below the speech and over pink noise at 10 dB:
   uploads whole, clipped, split, merged, missed, and false uploads.
2. Cut-offs: sentences with a thinking pause of 0.3, 0.6, 0.9 and 1.2 s where they plainly
   do not end, in the real voice (her own pause at a comma, stretched) and in espeak-ng voices:
   how many were split, i.e. left as two uploads that stand (answered as two questions). An
   early end the speaker went on after (``turn_rejoin_ms``) is withdrawn and the whole
   sentence sent as one upload: not split, but counted apart as "rejoined" (in the daemon the
   turn that early end began is withdrawn; bench/turn_latency.py --pauses says how much of its
   reply was heard).
3. Speech over music at 10 and 15 dB SNR (real prompts over music on hold, espeak-ng over the
   synthesised band): where the upload ends after the last word, median and max.
4. When the end is decided (SpeechEnded) after the last word, median and p95, for the real
   prompts in silence.
5. CPU: the segmenter's process time per second of input, on a quiet room and on speech.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.audio.recordings import sentences  # noqa: E402
from tests.audio.speech import RATE, Scene, music, pink, speak  # noqa: E402
from tests.listen.harness import answered, run  # noqa: E402
from tests.listen.realscenes import (  # noqa: E402
    CONDITIONS,
    Tally,
    espeak_halves,
    prompt_scene,
    real_halves,
    real_scenes,
    tally,
    with_pause,
)
from tests.listen.scenes import lay_out  # noqa: E402
from voiced.config import ListenSettings  # noqa: E402
from voiced.listen import Segmenter  # noqa: E402

DEFAULTS = ListenSettings()
CONFIGS = {
    "fixed": replace(DEFAULTS, turn_model=False, confirm_end=False),
    "turn model": DEFAULTS,
}
PAUSES = (0.3, 0.6, 0.9, 1.2)


def segmentation(count: int) -> None:
    scenes = real_scenes(count)
    print(f"1. Real voices: {count} prompts × {len(CONDITIONS)} backgrounds")
    print(
        f"  {'config':12} {'background':12} {'whole':>6} {'clipped':>8} {'split':>6}"
        f" {'merged':>7} {'missed':>7} {'false':>6} {'rejoined':>9}"
    )
    for config, settings in CONFIGS.items():
        total = Tally()
        for condition in CONDITIONS:
            part = Tally()
            for name, scene in scenes.items():
                if name.endswith(condition):
                    part.add(tally(scene, settings))
            total.add(part)
            print(f"  {config:12} {condition:12} {_row(part)}")
        print(f"  {config:12} {'all':12} {_row(total)}")


def _row(t: Tally) -> str:
    return (
        f"{t.whole:>6} {t.clipped:>8} {t.split:>6} {t.merged:>7} {t.missed:>7} {t.false:>6}"
        f" {t.rejoined:>9}"
    )


def cutoffs() -> None:
    real = real_halves()
    fake = espeak_halves()
    print(
        f"\n2. Cut-offs: sentences split by a thinking pause ({len(real)} real, {len(fake)}"
        " espeak-ng)"
    )
    print(
        "  The turn settings were calibrated on the even-numbered real sentences (and on "
        "prompts not in turn_latency.py's questions); the odd-numbered ones are held out."
    )
    print(
        "  split = answered as two or more (rejoined = an early end withdrawn, the sentence"
        " sent whole as one)"
    )
    print(f"  {'config':12} {'voice':12} " + " ".join(f"{p:>15.1f}s" for p in PAUSES))
    numbered = [(i, a, b) for i, (_, a, b) in enumerate(real)]
    voices = {
        "real": numbered,
        "real held": numbered[1::2],
        "real calib": numbered[0::2],
        "espeak": [(i, a, b) for i, (a, b) in enumerate(fake)],
    }
    for config, settings in CONFIGS.items():
        for voice, halves in voices.items():
            cells = []
            for pause in PAUSES:
                split = rejoined = 0
                for i, a, b in halves:
                    scene = prompt_scene("cut", [with_pause(a, b, pause)], "clean", seed=i)
                    counted = tally(scene, settings)
                    split += counted.split
                    rejoined += counted.rejoined
                cells.append(f"{split:>3}/{len(halves):<3} rejoined {rejoined:>2}")
            print(f"  {config:12} {voice:12} " + " ".join(cells))


def over_music() -> None:
    print("\n3. Speech over music: upload end after the last word (ms), median and max")
    print(f"  {'config':12} {'voice':8} {'SNR':>5} {'median':>7} {'max':>6} {'whole':>6}")
    prompts = sentences()[:20]
    phrases = [
        speak(t, v, s)
        for t, v, s in (
            ("Turn on the kitchen lights.", "en-us", 160),
            ("What is the weather like tomorrow morning?", "en-gb", 150),
            ("Remind me to call my sister at five.", "en+f3", 180),
            ("Play some quiet music in the living room.", "en-us+m3", 140),
        )
    ]
    for config, settings in CONFIGS.items():
        for snr in (15.0, 10.0):
            for voice in ("real", "espeak"):
                if voice == "real":
                    scenes = [
                        prompt_scene(f"m{i}", prompts[i : i + 5], f"music {snr:g} dB", seed=i)
                        for i in range(0, len(prompts), 5)
                    ]
                else:
                    scenes = [_espeak_over_music(phrases, snr, seed) for seed in range(3)]
                after, whole = _ends(scenes, settings)
                print(
                    f"  {config:12} {voice:8} {snr:>4g}  {statistics.median(after):>7.0f}"
                    f" {max(after):>6.0f} {whole:>3}/{len(after)}"
                )


def _espeak_over_music(phrases: list[np.ndarray], snr: float, seed: int) -> Scene:
    parts: list[object] = [2.0]
    for p in phrases:
        parts += [[p[: p.size // 160 * 160]], 2.5]
    seconds = 2.0 + sum(p.size / RATE + 2.5 for p in phrases) + 1
    return lay_out(f"sm{seed}", parts, music(seconds, 50 + seed) * 10, snr, seed=seed)  # type: ignore[arg-type]


def _ends(scenes: list[Scene], settings: ListenSettings) -> tuple[list[float], int]:
    after: list[float] = []
    whole = 0
    for scene in scenes:
        found = answered(run(Segmenter(settings), scene.audio))
        for onset, offset in scene.utterances:
            holders = [u for u in found if u.start < offset and u.end > onset]
            if holders:
                after.append((holders[-1].end - offset) * 1000 / RATE)
            energy = scene.speech_energy(onset, offset)
            if (
                len(holders) == 1
                and scene.held(holders[0].start, holders[0].end, onset, offset) >= 0.999 * energy
            ):
                whole += 1
    return after, whole


def decided() -> None:
    print("\n4. End decided (SpeechEnded) after the last word, real prompts in silence (ms)")
    scenes = [s for n, s in real_scenes().items() if n.endswith("clean")]
    for config, settings in CONFIGS.items():
        delays = []
        for scene in scenes:
            found = answered(run(Segmenter(settings), scene.audio))
            for onset, offset in scene.utterances:
                holders = [u for u in found if u.start < offset and u.end > onset]
                if holders:
                    delays.append((holders[-1].at - offset) * 1000 / RATE)
        print(
            f"  {config:12} median {statistics.median(delays):6.0f}  p95"
            f" {np.percentile(delays, 95):6.0f}  max {max(delays):6.0f}  (n={len(delays)})"
        )


def cpu() -> None:
    """CPU of the segmenter per second of input (share of one core), by process time."""
    print("\n5. CPU of the segmenter, % of one core (process time / audio time)")
    quiet = lay_out("room", [60.0], pink(61, 3), 45.0)  # a quiet room: -65 dBFS pink noise
    talk = [s for n, s in real_scenes().items() if n.endswith("clean")][:6]
    seconds = sum(s.audio.size for s in talk) / RATE
    speaking = f"speaking ({seconds:.0f} s, real prompts)"
    print(f"  {'config':12} {'idle (60 s room noise)':>24} {speaking:>34}")
    for config, settings in CONFIGS.items():
        segmenter = Segmenter(settings)
        began = time.process_time()
        run(segmenter, quiet.audio)
        idle = (time.process_time() - began) / (quiet.audio.size / RATE)
        began = time.process_time()
        for scene in talk:
            run(segmenter, scene.audio)
        speaking = (time.process_time() - began) / seconds
        print(f"  {config:12} {idle * 100:>23.2f}% {speaking * 100:>33.2f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=60)
    parser.add_argument("--only", choices=("segmentation", "cutoffs", "music", "decided", "cpu"))
    args = parser.parse_args()
    if args.only in (None, "segmentation"):
        segmentation(args.prompts)
    if args.only in (None, "cutoffs"):
        cutoffs()
    if args.only in (None, "music"):
        over_music()
    if args.only in (None, "decided"):
        decided()
    if args.only in (None, "cpu"):
        cpu()


if __name__ == "__main__":
    main()
