"""Benchmark: how soon speech starts, how fast it renders, how fast stop() silences it.

Run: .venv/bin/python bench/speaking.py [--runs 15] [--groq-only]
Starts a private PulseAudio server (as the audio tests do), plays through the real path
(Speaker → cleaner → chunker → pyttsx3/espeak-ng → Player → PortAudio → virtual speaker) and
records the speaker's monitor with every read time-stamped, so a sample's index maps to the
time.monotonic() clock (a few ms late at worst, so delays err long). Figures:

1. first clause received → first sample at the speaker (target ≤ 80 ms median). The clause
   is fed, the next token follows 2 ms later (Groq streams hundreds of tokens/s). Baseline
   in the same run: a clip already rendered, handed straight to the Player (the output
   path alone); the ratio shows what cleaning, chunking and synthesis add.
2. TTS render time per second of speech, over sentences of several lengths.
3. stop() → silence (target ≤ 50 ms): a steady tone (so the cut is exact) and real speech;
   the time from the stop() call to the last sample that reached the speaker.
4. first clause received → first sample at the speaker with [speech] engine = "groq": the
   loopback Groq server (in a child process) answers each speech request after a 200 ms time
   to first byte with the whole WAV (espeak-ng's audio, 48 kHz); runs alternate with espeak-ng
   in the same run, and the difference of the medians is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._simproc import sim_process  # noqa: E402
from tests.audio.pulse import PulseServer  # noqa: E402
from tests.groqsim import GroqSim, Speech  # noqa: E402
from tests.speak.monitor import RATE, TimedRecording  # noqa: E402
from voiced.audio.playback import Clip  # noqa: E402
from voiced.audio.player import Player  # noqa: E402
from voiced.config.audio import OUTPUT_LATENCY_MS  # noqa: E402
from voiced.credentials import Secret  # noqa: E402
from voiced.groq.client import ClientOptions, GroqClient  # noqa: E402
from voiced.speak.fallback import FallbackNotice, FallbackTTS  # noqa: E402
from voiced.speak.groqtts import GroqTTS  # noqa: E402
from voiced.speak.speaker import Speaker  # noqa: E402
from voiced.speak.tts import EspeakTTS  # noqa: E402

GROQ_TTFB_S = 0.2
GROQ_MODEL = "canopylabs/orpheus-v1-english"

CLAUSE = "Lima is the capital of Peru,"
REST = " and it sits on the Pacific coast. About ten million people live there."
SENTENCES = [
    "Yes.",
    "It is about ten degrees outside.",
    "Lima is the capital of Peru, and it sits on the Pacific coast.",
    "The timer for the pasta is set for eight minutes, and I will tell you when it is done.",
    "Here is a longer answer: the city was founded in 1535 by Francisco Pizarro, and today "
    "about ten million people live there, which makes it one of the largest cities in the "
    "Americas and by far the largest in Peru.",
]


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"median {statistics.median(ordered):6.1f}  p95 {p95:6.1f}  "
        f"min {ordered[0]:6.1f}  max {ordered[-1]:6.1f} ms  (n={len(ordered)})"
    )


async def quiet(monitor: TimedRecording, seconds: float = 0.3) -> int:
    """Wait for silence; return the index from which new sound belongs to the next run."""
    await asyncio.sleep(seconds)
    return monitor.samples().size


async def first_sound(monitor: TimedRecording, after: int) -> int:
    found = await asyncio.to_thread(monitor.wait_for_sound, after, 5.0)
    if found is None:
        raise RuntimeError("nothing reached the speaker")
    return found


async def output_baseline(
    player: Player, monitor: TimedRecording, clip: Clip, runs: int
) -> list[float]:
    delays = []
    for _ in range(runs):
        after = await quiet(monitor)
        fed = time.monotonic()
        player.play(clip)
        delays.append((monitor.time_of(await first_sound(monitor, after)) - fed) * 1000)
        player.stop()
    return delays


async def first_clause(speaker: Speaker, monitor: TimedRecording, runs: int) -> list[float]:
    delays = []
    for _ in range(runs):
        after = await quiet(monitor)
        reply = speaker.reply()
        fed = time.monotonic()
        reply.feed(CLAUSE)
        await asyncio.sleep(0.002)  # the next token
        reply.feed(REST)
        delays.append((monitor.time_of(await first_sound(monitor, after)) - fed) * 1000)
        speaker.stop()
        await reply.finish()
    return delays


def speech_after_200_ms(sim: GroqSim) -> None:
    """The simulator's script: every speech request answers after a 200 ms first byte."""
    sim.speech_default = Speech(ttfb=GROQ_TTFB_S)


async def groq_against_espeak(
    espeak: Speaker, player: Player, monitor: TimedRecording, runs: int
) -> tuple[list[float], list[float]]:
    """First clause → first sample, alternating Groq's voice (200 ms to first byte) and
    espeak-ng run by run, so both meet the same machine load."""
    notices: list[FallbackNotice] = []
    with sim_process(speech_after_200_ms) as base:
        options = ClientOptions(
            chat_url=base + "/openai/v1",
            stt_url=base + "/openai/v1",
            speech_url=base + "/openai/v1",
            api_key=Secret("gsk_bench_not_a_key"),
        )
        async with GroqClient(options) as client:
            voice = GroqTTS(client, GROQ_MODEL, "troy", first_byte_s=1.5)
            groq = Speaker(FallbackTTS(voice, EspeakTTS(), GROQ_MODEL, 1.5, notices.append), player)
            await groq.tts.render(CLAUSE)  # connect once, as a running daemon has
            groq_delays: list[float] = []
            espeak_delays: list[float] = []
            for _ in range(runs):
                groq_delays += await first_clause(groq, monitor, 1)
                espeak_delays += await first_clause(espeak, monitor, 1)
    if notices:
        raise RuntimeError(f"the Groq voice fell back: {notices[0].message}")
    return groq_delays, espeak_delays


