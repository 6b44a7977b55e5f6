"""Benchmark: CPU used by microphone capture + segmentation while it hears silence.

Run: .venv/bin/python bench/capture_cpu.py [--seconds 20]
Starts a private PulseAudio server (as the audio tests do), listens to its silent virtual
microphone, and prints process CPU time over wall time as % of one core. The PortAudio and
ALSA-plugin threads count (they are this process); the sound server does not. Measured in the
same run: an idle event loop, and a bare PortAudio stream with a no-op callback on the same
device with the same block size and latency (the floor that PortAudio and the ALSA pulse plugin
cost by themselves); capture's own cost is its excess over that floor. The figure held to the
target (< 1 %) is capture feeding the real Segmenter with default ListenSettings, as the daemon
and ``voiced listen`` run it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.audio.pulse import PulseServer  # noqa: E402
from voiced.audio.capture import CaptureOptions, MicrophoneCapture  # noqa: E402
from voiced.audio.frames import SAMPLE_RATE  # noqa: E402
from voiced.config import ListenSettings  # noqa: E402
from voiced.listen import Segmenter  # noqa: E402

TARGET_PERCENT = 1.0
"""Capture + segmentation while listening to silence, % of one core (issue 3)."""


@dataclass
class Measurement:
    label: str
    cpu_percent: float
    frames: int = 0
    seconds: float = 0.0
    floor: Measurement | None = None
    """The bare PortAudio stream with the same block size, to compare with."""


async def measure(label: str, seconds: float, count: Callable[[], int]) -> Measurement:
    """CPU % over ``seconds`` after a 1 s settling time; ``count`` reads frames so far."""
    await asyncio.sleep(1.0)
    first, cpu, wall = count(), time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    used, elapsed = time.process_time() - cpu, time.monotonic() - wall
    return Measurement(label, 100 * used / elapsed, count() - first, elapsed)


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
    label: str, options: CaptureOptions, seconds: float, segment: bool = False
) -> Measurement:
    """Capture for ``seconds``; the consumer counts frames and, if ``segment``, feeds them to
    a Segmenter with the default settings (built beforehand: it loads the Silero model)."""
    segmenter = await asyncio.to_thread(Segmenter, ListenSettings()) if segment else None
    mic = MicrophoneCapture(options)
    await mic.start()
    count = 0

    async def consume() -> None:
        nonlocal count
        async for frame in mic.frames():
            count += 1
            if segmenter is not None:
                segmenter.feed(frame)

    consumer = asyncio.create_task(consume())
    result = await measure(label, seconds, lambda: count)
    await mic.aclose()
    await consumer
    return result


async def compared(
    label: str, options: CaptureOptions, seconds: float, segment: bool = False
) -> Measurement:
    """``listen``, then the floor with the same block size and latency."""
    result = await listen(label, options, seconds, segment)
    result.floor = await bare_stream(options, seconds)
    return result


async def run(seconds: float) -> tuple[list[Measurement], Measurement]:
    short = max(5.0, seconds / 2)
    default = CaptureOptions()
    floor = await bare_stream(default, seconds)
    segmented = await listen("capture + Segmenter (default)", default, seconds, segment=True)
    segmented.floor = floor
    results = [
        await idle(short),
        segmented,
        await compared("capture alone, 60 ms blocks", default, seconds),
        await compared("capture, latency 'high'", CaptureOptions(latency="high"), short),
        await compared("capture, 30 ms blocks", CaptureOptions(block_frames=1), short),
        await compared("capture, 90 ms blocks", CaptureOptions(block_frames=3), short),
        await compared("capture at 48 kHz, resampled", CaptureOptions(rate=48000), short),
    ]
    return results, segmented


def show(m: Measurement) -> str:
    line = f"  {m.label:<36} {m.cpu_percent:6.3f} %"
    if m.frames:
        rate = m.frames * 480 / m.seconds / SAMPLE_RATE
        line += f"   {m.frames} frames in {m.seconds:.1f} s ({rate:.3f}x real time)"
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="main measurement length")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="voiced-bench-") as root:
        server = PulseServer(Path(root))
        server.start()
        try:
            os.environ.update(server.env)
            import sounddevice

            sounddevice._terminate()
            sounddevice._initialize()
            results, target = asyncio.run(run(args.seconds))
        finally:
            server.stop()
    print("capture CPU while listening to silence on vmic, % of one core (process/wall time)")
    for m in results:
        print(show(m))
        if m.floor is not None:
            print(show(m.floor))
            excess = m.cpu_percent - m.floor.cpu_percent
            ratio = m.cpu_percent / m.floor.cpu_percent
            print(f"    capture's own cost: {excess:+.3f} % ({ratio:.2f}x the floor)")
    verdict = "meets" if target.cpu_percent < TARGET_PERCENT else "MISSES"
    assert target.floor is not None
    print(
        f"capture + segmentation: {target.cpu_percent:.3f} % of a core, {verdict} the "
        f"< {TARGET_PERCENT:g} % target (floor {target.floor.cpu_percent:.3f} %, "
        f"idle {results[0].cpu_percent:.3f} %)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
