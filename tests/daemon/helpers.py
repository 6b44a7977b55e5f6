"""Helpers: wait for a daemon's events, run one as a subprocess."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tests.procs import spawn_voiced
from voiced.protocol import ControlClient, Event

E = TypeVar("E", bound=Event)
ROOT = Path(__file__).resolve().parents[2]


async def next_of(
    client: ControlClient,
    kind: type[E],
    where: Callable[[E], bool] = lambda e: True,
    within: float = 5.0,
    seen: list[Event] | None = None,
) -> E:
    """Read the client's events until one of ``kind`` matching ``where`` arrives; every
    event read is also appended to ``seen`` when given."""
    async with asyncio.timeout(within):
        async for event in client:
            if seen is not None:
                seen.append(event)
            if isinstance(event, kind) and where(event):
                return event
    raise AssertionError(f"the connection closed before a {kind.__name__} arrived")


async def eventually(predicate: Callable[[], bool], within: float = 5.0) -> None:
    """Wait until ``predicate()`` holds, polling; fail after ``within`` seconds."""
    async with asyncio.timeout(within):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.01)


def mode_of(path: Path) -> int:
    """The permission bits of ``path``."""
    return stat.S_IMODE(os.stat(path).st_mode)


def spawn_daemon(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``voiced daemon`` in a subprocess with ``env`` added to a minimal environment
    (no sound server in it: the daemon must run, and report, without a microphone).

    Its output goes to ``log`` (a pipe nobody reads could fill and stall it).
    """
    full = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **env}
    with log.open("ab") as out:
        return spawn_voiced("daemon", *args, env=full, stdout=out, stderr=subprocess.STDOUT)
