"""A GroqSim in a child process, for tests that play audio: the simulator's threads (and its
espeak-ng renders) then never hold this process's GIL while PortAudio waits for samples."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection

from voiced.speak.worker import normal_priority

from .server import GroqSim


def _serve(conn: Connection, script: Callable[[GroqSim], None] | None) -> None:
    # The Groq servers are not on this machine: under ``chrt`` (CI's audio tests) the
    # simulator, rendering speech with espeak-ng, would compete at real-time priority with the
    # player and the sound server.
    normal_priority()
    with GroqSim() as sim:
        if script is not None:
            script(sim)
        conn.send(sim.base_url)
        conn.recv()  # wait for the parent to finish


class SimProcess:
    """The running child's address and key."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.api_url = base_url + "/openai/v1"
        self.api_key = "gsk_test"


@contextmanager
def sim_process(script: Callable[[GroqSim], None] | None = None) -> Iterator[SimProcess]:
    """Start a GroqSim (key gsk_test) in a child process, let ``script`` (a module-level
    function) enqueue replies, and yield its address.

    Raises:
        RuntimeError: The child did not start within 30 s.
    """
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(child, script), daemon=True)
    proc.start()
    try:
        if not parent.poll(30):
            raise RuntimeError("the simulator process did not start within 30 s")
        yield SimProcess(str(parent.recv()))
    finally:
        parent.send("stop")
        proc.join(5)
        if proc.is_alive():
            proc.kill()
