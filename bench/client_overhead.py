"""Benchmark: the Groq client's cost over bare httpx, SSE parse throughput, a 60 s upload.

Run: .venv/bin/python bench/client_overhead.py [--rounds N]
Every figure is measured in the same run against the loopback server (in its own process);
ratios against the bare-httpx baseline are what to compare across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import sys
import time
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _simproc import sim_process  # noqa: E402

from tests.groqsim import ChatReply, GroqSim, Transcript  # noqa: E402
from voiced.credentials import Secret  # noqa: E402
from voiced.groq import ChatRequest, ClientOptions, GroqClient, Message  # noqa: E402
from voiced.groq.models import TranscriptionRequest  # noqa: E402
from voiced.groq.sse import SseDecoder  # noqa: E402
from voiced.groq.stream import ChatAccumulator  # noqa: E402

KEY = "gsk_bench_0000000000000000"
TOKENS = 2000
REPLY = " ".join(f"word{i % 97}" for i in range(TOKENS))
ROUNDS_MAX = 200


def _script(sim: GroqSim) -> None:
    sim.enqueue("chat", *[ChatReply(content=REPLY)] * ROUNDS_MAX)
    sim.enqueue("transcriptions", *[Transcript(text="sixty seconds of tone")] * ROUNDS_MAX)


def _wav_60s() -> bytes:
    t = np.arange(16000 * 60) / 16000
    samples = (np.sin(2 * np.pi * 220 * t) * 8000).astype(np.int16)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


Timing = tuple[float, float]


async def _timed(coro_fn: Callable[[], Awaitable[None]]) -> Timing:
    """Wall time and this process's CPU time (the server runs in another process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    await coro_fn()
    return time.perf_counter() - wall, time.process_time() - cpu


async def _compare(
    baseline: Callable[[], Awaitable[None]], ours: Callable[[], Awaitable[None]], rounds: int
) -> dict[str, float]:
    """Run both ``rounds`` times, interleaved so machine noise hits both alike."""
    await baseline()  # warm both connections
    await ours()
    base: list[Timing] = []
    mine: list[Timing] = []
    for _ in range(rounds):
        base.append(await _timed(baseline))
        mine.append(await _timed(ours))
    b_wall, b_cpu = (statistics.median(t[i] for t in base) for i in (0, 1))
    o_wall, o_cpu = (statistics.median(t[i] for t in mine) for i in (0, 1))
    return {
        "baseline_ms": b_wall * 1e3,
        "client_ms": o_wall * 1e3,
        "ratio": o_wall / b_wall,
        "baseline_cpu_ms": b_cpu * 1e3,
        "client_cpu_ms": o_cpu * 1e3,
        "cpu_ratio": o_cpu / b_cpu,
    }


async def bench_stream(base_url: str, rounds: int) -> dict[str, float]:
    api = base_url + "/openai/v1"
    request = ChatRequest(model="openai/gpt-oss-20b", messages=(Message.user("count"),))
    body = request.to_body(stream=True)
    bare = httpx.AsyncClient(timeout=60, headers={"Authorization": f"Bearer {KEY}"})
    client = GroqClient(ClientOptions(api, api, Secret(KEY)))

    async def baseline() -> None:
        async with bare.stream("POST", api + "/chat/completions", json=body) as r:
            async for _ in r.aiter_bytes():
                pass

    async def ours() -> None:
        async with client.stream_chat(request) as stream:
            async for _ in stream:
                pass
        assert len(stream.completion.content) == len(REPLY)

    result = await _compare(baseline, ours, rounds)
    await bare.aclose()
    await client.aclose()
    return result


def bench_parse(events: int = 100_000) -> dict[str, float]:
    chunks = []
    for i in range(events):
        chunk = {
            "id": "chatcmpl-0123456789",
            "object": "chat.completion.chunk",
            "created": 1767225600,
            "model": "openai/gpt-oss-20b",
            "system_fingerprint": "fp_abc123",
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": f" word{i % 97}"},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ],
        }
        chunks.append(b"data: " + json.dumps(chunk).encode() + b"\n\n")
    stream = b"".join(chunks) + b"data: [DONE]\n\n"
    pieces = [stream[i : i + 4096] for i in range(0, len(stream), 4096)]

    start = time.perf_counter()
    decoder = SseDecoder()
    count = sum(len(decoder.feed(p)) for p in pieces)
    decode_s = time.perf_counter() - start

    start = time.perf_counter()
    decoder, acc = SseDecoder(), ChatAccumulator()
    for piece in pieces:
        for name, data in decoder.feed(piece):
            if data != b"[DONE]":
                acc.add_event(name, data)
    full_s = time.perf_counter() - start
    assert count == events + 1
    return {"decode_events_per_s": count / decode_s, "full_events_per_s": events / full_s}


async def bench_upload(base_url: str, rounds: int) -> dict[str, float]:
    api = base_url + "/openai/v1"
    audio = _wav_60s()
    bare = httpx.AsyncClient(timeout=60, headers={"Authorization": f"Bearer {KEY}"})
    client = GroqClient(ClientOptions(api, api, Secret(KEY)))
    request = TranscriptionRequest(
        audio=audio, filename="minute.wav", model="whisper-large-v3-turbo"
    )

    async def baseline() -> None:
        r = await bare.post(
            api + "/audio/transcriptions",
            data={"model": "whisper-large-v3-turbo", "response_format": "json"},
            files={"file": ("minute.wav", audio, "application/octet-stream")},
        )
        r.raise_for_status()

    async def ours() -> None:
        await client.transcribe(request)

    result = await _compare(baseline, ours, rounds)
    await bare.aclose()
    await client.aclose()
    return {"size_mb": len(audio) / 1e6, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    rounds = min(parser.parse_args().rounds, ROUNDS_MAX // 2 - 1)
    with sim_process(_script) as base_url:
        stream = asyncio.run(bench_stream(base_url, rounds))
        upload = asyncio.run(bench_upload(base_url, rounds))
    parse = bench_parse()
    print(f"streamed chat, {TOKENS}-token reply, median of {rounds} interleaved rounds:")
    print(
        f"  wall: bare httpx {stream['baseline_ms']:.1f} ms, voiced client "
        f"{stream['client_ms']:.1f} ms, ratio {stream['ratio']:.2f}x (target <= 1.2x)"
    )
    print(
        f"  client CPU: bare httpx {stream['baseline_cpu_ms']:.1f} ms, voiced client "
        f"{stream['client_cpu_ms']:.1f} ms, ratio {stream['cpu_ratio']:.2f}x"
    )
    print("SSE parse throughput (100,000 events):")
    print(
        f"  decode only {parse['decode_events_per_s']:,.0f} events/s; decode + JSON + "
        f"accumulate {parse['full_events_per_s']:,.0f} events/s (target >= 50,000)"
    )
    print(f"transcription upload, 60 s 16 kHz mono WAV ({upload['size_mb']:.2f} MB):")
    print(
        f"  wall: bare httpx {upload['baseline_ms']:.1f} ms, voiced client "
        f"{upload['client_ms']:.1f} ms, ratio {upload['ratio']:.2f}x; client CPU ratio "
        f"{upload['cpu_ratio']:.2f}x"
    )


if __name__ == "__main__":
    main()
