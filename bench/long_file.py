"""Benchmark: a 30-minute file against the loopback server, pieces concurrent versus one by one.

Run: .venv/bin/python bench/long_file.py [--chunk-max-s S]
The file is generated (espeak-ng phrases with silences, tests/listen/test_longfile.py), cut once
at its silences, then the same pieces are sent with max_concurrent_uploads 1, 4, 6 (the default)
and 8 to a simulator in its own process answering each request after 0.5 s. The
ratio is the one-at-a-time wall time over each concurrent one, measured in this run.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _simproc import sim_process  # noqa: E402

from tests.groqsim import GroqSim, Transcript  # noqa: E402
from tests.listen.test_longfile import TEMPLATE, make_long_file  # noqa: E402
from voiced.config import SttSettings  # noqa: E402
from voiced.credentials import Secret  # noqa: E402
from voiced.groq import ClientOptions, GroqClient  # noqa: E402
from voiced.listen.chunked import transcribe_chunks  # noqa: E402
from voiced.listen.longfile import Chunk  # noqa: E402

DELAY = 0.5
REPLIES = 1000


def _script(sim: GroqSim) -> None:
    sim.enqueue("transcriptions", *[Transcript("words", delay=DELAY)] * REPLIES)


async def _send(url: str, chunks: list[Chunk], concurrent: int) -> float:
    options = ClientOptions(chat_url=url, stt_url=url, api_key=Secret("bench"))
    async with GroqClient(options) as client:
        began = time.perf_counter()
        result = await transcribe_chunks(client, chunks, TEMPLATE, concurrent)
        wall = time.perf_counter() - began
    assert len(result.segments) == len(chunks)
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-max-s", type=float, default=60.0)
    args = parser.parse_args()
    began = time.perf_counter()
    long_file = make_long_file(chunk_max_s=args.chunk_max_s)
    planning = time.perf_counter() - began
    chunks = long_file.chunks
    print(f"30 min of audio, {len(chunks)} pieces of at most {args.chunk_max_s:g} s")
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


if __name__ == "__main__":
    main()