async def render_ratio(tts: EspeakTTS) -> tuple[float, float, list[float]]:
    spent = spoken = 0.0
    per_chunk = []
    for _ in range(4):
        for sentence in SENTENCES:
            began = time.perf_counter()
            clip = await tts.render(sentence)
            took = time.perf_counter() - began
            spent, spoken = spent + took, spoken + clip.seconds
            per_chunk.append(took * 1000)
    return spent, spoken, per_chunk


async def stop_to_silence(
    stop: object, start: object, monitor: TimedRecording, runs: int
) -> list[float]:
    """Start sound with ``start()``, stop it at a random moment, time the last sample heard."""
    delays = []
    rng = random.Random(7)
    for _ in range(runs):
        after = await quiet(monitor)
        pending = start()  # type: ignore[operator]
        await first_sound(monitor, after)
        await asyncio.sleep(rng.uniform(0.3, 0.8))
        stopped = time.monotonic()
        stop()  # type: ignore[operator]
        if asyncio.iscoroutine(pending) or isinstance(pending, asyncio.Task):
            await pending
        await asyncio.sleep(0.3)
        loud = np.flatnonzero(monitor.samples()[after:])
        delays.append((monitor.time_of(after + int(loud[-1])) - stopped) * 1000)
    return delays


async def main(runs: int, groq_only: bool, latency: str | float) -> None:
    tts = EspeakTTS()
    await tts.warm_up()
    player = Player(latency=latency)
    player.open()
    speaker = Speaker(tts, player)
    monitor = TimedRecording({**os.environ})
    try:
        if not groq_only:
            await espeak_figures(tts, player, speaker, monitor, runs)
        groq_latency, espeak_latency = await groq_against_espeak(speaker, player, monitor, runs)
    finally:
        monitor.stop()
        player.close()
    print(
        f'\n4. first clause received → first sample, [speech] engine = "groq" at '
        f"{GROQ_TTFB_S * 1000:.0f} ms to first byte (loopback server; runs alternate)"
    )
    print(f"   groq (Orpheus, sim)  {summary(groq_latency)}")
    print(f"   espeak-ng            {summary(espeak_latency)}")
    groq_median = statistics.median(groq_latency)
    added = groq_median - statistics.median(espeak_latency)
    print(f"   groq - espeak-ng: {added:+.1f} ms median")
    print(
        f"   groq beyond its {GROQ_TTFB_S * 1000:.0f} ms wait: "
        f"{groq_median - GROQ_TTFB_S * 1000:.1f} ms (request, the WAV's transfer, decoding, "
        "resampling to 22050 Hz, output)"
    )


async def espeak_figures(
    tts: EspeakTTS, player: Player, speaker: Speaker, monitor: TimedRecording, runs: int
) -> None:
    """Figures 1 to 3, printed."""
    clause_clip = await tts.render(CLAUSE)
    baseline = await output_baseline(player, monitor, clause_clip, runs)
    latency = await first_clause(speaker, monitor, runs)
    spent, spoken, per_chunk = await render_ratio(tts)
    t = np.arange(3 * RATE) / RATE
    tone = Clip((np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16), RATE)
    tone_stop = await stop_to_silence(player.stop, lambda: player.play(tone), monitor, runs)
    long_reply = " ".join(SENTENCES[2:])
    speech_stop = await stop_to_silence(
        speaker.stop, lambda: asyncio.create_task(speaker.say(long_reply)), monitor, runs
    )

    print(f"speaker: {player.rate} Hz, PortAudio latency {player.latency!r}; {runs} runs each\n")
    print("1. first clause received → first sample at the speaker (target ≤ 80 ms median)")
    print(f"   voiced pipeline      {summary(latency)}")
    print(f"   baseline: output only {summary(baseline)}")
    ratio = statistics.median(latency) / statistics.median(baseline)
    added = statistics.median(latency) - statistics.median(baseline)
    print(
        f"   pipeline / baseline: {ratio:.2f}x (cleaning + chunking + synthesis add {added:.1f} ms)"
    )
    print("\n2. TTS render time per second of speech")
    print(
        f"   {spent * 1000:.0f} ms to render {spoken:.1f} s of speech: {spent / spoken:.4f} s/s "
        f"({spoken / spent:.0f}x real time)"
    )
    print(f"   per chunk: {summary(per_chunk)}")
    print("\n3. stop() → silence at the speaker (target ≤ 50 ms; last sample heard - stop() call;")
    print(
        "   ≤ 0: it had reached the speaker before the call, the abort dropped what was buffered)"
    )
    print(f"   steady tone          {summary(tone_stop)}")
    print(f"   speech (Speaker)     {summary(speech_stop)}")


def latency(text: str) -> str | float:
    """A --latency value: "low", "high" or seconds."""
    return text if text in ("low", "high") else float(text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per latency figure (≥ 10)")
    parser.add_argument(
        "--groq-only", action="store_true", help="only figure 4 (Groq's voice against espeak-ng)"
    )
    parser.add_argument(
        "--latency",
        type=latency,
        default=OUTPUT_LATENCY_MS / 1000,
        help='the Player\'s PortAudio output latency: "low", "high" or seconds '
        "(default: [audio] output_latency_ms's)",
    )
    options = parser.parse_args()
    with PulseServer(Path(tempfile.mkdtemp(prefix="voiced-bench-"))) as server:
        os.environ.update(server.env)
        import sounddevice

        sounddevice._terminate()
        sounddevice._initialize()
        asyncio.run(main(max(10, options.runs), options.groq_only, options.latency))
