"""Benchmark: long files against the loopback server: concurrent uploads, and peak memory.

Run: .venv/bin/python bench/long_file.py [--chunk-max-s S] [--part concurrency|memory|all]

Concurrency: a 30-minute file is generated (espeak-ng phrases with silences,
tests/listen/test_longfile.py), cut once at its silences, then the same pieces are sent with
max_concurrent_uploads 1, 4, 6 (the default) and 8 to a simulator in its own process answering
each request after 0.5 s. The ratio is the one-at-a-time wall time over each concurrent one,
measured in this run.

Memory: a 10-minute and a 60-minute 48 kHz stereo WAV are written block by block
(tests/hostile/longwav.py), and each is transcribed by ``voiced transcribe --format srt`` in its
own process against the simulator, with the default settings. The peak resident memory of that
process (its VmHWM as it exits, see tests/hostile/peakrss.py) is printed for both, with their
ratio. Target: within 20 % of each other and under 300 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _simproc import sim_process  # noqa: E402

from tests.groqsim import GroqSim, Segment, Transcript  # noqa: E402
from tests.hostile.longwav import write_long_wav  # noqa: E402
from tests.hostile.peakrss import transcribe_peak  # noqa: E402
from tests.listen.test_longfile import TEMPLATE, make_long_file  # noqa: E402
from voiced.config import SttSettings  # noqa: E402
from voiced.credentials import Secret  # noqa: E402
from voiced.groq import ClientOptions, GroqClient  # noqa: E402
from voiced.listen.chunked import transcribe_chunks  # noqa: E402
from voiced.listen.longfile import Chunk  # noqa: E402

DELAY = 0.5
REPLIES = 1000


MEMORY_MINUTES = (10, 60)
MEMORY_TARGET_MB = 300.0
MEMORY_RATIO = 1.2


def _script(sim: GroqSim) -> None:
    sim.enqueue("transcriptions", *[Transcript("words", delay=DELAY)] * REPLIES)


def _answer_at_once(sim: GroqSim) -> None:
    reply = Transcript("words", segments=(Segment(0.5, 1.5, "words"),))
    sim.enqueue("transcriptions", *[reply] * REPLIES)


async def _send(url: str, chunks: list[Chunk], concurrent: int) -> float:
    options = ClientOptions(chat_url=url, stt_url=url, api_key=Secret("bench"))
    async with GroqClient(options) as client:
        began = time.perf_counter()
        result = await transcribe_chunks(client, chunks, TEMPLATE, concurrent)
        wall = time.perf_counter() - began
    assert len(result.segments) == len(chunks)
    return wall


def concurrency(chunk_max_s: float) -> None:
    """Send the same pieces one at a time and concurrently; print the wall times."""
    began = time.perf_counter()
    long_file = make_long_file(chunk_max_s=chunk_max_s)
    planning = time.perf_counter() - began
    chunks = long_file.chunks
    print(f"30 min of audio, {len(chunks)} pieces of at most {chunk_max_s:g} s")
    print(f"generate + find speech + cut + encode FLAC: {planning:.2f} s")
    with sim_process(_script) as base:
        url = base.rstrip("/") + "/openai/v1"
        baseline = asyncio.run(_send(url, chunks, 1))
        print(f"{'concurrent':>10} {'wall s':>8} {'ratio':>7} {'ideal':>7}")
        print(f"{1:>10} {baseline:>8.2f} {1.0:>7.2f} {1.0:>7.2f}")
        for concurrent in (4, SttSettings().max_concurrent_uploads, 8):
            wall = asyncio.run(_send(url, chunks, concurrent))
            ideal = len(chunks) / math.ceil(len(chunks) / concurrent)
            print(f"{concurrent:>10} {wall:>8.2f} {baseline / wall:>7.2f} {ideal:>7.2f}")
    print(f"(each request answered after {DELAY} s; target: >= 4x faster than one at a time)")


def memory() -> None:
    """Transcribe a 10- and a 60-minute 48 kHz stereo WAV; print each process's peak RSS."""
    peaks: list[float] = []
    print(f"{'minutes':>7} {'file MB':>8} {'wall s':>7} {'peak RSS MB':>12} {'cues':>5}")
    with (
        tempfile.TemporaryDirectory(prefix="voiced-bench-") as tmp,
        sim_process(_answer_at_once) as base,
    ):
        for minutes in MEMORY_MINUTES:
            path = write_long_wav(Path(tmp) / f"long-{minutes}.wav", minutes)
            size = path.stat().st_size / 1e6
            began = time.perf_counter()
            run = transcribe_peak(path, base, "--format", "srt")
            wall = time.perf_counter() - began
            path.unlink()
            if run.returncode != 0:
                raise SystemExit(f"voiced transcribe failed ({run.returncode}): {run.stderr}")
            cues = run.stdout.count(" --> ")
            print(f"{minutes:>7} {size:>8.0f} {wall:>7.1f} {run.peak_rss_mb:>12.1f} {cues:>5}")
            peaks.append(run.peak_rss_mb)
    ratio = peaks[1] / peaks[0]
    ok = ratio <= MEMORY_RATIO and max(peaks) < MEMORY_TARGET_MB
    print(
        f"ratio 60 min / 10 min: {ratio:.2f} (target <= {MEMORY_RATIO:.2f}, "
        f"both < {MEMORY_TARGET_MB:.0f} MB): {'met' if ok else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-max-s", type=float, default=60.0)
    parser.add_argument("--part", choices=("concurrency", "memory", "all"), default="all")
    args = parser.parse_args()
    if args.part in ("concurrency", "all"):
        concurrency(args.chunk_max_s)
    if args.part in ("memory", "all"):
        memory()


if __name__ == "__main__":
    main()
