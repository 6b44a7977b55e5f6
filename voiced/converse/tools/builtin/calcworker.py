"""Calculations in worker processes that a deadline really ends: a stalled one is killed.

A calculation that holds the interpreter (a huge power, say) cannot be stopped by a timeout in
the same process: the timeout stops waiting, not the work, and the work freezes the event
loop. In a worker process it runs on its own interpreter; voiced waits for the reply without
blocking, kills the worker at the deadline, and starts a fresh one for the next calculation.
The kernel also ends a worker that uses more than its CPU seconds or memory, so a worker
whose parent died cannot spin on its own.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import signal
import subprocess
import sys
import weakref
from pathlib import Path

from voiced.converse.tools.builtin import arith
from voiced.converse.tools.builtin.arith import LIMITS, CalculationError, Limits

DEADLINE_S = 2.0
"""Wall-clock seconds one calculation may take before its worker is killed."""
CPU_S = 2
"""CPU seconds one calculation may use before the kernel ends its worker (RLIMIT_CPU)."""
MEMORY_MB = 256
"""Address space of a worker (RLIMIT_AS)."""
START_S = 10.0
"""Seconds a new worker may take to start."""
MAX_WORKERS = 2
"""Calculations that run at once; more wait their turn."""
WORKER = Path(arith.__file__)
log = logging.getLogger(__name__)


class _Worker:
    """One worker process, and the bytes it sent that are not yet a whole line."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdin is not None and process.stdout is not None
        self.process = process
        self._in, self._out = process.stdin, process.stdout
        os.set_blocking(self._out.fileno(), False)
        self._buffer = b""

    def send(self, expression: str) -> None:
        """Write one request (a few hundred bytes: the pipe takes it without blocking)."""
        self._in.write(json.dumps(expression).encode() + b"\n")

    async def line(self) -> bytes:
        """The worker's next line, read without blocking the event loop.

        Raises:
            EOFError: The worker ended.
        """
        loop = asyncio.get_running_loop()
        fd = self._out.fileno()
        while b"\n" not in self._buffer:
            readable: asyncio.Future[None] = loop.create_future()
            loop.add_reader(fd, _wake, readable)
            try:
                await readable
            finally:
                loop.remove_reader(fd)
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                raise EOFError
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def kill(self) -> None:
        """Kill the process and close its pipes (reap it with ``process.wait``)."""
        if self.process.poll() is None:
            self.process.kill()
        self._in.close()
        self._out.close()


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class CalcWorkers:
    """Runs calculations in worker processes, each bounded in time, CPU and memory.

    Args:
        limits: The bounds the evaluator keeps (the defaults are proven cheap).
        deadline_s: Wall-clock seconds before a calculation's worker is killed.
        cpu_s: CPU seconds a calculation may use.
        memory_mb: Address space of a worker.
    """

    def __init__(
        self,
        limits: Limits = LIMITS,
        deadline_s: float = DEADLINE_S,
        cpu_s: int = CPU_S,
        memory_mb: int = MEMORY_MB,
    ) -> None:
        self.limits = limits
        self.deadline_s = deadline_s
        self.cpu_s = cpu_s
        options = arith.worker_options(limits, cpu_s, memory_mb)
        self._argv = [sys.executable, "-I", "-S", str(WORKER), options]
        self._idle: list[_Worker] = []
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._gates = weakref.WeakKeyDictionary()

    async def calculate(self, expression: str) -> str:
        """Calculate ``expression`` in a worker; return the formatted result.

        Raises:
            CalculationError: The expression cannot be calculated, took too long or too
                much, or no worker could be started.
        """
        if len(expression) > self.limits.length:
            raise CalculationError(f"the expression is longer than {self.limits.length} characters")
        async with self._gate():
            worker = await self._take()
            try:
                async with asyncio.timeout(self.deadline_s):
                    worker.send(expression)
                    reply = json.loads(await worker.line())
            except TimeoutError:
                self._retire(worker)
                raise CalculationError(
                    f"the calculation took longer than {self.deadline_s:g} s, so it was stopped"
                ) from None
            except (EOFError, OSError, ValueError):
                raise CalculationError(await self._ended(worker)) from None
            except BaseException:  # cancelled while the worker calculates: its state is unknown
                self._retire(worker)
                raise
            self._idle.append(worker)
        if "value" in reply:
            return str(reply["value"])
        raise CalculationError(str(reply.get("error", "the calculator gave no answer")))

    def close(self) -> None:
        """Stop the idle workers."""
        while self._idle:
            worker = self._idle.pop()
            worker.kill()
            worker.process.wait()

    def _gate(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(MAX_WORKERS)
        return gate

    async def _take(self) -> _Worker:
        """An idle worker that is still alive, or a new one."""
        while self._idle:
            worker = self._idle.pop()
            if worker.process.poll() is None:
                return worker
            self._retire(worker)
        return await self._start()

    async def _start(self) -> _Worker:
        try:
            process = await asyncio.to_thread(
                subprocess.Popen,
                self._argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                bufsize=0,
                env={},
                cwd="/",
                start_new_session=True,
            )
        except OSError as exc:
            raise CalculationError(
                f"cannot start the calculator's worker process: {exc.strerror or exc}"
            ) from None
        worker = _Worker(process)
        try:
            async with asyncio.timeout(START_S):
                await worker.line()
        except (TimeoutError, EOFError, OSError):
            self._retire(worker)
            raise CalculationError("the calculator's worker process did not start") from None
        except BaseException:
            self._retire(worker)
            raise
        return worker

    def _retire(self, worker: _Worker) -> None:
        """Kill a worker; it is reaped in a thread, so the event loop never waits."""
        worker.kill()
        asyncio.get_running_loop().run_in_executor(None, worker.process.wait)

    async def _ended(self, worker: _Worker) -> str:
        """Why a worker stopped answering, once it is reaped."""
        worker.kill()
        code = await asyncio.to_thread(worker.process.wait)
        if code == -signal.SIGXCPU:
            return (
                f"the calculation used more than {self.cpu_s} s of processor time, "
                "so it was stopped"
            )
        log.warning("the calculator's worker process ended with status %s", code)
        return f"the calculator's worker process ended unexpectedly (status {code})"


_shared: CalcWorkers | None = None


def shared_workers() -> CalcWorkers:
    """The process's calculator workers, stopped when voiced exits."""
    global _shared
    if _shared is None:
        _shared = CalcWorkers()
        atexit.register(_shared.close)
    return _shared
