"""Benchmark: CPU used by microphone capture + segmentation while it hears silence.

Run: .venv/bin/python bench/capture_cpu.py [--seconds 20]
Starts a private PulseAudio server (as the audio tests do), listens to its silent virtual
microphone, and prints process CPU time over wall time as % of one core. The PortAudio and
ALSA-plugin threads count (they are this process); the sound server does not. Measured in the
same run: an idle event loop, and a bare PortAudio stream with a no-op callback on the same
device with the same block size and latency (the floor that PortAudio and the ALSA pulse plugin
cost by themselves); capture's own cost is its excess over that floor. The figure held to the
target (< 1 %) is capture feeding the real Segmenter with default ListenSettings, letting quiet
frames wait as the daemon and ``voiced listen`` do. Beside it, the same with the wake-word
detector (okay_nabu with its verifier, behind the segmenter's quiet gate, as the daemon runs
it) fed every frame after the segmenter: capture + segmentation + wake word, held to the same
target.

It runs on two server layouts, because the server decides how often this process wakes up:
- desktop: the server hands the microphone over at the latency voiced asks for, as a desktop
  server does when voiced is the microphone's only reader (held to the target);
- test rig: the audio tests' 20 ms keep-alive reader on the microphone makes the server send
  every reader 5 ms chunks, so the pulse client thread wakes about 180 times a second.
Both share audio with this process through memfd, as desktop servers do by default (the tests'
server turns memfd off; POSIX shared memory costs the client about 0.25 % of a core more).
Each figure comes with its per-thread split (from /proc: CPU time and voluntary wake-ups).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.audio.pulse import PulseServer  # noqa: E402
from voiced.audio.capture import CaptureOptions, MicrophoneCapture  # noqa: E402
from voiced.audio.frames import SAMPLE_RATE  # noqa: E402
from voiced.config import ListenSettings  # noqa: E402
from voiced.config.wake import WakeSettings  # noqa: E402
from voiced.listen import Segmenter  # noqa: E402
from voiced.wake.detector import WakeDetector  # noqa: E402

TARGET_PERCENT = 1.0
"""Capture + segmentation (+ wake word) while listening to silence, % of one core (issues 3
and 11)."""


@dataclass
class Measurement:
    label: str
    cpu_percent: float
    frames: int = 0
    seconds: float = 0.0
    floor: Measurement | None = None
    """The bare PortAudio stream with the same block size, to compare with."""
    threads: list[tuple[str, float, float]] = field(default_factory=list)
    """(thread, % of a core, voluntary wake-ups a second) for threads that used any CPU."""


def thread_times() -> dict[str, tuple[str, int, int]]:
    """Per thread of this process: (name, CPU ns, voluntary context switches so far)."""
    found = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            name = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
            ns = int(Path(f"/proc/self/task/{tid}/schedstat").read_text().split()[0])
            status = Path(f"/proc/self/task/{tid}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended
        switches = int(status.split("voluntary_ctxt_switches:")[1].split()[0])
        label = "event loop" if int(tid) == os.getpid() else name
        found[tid] = (label, ns, switches)
    return found


def thread_split(
    before: dict[str, tuple[str, int, int]], seconds: float
) -> list[tuple[str, float, float]]:
    """Each thread's share of a core and wake-ups a second since ``before``, busiest first."""
    after = thread_times()
    split = []
    for tid, (name, ns, switches) in after.items():
        if tid in before:
            percent = (ns - before[tid][1]) / seconds / 1e7
            if percent >= 0.005:
                split.append((name, percent, (switches - before[tid][2]) / seconds))
    return sorted(split, key=lambda t: -t[1])


async def measure(label: str, seconds: float, count: Callable[[], int]) -> Measurement:
    """CPU % over ``seconds`` after a 1 s settling time; ``count`` reads frames so far."""
    await asyncio.sleep(1.0)
    first, threads = count(), thread_times()
    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    used, elapsed = time.process_time() - cpu, time.monotonic() - wall
    result = Measurement(label, 100 * used / elapsed, count() - first, elapsed)
    result.threads = thread_split(threads, elapsed)
    return result


async def idle(seconds: float) -> Measurement:
    """The baseline: an event loop with nothing to do but a timer."""
    return await measure("idle event loop (baseline)", seconds, lambda: 0)


async def bare_stream(options: CaptureOptions, seconds: float) -> Measurement:
    """The floor: a raw PortAudio stream on the same device whose callback only counts."""
    import sounddevice

    calls = 0

    def callback(indata: object, frames: int, time_info: object, status: object) -> None:
        nonlocal calls
        calls += 1

    blocks = options.block_frames
    label = f"floor: no-op stream, {30 * blocks} ms blocks"
    with sounddevice.RawInputStream(
        samplerate=SAMPLE_RATE,
        channels=1,
        dtype="int16",
        blocksize=480 * blocks,
        latency=options.latency,
        callback=callback,
    ):
        return await measure(label, seconds, lambda: calls * blocks)


async def listen(
    label: str, options: CaptureOptions, seconds: float, segment: bool = False, wake: bool = False
) -> Measurement:
    """Capture for ``seconds``; the consumer counts frames and, if ``segment``, feeds them to
    a Segmenter with the default settings (built beforehand: it loads the Silero model), and
    if ``wake`` then to the okay_nabu WakeDetector with the segmenter's quiet level."""
    segmenter = await asyncio.to_thread(Segmenter, ListenSettings()) if segment else None
    detector = WakeDetector.from_settings(WakeSettings()) if wake else None  # as shipped
    mic = MicrophoneCapture(options)
    await mic.start()
    count = 0

    async def consume() -> None:
        nonlocal count
        async for frame in mic.frames():
            count += 1
            if segmenter is not None:
                segmenter.feed(frame)
                quiet = segmenter.quiet_below_db
                if detector is not None:
                    detector.feed(frame, quiet)
                mic.wait_below(quiet)

    consumer = asyncio.create_task(consume())
    result = await measure(label, seconds, lambda: count)
    await mic.aclose()
    await consumer
    return result


