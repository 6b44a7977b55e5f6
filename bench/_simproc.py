"""Run the loopback Groq server in a child process, so it does not share the client's GIL."""

from __future__ import annotations

import multiprocessing as mp
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.groqsim import GroqSim  # noqa: E402


def _serve(conn: Connection, script: Callable[[GroqSim], None]) -> None:
    with GroqSim(api_key=None) as sim:
        script(sim)
        conn.send(sim.base_url)
        conn.recv()  # wait for the parent to finish
        routes = [r.route for r in sim.requests]
        conn.send({route: routes.count(route) for route in set(routes) if route})


@contextmanager
def sim_process(
    script: Callable[[GroqSim], None], counts: dict[str, int] | None = None
) -> Iterator[str]:
    """Start a GroqSim in a child process, let ``script`` enqueue replies, yield its base URL.

    Args:
        script: A module-level function (picklable) that scripts the simulator.
        counts: Filled on exit with the requests the simulator received, by route.
    """
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(child, script), daemon=True)
    proc.start()
    try:
        if not parent.poll(30):
            raise RuntimeError("the simulator process did not start within 30 s")
        yield str(parent.recv())
    finally:
        parent.send("stop")
        if counts is not None and parent.poll(5):
            counts.update(parent.recv())
        proc.join(5)
        if proc.is_alive():
            proc.kill()
