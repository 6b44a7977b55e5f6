"""Benchmark: in-process echo cancellation (WebRTC AEC3) against the hold path.

Run: .venv/bin/python bench/aec.py [--trials 20] [--seed 1] [--daemon-trials 2]

Two simulated rooms, built with replay mode's own room (:class:`voiced.audio.room.SimulatedRoom`,
what ``--echo-gain/--echo-delay-ms/--echo-ir`` use): "short" (echo 6 dB down, 40 ms late, a
60 ms decaying tail 10 dB under the direct path) and "reverberant" (6 dB down, 80 ms late, an
800 ms tail, RT60 0.5 s, as much reverberation as direct sound). Replies and interruptions
are espeak-ng speech.

1. ERLE after convergence: an espeak-ng reply echoed through each room with light noise, fed
   frame by frame (60 ms blocks, as the capture hands them over) through
   :class:`voiced.audio.echo.EchoCanceller`; the echo reduction over the reply after its first
   2 s, in dB (target >= 25), beside what the canceller's own meter reports.
2. Barge-in, per room, ``--trials`` trials: a reply plays; the user speaks over it at a random
   moment 1.5-6 s into it (another voice, another phrase). The microphone (room echo + the
   user + noise) goes through the real canceller and the real Segmenter, and the pipeline's
   rule (:meth:`voiced.pipeline.utterances.Utterances.check_barge_in`): with AEC on, speech over
   the reply stops it after ``barge_in_min_ms`` (300) while the canceller's meter trusts the
   room (else the hold path); the hold path (AEC off) holds it after ``barge_in_echo_min_ms``
   (700) and waits for the transcript. Output stops the moment it is decided (replay mode's
   output has no device latency), and what is not played any more is not echoed. Reported:
   detections (the reply went silent during the user's speech), false self-interruptions (it
   went silent or was held before the user spoke), onset -> reply silent (median, max).
3. The same through the real daemon in replay mode (``voiced daemon --input ... --echo-gain 0.5
   --echo-delay-ms 80``, in-process against the loopback Groq server), ``--daemon-trials`` per
   mode: onset -> output silent read off the output WAV, to check part 2 against the pipeline.
4. CPU while speaking: seconds of CPU per second of audio for the capture-side canceller and
   the player-side tap (AEC on) against the pass-through (AEC off), as % of one core
   (target <= 2 % extra).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.audio.signals import write_wav  # noqa: E402
from tests.audio.speech import speak  # noqa: E402
from tests.listen.harness import frames  # noqa: E402
from voiced.audio.echo import REMOVED_DB, EchoCanceller  # noqa: E402
from voiced.audio.farend import FarEnd, PlayerTap  # noqa: E402
from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame, Int16Array  # noqa: E402
from voiced.audio.room import RoomOptions, SimulatedRoom  # noqa: E402
from voiced.config import ListenSettings  # noqa: E402
from voiced.listen import Segmenter  # noqa: E402
from voiced.listen import events as heard  # noqa: E402

DEBUG = False
PATHS = ("stopped", "held", "missed", "self-stopped", "self-held")
ERLE_TARGET_DB = 25.0
DETECTION_TARGET = 0.95
ONSET_TO_SILENT_TARGET_MS = 400.0
CPU_TARGET_PERCENT = 2.0
MIN_ERLE_DB = 20.0  # [audio] echo_min_erle_db's default
BARGE_MS, HOLD_MS = 300, 700  # [daemon] barge_in_min_ms, barge_in_echo_min_ms

ROOMS = (("short", 40.0, 0.06, 0.05, 10.0), ("reverberant", 80.0, 0.8, 0.5, 0.0))
"""name, delay (ms), impulse response length (s), RT60 (s), direct-to-reverberant ratio (dB):
a laptop's speaker beside its microphone, and a living room with the speaker a metre away."""
NOISE_RMS = 30.0
"""The room's noise at the microphone: about -61 dBFS."""

REPLIES = [
    "Here is a long answer, so that there is time to talk over it. It goes on for a while, "
    "sentence after sentence, about nothing much at all. And then it goes on some more.",
    "The forecast for tomorrow is mostly sunny, with a light breeze from the west in the "
    "afternoon, and a chance of showers late in the evening near the coast.",
    "Your next meeting is at three, with the design team, in the small room on the second "
    "floor. After that you have nothing until the end of the day, so take a break.",
]
INTERRUPTIONS = [
    ("Stop, that is enough.", "en-gb"),
    ("Wait, tell me the weather instead.", "en-us+f3"),
    ("No, I meant the other one.", "en+m3"),
    ("Hold on a second please.", "en-us"),
]


