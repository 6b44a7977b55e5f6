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
   the reply stops it ``barge_in_min_ms`` (300) after the user's onset as the canceller's
   double-talk detector dates it (:mod:`voiced.audio.doubletalk`) while the canceller's meter
   trusts the room (else the hold path); the hold path (AEC off) holds it after
   ``barge_in_echo_min_ms`` (700) and waits for the transcript. Output stops the moment it is
   decided (replay mode's output has no device latency), and what is not played any more is
   not echoed. Reported: detections (the reply went silent during the user's speech), false
   self-interruptions (it went silent or was held before the user spoke), onset -> reply
   silent (median, max).
3. The same through the real daemon in replay mode (``voiced daemon --input ... --echo-gain 0.5
   --echo-delay-ms 80``, in-process against the loopback Groq server), ``--daemon-trials`` per
   mode: onset -> output silent read off the output WAV, to check part 2 against the pipeline.
4. CPU while speaking: seconds of CPU per second of audio for the capture-side canceller and
   the player-side tap (AEC on) against the pass-through (AEC off), as % of one core
   (target <= 2 % extra), with 30 ms capture blocks (``[audio] speaking_block_ms``, what the
   microphone is read in while voiced speaks: held to the target) and 60 ms ones
   (``capture_block_ms``). Each figure is the median of ``--cpu-repeats`` measurements taken
   in turn (this machine is shared: one measurement varied 1.4-2.0 % from run to run).
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
from voiced.audio.farend import FarEnd, Piece, PlayerTap, reference_of  # noqa: E402
from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame, Int16Array  # noqa: E402
from voiced.audio.room import RoomOptions, SimulatedRoom  # noqa: E402
from voiced.config import ListenSettings  # noqa: E402
from voiced.listen import Segmenter  # noqa: E402
from voiced.listen import events as heard  # noqa: E402

PATHS = ("stopped", "held", "missed", "self-stopped")
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
    """What voiced plays: the reply from position ``start``, silent while held (then going on
    from where it was cut), cut for good where it was stopped."""

    def __init__(self, reply: Int16Array, start: int) -> None:
        self.reply, self.start = reply, start
        self.pieces: list[list[int]] = [[start, 0, start + reply.size]]
        """[position, reply offset, end position] of each stretch played."""

    @property
    def end(self) -> int:
        return self.pieces[-1][2]

    def playing(self, at: int) -> bool:
        return any(p <= at < e for p, _, e in self.pieces)

    def stop(self, at: int) -> None:
        """Cut here (for good, unless ``resume`` follows)."""
        last = self.pieces[-1]
        last[2] = max(last[0], min(last[2], at))

    def resume(self, at: int) -> None:
        """Play on from where the last cut was, at ``at``."""
        p, offset, e = self.pieces[-1]
        done = offset + (e - p)
        if done < self.reply.size:
            self.pieces.append([at, done, at + self.reply.size - done])

    def segment(self, at: int, count: int) -> Int16Array:
        out: Int16Array = np.zeros(count, dtype=np.int16)
        for p, offset, e in self.pieces:
            lo, hi = max(at, p), min(at + count, e)
            if lo < hi:
                out[lo - at : hi - at] = self.reply[offset + lo - p : offset + hi - p]
        return out

    def read(self, at: int, count: int) -> Int16Array | None:
        tail = round(0.6 * SAMPLE_RATE)
        if not any(p < at + count and e + tail > at for p, _, e in self.pieces):
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


TRANSCRIPT_S = 0.3
"""Hold path: from the end of held speech to its transcript, when the reply plays on (about
what the loopback Groq server takes; Groq itself takes longer)."""


@dataclass
class Trial:
    detected: bool
    """The reply went silent (stopped, or held) while the user spoke."""
    false_stop: bool
    """It was stopped for good before the user spoke."""
    self_holds: int
    """Times it was held (paused) before the user spoke, then played on."""
    onset_to_silent_ms: float | None
    path: str
    """How it went silent for the user: "stopped", "held", or "missed", "self-stopped"."""


def silent_ms(output: Output, onset: int, now: int) -> float:
    """From the user's onset to the end of the last stretch played before ``now`` (0 when the
    reply was already silent, held for voiced's own echo, when the user began)."""
    ends = [min(e, now) for p, _, e in output.pieces if p < now]
    return (max([onset, *[e for e in ends if e > onset]]) - onset) * 1000 / SAMPLE_RATE


def barge_trial(room: Room, aec: bool, reply: Int16Array, user: Int16Array, at_s: float) -> Trial:
    start = SAMPLE_RATE // 2
    onset = start + round(at_s * SAMPLE_RATE)
    total = start + reply.size + 4 * SAMPLE_RATE
    near = noise(total, int(at_s * 1000))
    near[onset : onset + user.size] += user[: max(0, total - onset)]
    near_i16 = np.clip(np.rint(near), -32768, 32767).astype(np.int16)
    output = Output(reply, start)
    simulated = SimulatedRoom(room.options, output.segment)
    canceller = EchoCanceller(output) if aec else None
    segmenter = Segmenter(ListenSettings())
    current: int | None = None
    since = 0
    decided = paused = False
    resume_at: int | None = None
    holds = 0
    run = list(frames(near_i16))
    for i in range(0, len(run), 2):
        block = [simulated.mix(f) for f in run[i : i + 2]]
        cleaned = canceller.process(block, block[0].start) if canceller else block
        for frame in cleaned:
            if resume_at is not None and frame.start >= resume_at:
                output.resume(frame.start)  # the transcript was voiced's own words
                resume_at = None
            for event in segmenter.feed(frame):
                match event:
                    case heard.SpeechStarted(onset=began):
                        current, paused, decided = began, False, False
                        # the user's onset by the raw microphone (utterances.Utterances)
                        since = canceller.near_end.onset(began) if canceller else began
                    case heard.TentativeEnd():
                        paused = True
                    case heard.SpeechResumed():
                        paused = False
                    case heard.SpeechEnded() | heard.Dropped():
                        if decided and current is not None and current < onset + user.size:
                            if onset < frame.end:  # the held speech holds the user's words:
                                ms = silent_ms(output, onset, frame.end)  # stopped at once
                                return Trial(True, False, holds - 1, ms, "held")
                        if decided and resume_at is None and output.end <= frame.end:
                            resume_at = frame.end + round(TRANSCRIPT_S * SAMPLE_RATE)
                        current = None
            if current is None or paused or decided or not output.playing(frame.end - 1):
                continue
            trusted = canceller is not None and canceller.meter.trusted(MIN_ERLE_DB)
            bar = BARGE_MS if trusted else HOLD_MS
            if frame.end - (since if trusted else current) < bar * SAMPLE_RATE // 1000:
                continue
            heard_ms = min(bar, (frame.end - current) * 1000 // SAMPLE_RATE)
            removed = canceller.meter.removed_db(max(1, heard_ms // 30)) if canceller else 0.0
            if removed >= REMOVED_DB:  # what is left of voiced's echo: not the user
                continue
            decided = True
            output.stop(frame.end)  # stopped, or held: silent from here either way
            if frame.end >= onset:
                ms = silent_ms(output, onset, frame.end)
                return Trial(True, False, holds, ms, "stopped" if trusted else "held")
            if trusted:
                return Trial(False, True, holds, None, "self-stopped")
            holds += 1
    return Trial(False, False, holds, None, "missed")


def barge_in(rooms: list[Room], trials: int, seed: int) -> list[str]:
    """Run the trials; return the targets missed."""
    rng = np.random.default_rng(seed)
    replies = [pcm(speak(text), 0.7) for text in REPLIES]
    users = [speak(text, voice) * 32767 for text, voice in INTERRUPTIONS]
    print(f"\n2. barge-in over a reply, {trials} trials per room (user 1.5-6 s into the reply)")
    print(
        f"   {'room':12} {'path':20} {'detected':>9} {'false stops':>11} {'self-holds':>10} "
        f"{'onset->silent median':>21} {'max':>8}  how it went silent"
    )
    plan = [
        (
            int(rng.integers(len(replies))),
            int(rng.integers(len(users))),
            float(rng.uniform(1.5, 6.0)),
        )
        for _ in range(trials)
    ]
    missed: list[str] = []
    for room in rooms:
        for aec in (True, False):
            results = [barge_trial(room, aec, replies[r], users[u], at) for r, u, at in plan]
            detected = sum(t.detected for t in results)
            stops = sum(t.false_stop for t in results)
            holds = sum(t.self_holds for t in results)
            times = [t.onset_to_silent_ms for t in results if t.onset_to_silent_ms is not None]
            med = statistics.median(times) if times else float("nan")
            worst = max(times) if times else float("nan")
            how = {p: n for p in PATHS if (n := sum(t.path == p for t in results))}
            label = "AEC on" if aec else "hold path (AEC off)"
            print(
                f"   {room.name:12} {label:20} {detected:>4}/{trials:<4} {stops:>11} {holds:>10} "
                f"{med:>18.0f} ms {worst:>6.0f}ms  {how}"
            )
            if aec and (
                detected < DETECTION_TARGET * trials
                or stops
                or holds
                or not med <= ONSET_TO_SILENT_TARGET_MS
            ):
                missed.append(f"barge-in in the {room.name} room")
    return missed


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


def cpu(seconds: float, repeats: int = 5) -> float:
    """Print the CPU figures; return the extra % of one core AEC costs while speaking (30 ms
    blocks), each the median of ``repeats`` measurements taken in turn."""
    reply = np.resize(pcm(speak(" ".join(REPLIES)), 0.7), round(seconds * SAMPLE_RATE))
    output = Output(reply, 0)
    room = SimulatedRoom(RoomOptions(0.5, 60.0), output.segment)
    mic = [room.mix(f) for f in frames(noise(reply.size, 5).astype(np.int16))]
    player = np.resize(np.repeat(reply, 2), round(seconds * 22050)).astype(np.int16)

    def measure(mode: str, step: int) -> float:
        """CPU % of one core of the capture path (and the player's tap) over ``seconds``, the
        capture handing over ``step`` frames at a time."""
        canceller = EchoCanceller(output if mode == "on" else Output(reply[:0], 0))
        tap = PlayerTap(FarEnd(seconds=8.0), 22050)
        per_block = round(step * FRAME_SAMPLES * 22050 / SAMPLE_RATE)
        began = time.thread_time()
        # the player resamples each clip to 16 kHz for the reference as it is queued
        reference = reference_of(player, 22050) if mode == "on" else player[:0]
        for i in range(0, len(mic), step):
            block = mic[i : i + step]
            if mode == "off":  # no canceller: the frames go on as they are
                continue
            if mode == "on":  # the player hands each block to the tap as PortAudio plays it
                j = (i // step) * per_block
                piece = Piece(0, reference, j, per_block)
                tap.played(player[j : j + per_block], [piece], 0.0, 0.0)
            canceller.process(block, block[0].start)
        return (time.thread_time() - began) / seconds * 100

    extra = 0.0
    for block_ms in (30, 60):  # while voiced speaks (held to the target), and while silent
        step = block_ms // 30
        runs = [
            {mode: measure(mode, step) for mode in ("off", "silent", "on")} for _ in range(repeats)
        ]
        off, silent, on = (
            statistics.median(r[mode] for r in runs) for mode in ("off", "silent", "on")
        )
        spread = sorted(r["on"] - r["off"] for r in runs)
        print(
            f"\n4. CPU, % of one core over {seconds:g} s of audio, {block_ms} ms capture blocks, "
            f"median of {repeats}: AEC off {off:.3f} %; AEC on while voiced is silent "
            f"(pass-through) {silent:.3f} %; AEC on while speaking {on:.3f} %: extra "
            f"{on - off:.3f} % (each: {', '.join(f'{x:.2f}' for x in spread)})"
            + (f" (target <= {CPU_TARGET_PERCENT} %)" if block_ms == 30 else "")
        )
        if block_ms == 30:
            extra = on - off
    return extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--daemon-trials", type=int, default=2)
    parser.add_argument("--cpu-seconds", type=float, default=60.0)
    parser.add_argument("--cpu-repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rooms = make_rooms(Path(tmp))
        print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
        print(
            "1. ERLE after convergence (reply after its first 2 s), dB; target >=", ERLE_TARGET_DB
        )
        missed = []
        for room in rooms:
            for text in REPLIES:
                measured, meter = erle(room, pcm(speak(text), 0.7))
                if measured < ERLE_TARGET_DB:
                    missed.append(f"ERLE in the {room.name} room")
                print(
                    f"   {room.name:12} {measured:6.1f} dB  (the canceller's meter: {meter} dB)"
                    f"  {text[:40]!r}"
                )
        missed += barge_in(rooms, args.trials, args.seed)
    if args.daemon_trials:
        asyncio.run(daemon_trials(args.daemon_trials))
    if cpu(args.cpu_seconds, args.cpu_repeats) > CPU_TARGET_PERCENT:
        missed.append("CPU")
    print(f"\ntargets: {'all met' if not missed else 'missed: ' + ', '.join(sorted(set(missed)))}")


if __name__ == "__main__":
    main()
