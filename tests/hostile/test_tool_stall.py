"""Class 1: no tool stalls the process; the event loop keeps its heartbeat through hostile work."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from voiced.converse.tools import ToolRegistry, ToolRunner
from voiced.converse.tools.builtin.calculator import CalcWorkers, Limits, calculator_tools
from voiced.converse.tools.builtin.notes import MAX_READ, NotesFile, notes_tools
from voiced.converse.tools.registry import Tool
from voiced.groq.models import ToolCall

ROOT = Path(__file__).resolve().parents[2]
MAX_GAP_S = 0.25
"""Longest the event loop may go without ticking while a tool works."""
NO_BOUNDS = Limits(length=300, exponent=10**15, bits=10**15, factorial=10**15, round_digits=10**15)
"""Limits a bug might have left open: the worker's deadline alone must then end the work."""

HOSTILE = {
    "round(1, -10**12)": "round takes at most 1000 digits either side of the point",
    "round(2 ** 4096, -10**6)": "round takes at most 1000 digits",
    "9**9**9": "the exponent 387420489 is too large",
    "2 ** 10000 ** 2": "the exponent 100000000 is too large",
    "10 ** 10000": "the result is too large",
    "factorial(10**6)": "factorial is limited to 500",
    "factorial(1e308)": "factorial is limited to 500",
    "2**4096 * 2**4096": "the result is too large",
    "(2**4096 - 1) * (2**4096 - 1) * 2**4096": "the result is too large",
    "floor(1e308) ** 5": "the result is too large",
    "ceil(1e308 * 10)": "the result is too large",
    "round(1e308 * 1e308)": "the result is too large",
    "sqrt(2**4096)": "the result is too large",
    "2**4096 / 3": "the result is too large",
    "max(" + ", ".join(["2**4096"] * 30) + ") * 2": "the result is too large",
    "-" * 295 + "(1)": "-(1) = -1",
}
"""Each hostile expression and what the model hears back (the last one is fine)."""

PROBE = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from voiced.converse.tools import ToolRegistry, ToolRunner
    from voiced.converse.tools.builtin.calculator import calculator_tools
    from voiced.groq.models import ToolCall

    async def main(expressions):
        runner = ToolRunner(ToolRegistry(calculator_tools()), timeout=5.0)
        ticks = [time.monotonic()]
        async def heartbeat():
            while True:
                await asyncio.sleep(0.01)
                ticks.append(time.monotonic())
        beat = asyncio.create_task(heartbeat())
        await asyncio.sleep(0.05)
        calls = [
            ToolCall(f"call_{i}", "calculate", json.dumps({"expression": e}))
            for i, e in enumerate(expressions)
        ]
        outcomes = await runner.run(calls)
        await asyncio.sleep(0.05)
        beat.cancel()
        gap = max(b - a for a, b in zip(ticks, ticks[1:]))
        print(json.dumps({"gap": gap, "outcomes": [[o.problem, o.content] for o in outcomes]}))

    asyncio.run(main(json.loads(sys.argv[1])))
    """
)


def heartbeat_probe(expressions: list[str]) -> dict[str, object]:
    """Run the calculations through the real tool path in a fresh process, its loop ticking.

    A separate process, because a calculation that holds the interpreter would freeze this
    one too, pytest's own timeout included; here it is killed and the test fails.
    """
    try:
        done = subprocess.run(
            [sys.executable, "-c", PROBE, json.dumps(expressions)],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the event loop froze: the hostile calculation ran for 30 s without end")
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.realtime
@pytest.mark.subprocess
def test_the_event_loop_keeps_its_heartbeat_while_hostile_calculations_run() -> None:
    result = heartbeat_probe(list(HOSTILE))
    gap = result["gap"]
    assert isinstance(gap, float) and gap < MAX_GAP_S, f"the event loop stalled for {gap:.3f} s"
    outcomes = result["outcomes"]
    assert isinstance(outcomes, list)
    for (expression, said), (problem, content) in zip(HOSTILE.items(), outcomes, strict=True):
        assert said in content, f"{expression[:40]!r}: {content}"
        assert problem == (None if expression.startswith("-") else "failed")


async def ticking(work: asyncio.Future[Any]) -> float:
    """Await ``work`` while ticking every 10 ms; return the longest gap between ticks."""
    ticks = [time.monotonic()]
    while not work.done():
        await asyncio.sleep(0.01)
        ticks.append(time.monotonic())
    return max(b - a for a, b in zip(ticks, ticks[1:], strict=False))


def worker_pids() -> set[int]:
    """This process's calculator workers, zombies included."""
    found = set()
    for child in psutil.Process().children():
        try:
            if any(part.endswith("arith.py") for part in child.cmdline()):
                found.add(child.pid)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            found.add(child.pid)
    return found