@dataclass(frozen=True)
class Room:
    name: str
    options: RoomOptions


def make_rooms(directory: Path) -> list[Room]:
    """The two rooms, their impulse responses written as WAVs (as --echo-ir reads them): a
    direct path and an exponentially decaying diffuse tail at a given direct-to-reverberant
    ratio (DRR), scaled to unit energy (the room's gain then sets the echo's level)."""
    rng = np.random.default_rng(7)
    rooms = []
    for name, delay, length_s, rt60, drr_db in ROOMS:
        n = round(length_s * SAMPLE_RATE)
        t = np.arange(n) / SAMPLE_RATE
        tail = rng.normal(0, 1, n) * np.exp(-6.9 * t / rt60)
        tail[0] = 0.0
        tail *= np.sqrt(10 ** (-drr_db / 10) / np.sum(tail**2))
        ir = tail
        ir[0] = 1.0
        ir = ir / np.sqrt(np.sum(ir**2))
        path = directory / f"{name}.wav"
        write_wav(path, np.clip(np.rint(ir * 32000), -32768, 32767).astype(np.int16), SAMPLE_RATE)
        rooms.append(Room(name, RoomOptions(0.5, delay, path)))
    return rooms


def pcm(floats: np.ndarray, gain: float = 1.0) -> Int16Array:
    return np.clip(np.rint(floats * gain * 32767), -32768, 32767).astype(np.int16)


def energy_db(x: np.ndarray) -> float:
    f = x.astype(np.float64)
    return 10 * np.log10(max(float(f @ f), 1e-9))


class Output:
    """What voiced plays, from position ``start``, cut where it was stopped."""

    def __init__(self, reply: Int16Array, start: int) -> None:
        self.reply, self.start = reply, start
        self.stopped_at: int | None = None

    def segment(self, at: int, count: int) -> Int16Array:
        out: Int16Array = np.zeros(count, dtype=np.int16)
        end = self.start + self.reply.size
        if self.stopped_at is not None:
            end = min(end, self.stopped_at)
        lo, hi = max(at, self.start), min(at + count, end)
        if lo < hi:
            out[lo - at : hi - at] = self.reply[lo - self.start : hi - self.start]
        return out

    def read(self, at: int, count: int) -> Int16Array | None:
        end = self.start + self.reply.size if self.stopped_at is None else self.stopped_at
        if at + count <= self.start or at >= end + round(0.6 * SAMPLE_RATE):
            return None
        return self.segment(at, count)


def noise(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, NOISE_RMS, n)


# -- 1. ERLE ---------------------------------------------------------------------------------


def erle(room: Room, reply: Int16Array) -> tuple[float, float | None]:
    start = SAMPLE_RATE // 2
    total = start + reply.size + SAMPLE_RATE
    output = Output(reply, start)
    simulated = SimulatedRoom(room.options, output.segment)
    canceller = EchoCanceller(output)
    floor = noise(total, 3)
    mic, cleaned = np.zeros(total, np.int16), np.zeros(total, np.int16)
    run = [
        Frame(np.clip(np.rint(floor[i : i + FRAME_SAMPLES]), -32768, 32767).astype(np.int16), i)
        for i in range(0, total - FRAME_SAMPLES + 1, FRAME_SAMPLES)
    ]
    for i in range(0, len(run), 2):
        block = [simulated.mix(f) for f in run[i : i + 2]]
        for f in block:
            mic[f.start : f.end] = f.samples
        for f in canceller.process(block, block[0].start):
            cleaned[f.start : f.end] = f.samples
    lo, hi = start + 2 * SAMPLE_RATE, start + reply.size
    return round(energy_db(mic[lo:hi]) - energy_db(cleaned[lo:hi]), 1), canceller.meter.reply_db()


# -- 2. barge-in, frame by frame ------------------------------------------------------------


@dataclass
class Trial:
    detected: bool
    false_stop: bool
    onset_to_silent_ms: float | None
    """(For a self-stop: seconds into the reply.)"""
    path: str
    """How it went: "stopped", "held" (hold path), "missed", "self"."""


