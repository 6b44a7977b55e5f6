"""Benchmark: CPU used by microphone capture (and a no-op consumer) while it hears silence.

Run: .venv/bin/python bench/capture_cpu.py [--seconds 20]
Starts a private PulseAudio server (as the audio tests do), listens to its silent virtual
microphone, and prints process CPU time over wall time as % of one core. The PortAudio and
ALSA-plugin threads count (they are this process); the sound server does not. Measured in the
same run: an idle event loop, and a bare PortAudio stream with a no-op callback on the same
device (the floor that PortAudio and the ALSA pulse plugin cost by themselves); capture's own
cost is its excess over that floor. Target: capture + segmentation < 1 %.
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


async def bare_stream(block_frames: int, seconds: float) -> Measurement:
    """The floor: a PortAudio stream on the same device whose callback only counts."""
    import sounddevice

    calls = 0

    def callback(indata: object, frames: int, time_info: object, status: object) -> None:
        nonlocal calls
        calls += 1

    label = f"floor: no-op stream, {30 * block_frames} ms blocks"
    with sounddevice.InputStream(
        samplerate=SAMPLE_RATE,
        channels=1,
        dtype="int16",
        blocksize=480 * block_frames,
        callback=callback,
    ):
        return await measure(label, seconds, lambda: calls * block_frames)


async def listen(label: str, options: CaptureOptions, seconds: float) -> Measurement:
    """Capture for ``seconds`` with a consumer that only counts frames."""
    mic = MicrophoneCapture(options)
    await mic.start()
    count = 0

    async def consume() -> None:
        nonlocal count
        async for _ in mic.frames():
            count += 1

    consumer = asyncio.create_task(consume())
    result = await measure(label, seconds, lambda: count)
    await mic.aclose()
    await consumer
    result.floor = await bare_stream(options.block_frames, seconds)
    return result


async def run(seconds: float) -> list[Measurement]:
    short = max(5.0, seconds / 2)
    return [
        await idle(short),
        await listen("capture, 60 ms blocks (default)", CaptureOptions(), seconds),
        await listen("capture, 30 ms blocks", CaptureOptions(block_frames=1), short),
        await listen("capture, 90 ms blocks", CaptureOptions(block_frames=3), short),
        await listen("capture at 48 kHz, resampled", CaptureOptions(rate=48000), short),
    ]


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
            results = asyncio.run(run(args.seconds))
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