@pytest.mark.realtime
async def test_a_runaway_calculation_is_killed_at_its_deadline_and_the_next_one_runs() -> None:
    workers = CalcWorkers(NO_BOUNDS, deadline_s=1.0, cpu_s=30)
    runner = ToolRunner(ToolRegistry(calculator_tools(workers)), timeout=20.0)
    try:
        before = worker_pids()
        (warm,) = await runner.run([ToolCall("c0", "calculate", '{"expression": "1+1"}')])
        assert warm.content == "1+1 = 2"
        (first,) = worker_pids() - before
        started = time.monotonic()
        hostile = ToolCall("c1", "calculate", '{"expression": "round(1, -10**12)"}')
        work = asyncio.ensure_future(runner.run([hostile]))
        gap = await ticking(work)
        (outcome,) = work.result()
        assert gap < MAX_GAP_S, f"the event loop stalled for {gap:.3f} s"
        assert outcome.problem == "failed"
        assert json.loads(outcome.content) == {
            "error": "the calculation took longer than 1 s, so it was stopped"
        }
        assert 1.0 <= time.monotonic() - started < 10.0
        deadline = time.monotonic() + 10
        while first in worker_pids():
            assert time.monotonic() < deadline, "the killed worker was never reaped"
            await asyncio.sleep(0.02)
        (again,) = await runner.run([ToolCall("c2", "calculate", '{"expression": "6*7"}')])
        assert again.content == "6*7 = 42"
    finally:
        workers.close()


@pytest.mark.realtime
async def test_the_kernel_ends_a_worker_that_exceeds_its_cpu_seconds() -> None:
    workers = CalcWorkers(NO_BOUNDS, deadline_s=50.0, cpu_s=1)
    (calculate,) = calculator_tools(workers)
    try:
        work = asyncio.ensure_future(calculate.invoke({"expression": "9**9**9**9"}))
        gap = await ticking(work)
        assert gap < MAX_GAP_S, f"the event loop stalled for {gap:.3f} s"
        with pytest.raises(Exception, match="used more than 1 s of processor time"):
            work.result()
    finally:
        workers.close()


async def test_a_calculation_that_needs_too_much_memory_is_refused() -> None:
    workers = CalcWorkers(NO_BOUNDS, deadline_s=50.0, cpu_s=30, memory_mb=64)
    (calculate,) = calculator_tools(workers)
    try:
        with pytest.raises(Exception, match="the calculation needs too much memory"):
            await calculate.invoke({"expression": "2 ** 2 ** 31"})
        assert await calculate.invoke({"expression": "2 ** 10"}) == "2 ** 10 = 1024"
    finally:
        workers.close()


def tools_by_name(tools: list[Tool]) -> dict[str, Tool]:
    return {t.name: t for t in tools}


async def test_notes_are_read_and_searched_in_the_latest_part_of_a_huge_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notes.md"
    with path.open("w") as fh:
        fh.write("- 2020-01-01 09:00 the oldest kayak note\n")
        filler = "- 2021-01-01 09:00 " + "lorem ipsum dolor " * 20 + "\n"
        fh.write(filler * (3 * MAX_READ // len(filler)))
        fh.write("- a hand-written kayak line " + "y" * 200_000 + "\n")
        fh.write("- 2026-03-03 14:05 the newest kayak note\n")
    tools = tools_by_name(notes_tools(NotesFile(path)))
    found = await tools["search_notes"].invoke({"query": "kayak"})
    assert found.startswith("2 notes match (the notes file is large: ")
    assert "only those were searched" in found and "newest kayak" in found
    assert "oldest" not in found and len(found) < 10_000
    latest = await tools["read_notes"].invoke({"count": 1})
    assert latest.startswith("the notes file is large: ")
    assert latest.endswith("the latest: 2026-03-03 14:05 the newest kayak note")
    with pytest.raises(Exception, match="at most 20 words"):
        await tools["search_notes"].invoke({"query": " ".join(["kayak"] * 21)})
