"""Benchmark: does starting MCP servers delay the daemon's readiness?

Run: .venv/bin/python bench/mcp_startup.py [--servers N] [--rounds R]

Starts the real daemon in replay mode (a silent file as the microphone, a loopback Groq
server that is never needed) R times with no MCP server and R times with N stdio servers
(tests/mcp/servers/toolbox.py, each a Python process that loads the MCP SDK), alternating.
For each run it measures, from the start of ``Daemon.run``: the control socket serving
(``daemon.ready``), the pipeline listening (the engine's ``ready``), and, with servers, when
every server's tools are offered. Readiness should not move; the servers come up after it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import wave
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.mcp.servers import PYTHON, TOOLBOX  # noqa: E402
from voiced.config import McpServerSettings, McpSettings, load_settings  # noqa: E402
from voiced.daemon.app import Daemon  # noqa: E402
from voiced.pipeline.assemble import AssembledEngine, ReplayFiles, engine_factory  # noqa: E402


def silence(path: Path, seconds: float) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * int(16000 * seconds))
    return path


async def one_run(servers: int, work: Path) -> dict[str, float]:
    notes = work / "notes"
    notes.mkdir(exist_ok=True)
    loaded = load_settings({"HOME": str(work), "GROQ_API_KEY": "gsk_bench_0123456789abcdef"})
    tables = tuple(
        McpServerSettings(
            name=f"box{n}",
            command=PYTHON,
            args=(str(TOOLBOX),),
            env={"TOOLBOX_NOTES": str(notes)},
        )
        for n in range(servers)
    )
    settings = replace(
        loaded,
        mcp=McpSettings(servers=tables),
        speech=replace(loaded.speech, earcons=False),
        chat=replace(loaded.chat, base_url="http://127.0.0.1:9/openai/v1"),
        stt=replace(loaded.stt, base_url="http://127.0.0.1:9/openai/v1"),
    )
    files = ReplayFiles(silence(work / "in.wav", 12.0))
    daemon = Daemon(
        settings, socket=work / "s" / "control.sock", engine=engine_factory(settings, files)
    )
    began = time.perf_counter()
    task = asyncio.create_task(daemon.run(handle_signals=False))
    marks: dict[str, float] = {}
    await daemon.ready.wait()
    marks["socket"] = time.perf_counter() - began
    engine = daemon.engine
    assert isinstance(engine, AssembledEngine)
    await engine.ready.wait()
    marks["listening"] = time.perf_counter() - began
    if servers:
        async with asyncio.timeout(60):
            while sum(s.state == "ready" for s in daemon.mcp_states()) < servers:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        marks["tools offered"] = time.perf_counter() - began
    daemon.stop("bench over")
    await task
    return marks


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[int, list[dict[str, float]]] = {0: [], args.servers: []}
    for _ in range(args.rounds):
        for count in (0, args.servers):
            with tempfile.TemporaryDirectory(prefix="vd-bench-") as work:
                results[count].append(await one_run(count, Path(work)))
    for count, runs in results.items():
        print(f"{count} MCP servers ({len(runs)} runs), median seconds after Daemon.run:")
        for mark in runs[0]:
            values = [r[mark] for r in runs]
            spread = f"{min(values):.3f}–{max(values):.3f}"
            print(f"  {mark:<14} {statistics.median(values):.3f}  ({spread})")


if __name__ == "__main__":
    asyncio.run(main())