def barge_trial(room: Room, aec: bool, reply: Int16Array, user: Int16Array, at_s: float) -> Trial:
    start = SAMPLE_RATE // 2
    onset = start + round(at_s * SAMPLE_RATE)
    total = start + reply.size + SAMPLE_RATE
    near = noise(total, int(at_s * 1000))
    near[onset : onset + user.size] += user[: max(0, total - onset)]
    near_i16 = np.clip(np.rint(near), -32768, 32767).astype(np.int16)
    output = Output(reply, start)
    simulated = SimulatedRoom(room.options, output.segment)
    canceller = EchoCanceller(output) if aec else None
    segmenter = Segmenter(ListenSettings())
    current: int | None = None
    paused = False
    run = list(frames(near_i16))
    for i in range(0, len(run), 2):
        block = [simulated.mix(f) for f in run[i : i + 2]]
        cleaned = canceller.process(block, block[0].start) if canceller else block
        for frame in cleaned:
            for event in segmenter.feed(frame):
                match event:
                    case heard.SpeechStarted(onset=began):
                        current, paused = began, False
                    case heard.TentativeEnd():
                        paused = True
                    case heard.SpeechResumed():
                        paused = False
                    case heard.SpeechEnded() | heard.Dropped():
                        current = None
            playing = output.stopped_at is None and frame.end < start + reply.size
            if current is None or paused or not playing:
                continue
            trusted = canceller is not None and canceller.meter.trusted(MIN_ERLE_DB)
            bar = BARGE_MS if trusted else HOLD_MS
            if frame.end - current >= bar * SAMPLE_RATE // 1000:
                removed = canceller.meter.removed_db(bar // 30) if canceller else 0.0
                if removed >= REMOVED_DB:  # what is left of voiced's echo: not the user
                    continue
                if canceller is not None and DEBUG:
                    print(
                        "   decide",
                        (frame.end - start) / SAMPLE_RATE,
                        "onset",
                        (onset - start) / SAMPLE_RATE,
                        "removed",
                        round(canceller.meter.removed_db(bar // 30), 1),
                        trusted,
                    )
                output.stopped_at = frame.end  # stopped, or held: silent from here either way
                path = "stopped" if trusted else "held"
                if frame.end < onset:
                    return Trial(False, True, (frame.end - start) / SAMPLE_RATE, f"self-{path}")
                ms = (frame.end - onset) * 1000 / SAMPLE_RATE
                return Trial(True, False, ms, path)
    return Trial(False, False, None, "missed")


def barge_in(rooms: list[Room], trials: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    replies = [pcm(speak(text), 0.7) for text in REPLIES]
    users = [speak(text, voice) * 32767 for text, voice in INTERRUPTIONS]
    print(f"\n2. barge-in over a reply, {trials} trials per room (user 1.5-6 s into the reply)")
    print(
        f"   {'room':12} {'path':22} {'detected':>9} {'self-stops':>10} "
        f"{'onset->silent median':>21} {'max':>7}  how"
    )
    plan = [
        (
            int(rng.integers(len(replies))),
            int(rng.integers(len(users))),
            float(rng.uniform(1.5, 6.0)),
        )
        for _ in range(trials)
    ]
    for room in rooms:
        for aec in (True, False):
            results = [barge_trial(room, aec, replies[r], users[u], at) for r, u, at in plan]
            detected = sum(t.detected for t in results)
            selfs = sum(t.false_stop for t in results)
            times = [t.onset_to_silent_ms for t in results if t.detected and t.onset_to_silent_ms]
            med = statistics.median(times) if times else float("nan")
            worst = max(times) if times else float("nan")
            how = {
                p: sum(t.path == p for t in results) for p in ("stopped", "held", "missed", "self")
            }
            label = "AEC on (stops)" if aec else "hold path (AEC off)"
            print(
                f"   {room.name:12} {label:22} {detected:>4}/{trials:<4} {selfs:>10} "
                f"{med:>18.0f} ms {worst:>5.0f}ms  {how}"
            )


# -- 3. the real daemon ----------------------------------------------------------------------


async def daemon_trials(count: int) -> None:
    from tests.daemon.replaying import LONG_REPLY, replay, settings_for, transcript
    from tests.daemon.test_echo_hold import silent_span
    from tests.groqsim import ChatReply, GroqSim
    from tests.listen.scenes import lay_out

    print(
        f"\n3. the real daemon in replay mode, room gain 0.5 delay 80 ms, {count} trials per mode"
    )
    for mode in ("auto", "off"):
        times, stops = [], []
        for i in range(count):
            with tempfile.TemporaryDirectory() as tmp, GroqSim() as sim:
                home = Path(tmp)
                os.environ["XDG_DATA_HOME"] = str(home / "data")
                question, over = "What time is it?", INTERRUPTIONS[i % len(INTERRUPTIONS)][0]
                gap = 5.0 + 0.35 * i
                scene = lay_out(f"b{i}", [0.8, [speak(question)], gap, [speak(over)], 3.5])
                sim.enqueue(
                    "transcriptions", transcript(question), transcript(over), transcript(over)
                )
                sim.enqueue("chat", ChatReply(content=LONG_REPLY, ttft=0.1, tokens_per_s=500))
                sim.enqueue("chat", ChatReply(content="Sure.", ttft=0.1))
                s = settings_for(sim, home)
                s = replace(s, audio=replace(s.audio, echo_cancel=mode))
                run = await replay(scene, s, home, room=RoomOptions(0.5, 80.0))
                onset = scene.utterances[1][0]
                quiet, _ = silent_span(run.output, onset)
                times.append((quiet - onset) * 1000 / SAMPLE_RATE)
                holds = sum("holding" in e["reason"] for e in run.of("state"))
                stops.append(f"{run.of('speaking_stopped')[0]['reason']}/{holds} holds")
        label = "AEC on" if mode == "auto" else "hold path"
        print(
            f"   {label:10} onset->silent {', '.join(f'{t:.0f}' for t in times)} ms; "
            f"first reply: {', '.join(stops)}"
        )


# -- 4. CPU ----------------------------------------------------------------------------------


def cpu(seconds: float) -> None:
    reply = np.resize(pcm(speak(" ".join(REPLIES)), 0.7), round(seconds * SAMPLE_RATE))
    output = Output(reply, 0)
    room = SimulatedRoom(RoomOptions(0.5, 60.0), output.segment)
    mic = [room.mix(f) for f in frames(noise(reply.size, 5).astype(np.int16))]
    player = np.resize(np.repeat(reply, 2), round(seconds * 22050)).astype(np.int16)
    per_block = round(2 * FRAME_SAMPLES * 22050 / SAMPLE_RATE)

    def measure(mode: str) -> float:
        """CPU % of one core of the capture path (and the player's tap) over ``seconds``."""
        canceller = EchoCanceller(output if mode == "on" else Output(reply[:0], 0))
        tap = PlayerTap(FarEnd(seconds=8.0), 22050)
        began = time.thread_time()
        for i in range(0, len(mic), 2):
            block = mic[i : i + 2]
            if mode == "off":  # no canceller: the frames go on as they are
                continue
            if mode == "on":  # the player hands each block to the tap as PortAudio plays it
                j = (i // 2) * per_block
                tap.played(player[j : j + per_block], True, 0.0, 0.0)
            canceller.process(block, block[0].start)
        return (time.thread_time() - began) / seconds * 100

    off, silent, on = measure("off"), measure("silent"), measure("on")
    print(
        f"\n4. CPU, % of one core over {seconds:g} s of audio: AEC off {off:.3f} %; AEC on while "
        f"voiced is silent (pass-through) {silent:.3f} %; AEC on while speaking {on:.3f} %: "
        f"extra {on - off:.3f} % (target <= {CPU_TARGET_PERCENT} %), {on / max(off, 1e-6):.0f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--daemon-trials", type=int, default=2)
    parser.add_argument("--cpu-seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rooms = make_rooms(Path(tmp))
        print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
        print(
            "1. ERLE after convergence (reply after its first 2 s), dB; target >=", ERLE_TARGET_DB
        )
        for room in rooms:
            for text in REPLIES:
                measured, meter = erle(room, pcm(speak(text), 0.7))
                print(
                    f"   {room.name:12} {measured:6.1f} dB  (the canceller's meter: {meter} dB)"
                    f"  {text[:40]!r}"
                )
        barge_in(rooms, args.trials, args.seed)
    if args.daemon_trials:
        asyncio.run(daemon_trials(args.daemon_trials))
    cpu(args.cpu_seconds)


if __name__ == "__main__":
    main()
