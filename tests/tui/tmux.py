"""Driving a real terminal program in a private tmux server: start it, type, read the screen."""

from __future__ import annotations

import asyncio
import itertools
import os
import shlex
import shutil
import time
from collections.abc import Callable, Mapping, Sequence

_ids = itertools.count(1)
EXITED = "(the program exited)"
"""What ``until`` sees once the program has ended (tmux closes its window and server)."""


class Tmux:
    """One tmux server of its own (``tmux -L``) running one program in a 100x30 window.

    Every call is an asyncio subprocess, so a daemon served by the test's own event loop
    keeps answering while the test waits for the screen.
    """

    def __init__(self, width: int = 100, height: int = 30) -> None:
        if shutil.which("tmux") is None:
            raise RuntimeError("tmux is not installed: apt-get install -y tmux")
        self.server = f"voiced-test-{os.getpid()}-{next(_ids)}"
        self.width, self.height = width, height

    async def _tmux(self, *args: str, check: bool = True) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            "tmux", "-L", self.server, *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 10)
        code = process.returncode or 0
        if check and code:
            raise RuntimeError(f"tmux {' '.join(args)} failed: {err.decode().strip()}")
        return code, out.decode()

    async def start(self, command: Sequence[str], env: Mapping[str, str]) -> None:
        """Run ``command`` with ``env`` added to this process's environment."""
        assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        shell = f"exec env {assignments} {shlex.join(command)}"
        size = ("-x", str(self.width), "-y", str(self.height))
        await self._tmux("-f", "/dev/null", "new-session", "-d", "-s", "main", *size, shell)

    async def screen(self) -> str:
        """What the terminal shows now."""
        return (await self._tmux("capture-pane", "-p", "-t", "main"))[1]

    async def keys(self, *keys: str, literal: bool = False) -> None:
        """Type keys (tmux names such as ``Enter``, or text with ``literal``)."""
        await self._tmux("send-keys", "-t", "main", *(("-l",) if literal else ()), *keys)

    async def pid(self) -> int:
        """The process id of the program (the shell ``exec``s it)."""
        return int((await self._tmux("display-message", "-p", "-t", "main", "#{pane_pid}"))[1])

    async def running(self) -> bool:
        """Whether the program is still running."""
        return (await self._tmux("has-session", "-t", "main", check=False))[0] == 0

    async def until(self, condition: Callable[[str], bool], what: str, within_s: float = 15) -> str:
        """Wait until ``condition(screen)`` holds; fail with the last screen after ``within_s``."""
        deadline = time.monotonic() + within_s
        while True:
            shown = await self._shown()
            if condition(shown):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n{shown}")
            await asyncio.sleep(0.1)

    async def _shown(self) -> str:
        """The screen, or "(the program exited)" once it has (also between the two asks)."""
        if await self.running():
            try:
                return await self.screen()
            except RuntimeError:
                if await self.running():
                    raise
        return EXITED

    async def close(self) -> None:
        """Stop the tmux server and whatever still runs in it."""
        await self._tmux("kill-server", check=False)