async def compared(
    label: str, options: CaptureOptions, seconds: float, segment: bool = False, wake: bool = False
) -> Measurement:
    """``listen``, then the floor with the same block size and latency."""
    result = await listen(label, options, seconds, segment, wake)
    result.floor = await bare_stream(options, seconds)
    return result


@dataclass
class Layout:
    name: str
    mic_keepalive_ms: int
    """The keep-alive reader's latency on the microphone (see tests.audio.pulse)."""
    held_to_target: bool


LAYOUTS = (Layout("desktop", 200, True), Layout("test rig", 20, False))

TARGET_LABEL = "capture + Segmenter, quiet frames wait"
WAKE_LABEL = "capture + Segmenter + wake word, wait"
FAST_LABEL = "capture + Segmenter + wake, 30 ms blocks"
"""What a turn costs while it is active (``[audio] speaking_block_ms = 30``, a barge-in about
50 ms sooner), or all day with ``capture_block_ms = 30``: reported beside the target, not held
to it (voiced listens in 60 ms blocks while it is silent)."""
TARGETS = (TARGET_LABEL, WAKE_LABEL, FAST_LABEL)


async def run_desktop(seconds: float) -> list[Measurement]:
    """The full set on the desktop layout; the target figure is measured twice."""
    short = max(5.0, seconds / 2)
    default = CaptureOptions()
    fast = CaptureOptions(block_frames=1)
    results = [await idle(short)]
    for _ in range(2):
        results.append(await compared(TARGET_LABEL, default, seconds, segment=True))
        results.append(await compared(WAKE_LABEL, default, seconds, segment=True, wake=True))
        results.append(await compared(FAST_LABEL, fast, seconds, segment=True, wake=True))
    every_block = CaptureOptions(quiet_wait_frames=0)
    results += [
        await compared("capture + Segmenter, no waiting", every_block, short, segment=True),
        await compared("capture alone, 60 ms blocks", default, short),
        await compared("capture alone, 90 ms blocks", CaptureOptions(block_frames=3), short),
        await compared("capture alone at 48 kHz", CaptureOptions(rate=48000), short),
    ]
    return results


async def run_rig(seconds: float) -> list[Measurement]:
    return [await compared(TARGET_LABEL, CaptureOptions(), seconds, segment=True)]


def on_server(layout: Layout, seconds: float) -> list[Measurement]:
    """Start a private server with ``layout`` and measure on it."""
    with tempfile.TemporaryDirectory(prefix="voiced-bench-") as root:
        server = PulseServer(Path(root), mic_keepalive_ms=layout.mic_keepalive_ms, memfd=True)
        server.start()
        try:
            os.environ.update(server.env)
            import sounddevice

            sounddevice._terminate()
            sounddevice._initialize()
            return asyncio.run(run_desktop(seconds) if layout.held_to_target else run_rig(seconds))
        finally:
            server.stop()


def show(m: Measurement) -> str:
    line = f"  {m.label:<38} {m.cpu_percent:6.3f} %"
    if m.frames:
        rate = m.frames * 480 / m.seconds / SAMPLE_RATE
        line += f"   {m.frames} frames in {m.seconds:.1f} s ({rate:.3f}x real time)"
    return line


def show_threads(m: Measurement) -> str:
    return "      threads: " + "; ".join(
        f"{name} {percent:.3f} % ({wakes:.0f} wake-ups/s)" for name, percent, wakes in m.threads
    )


def report(layout: Layout, results: list[Measurement]) -> list[Measurement]:
    """Print one layout's figures; return its target measurements (both kinds)."""
    print(f"{layout.name} (keep-alive reader on the microphone at {layout.mic_keepalive_ms} ms):")
    for m in results:
        print(show(m))
        if m.label in TARGETS:
            print(show_threads(m))
        if m.floor is not None:
            print(show(m.floor))
            if m.label in TARGETS:
                print(show_threads(m.floor))
            excess = m.cpu_percent - m.floor.cpu_percent
            ratio = m.cpu_percent / m.floor.cpu_percent
            print(f"    capture's own cost: {excess:+.3f} % ({ratio:.2f}x the floor)")
    return [m for m in results if m.label in TARGETS]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="main measurement length")
    args = parser.parse_args()
    measured = [(layout, on_server(layout, args.seconds)) for layout in LAYOUTS]
    print("capture CPU while listening to silence on vmic, % of one core (process/wall time)")
    for layout, results in measured:
        measured_targets = report(layout, results)
        kinds = (
            (TARGET_LABEL, "capture + segmentation"),
            (WAKE_LABEL, "+ wake word"),
            (FAST_LABEL, "+ wake word, 30 ms blocks"),
        )
        for label, what in kinds:
            targets = [m for m in measured_targets if m.label == label]
            if not targets:
                continue
            mean = sum(m.cpu_percent for m in targets) / len(targets)
            floors = [m.floor.cpu_percent for m in targets if m.floor is not None]
            if label == FAST_LABEL:
                verdict = " (while a turn is active; not held to the target)"
            elif layout.held_to_target:
                worst = max(m.cpu_percent for m in targets)
                verdict = "meets" if worst < TARGET_PERCENT else "MISSES"
                verdict = f", {verdict} the < {TARGET_PERCENT:g} % target"
            else:
                verdict = " (not held to the target: the rig's 5 ms chunks)"
            print(
                f"{layout.name}: {what} {mean:.3f} % of a core{verdict} "
                f"(floor {sum(floors) / len(floors):.3f} %)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
