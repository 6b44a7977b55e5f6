"""A client that stays attached: reconnects by itself whenever the daemon restarts."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from voiced.errors import DaemonError, DaemonNotRunningError, ProtocolError
from voiced.protocol.client import START_HINT, ControlClient, Reply
from voiced.protocol.commands import Command
from voiced.protocol.events import Event, Hello
from voiced.protocol.paths import socket_path


@dataclass(frozen=True)
class Connected:
    """Yielded by :class:`Follower` each time a connection is made (the greeting inside)."""

    hello: Hello


@dataclass(frozen=True)
class Disconnected:
    """Yielded by :class:`Follower` when a connection is lost or the first attempt fails."""

    reason: str


class Follower:
    """Follows the daemon across restarts.

    ``async for item in follower`` yields :class:`Connected`, then the daemon's events, then
    :class:`Disconnected` when the connection drops, then tries again until :meth:`aclose`.
    Every new attempt waits first: ``retry_s``, doubling up to ``max_retry_s``, each wait
    drawn between half and all of it (jitter, so clients of a restarted daemon do not all
    come back at once). A connection that lasted ``max_retry_s`` resets the wait, so a
    restarted daemon is found again at once, while one that keeps dropping connections (or
    anything else on the socket that does) is retried ever more slowly, never in a storm.
    Between a :class:`Disconnected` and the next :class:`Connected` it yields nothing, so a
    daemon that never comes back costs only the retries.

    Args:
        path: The control socket; defaults to :func:`voiced.protocol.paths.socket_path`.
        retry_s: First wait between connection attempts.
        max_retry_s: Longest wait between attempts.
    """

    def __init__(
        self, path: Path | str | None = None, retry_s: float = 0.1, max_retry_s: float = 5.0
    ) -> None:
        self.path = Path(path) if path is not None else socket_path()
        self.retry_s, self.max_retry_s = retry_s, max_retry_s
        self.client: ControlClient | None = None
        self.attempts = 0
        """Connection attempts made so far."""
        self._closed = False

    @property
    def connected(self) -> bool:
        """Whether a connection is open right now."""
        return self.client is not None

    async def send(self, command: Command) -> None:
        """Send a command on the current connection.

        Raises:
            DaemonNotRunningError: Not connected right now.
        """
        await self._current().send(command)

    async def request(self, command: Command, wait_s: float = 5.0) -> Reply:
        """Send a command on the current connection and wait for its ack.

        Raises:
            DaemonNotRunningError: Not connected, or no ack in time.
        """
        return await self._current().request(command, wait_s)

    async def aclose(self) -> None:
        """Stop following and close the connection."""
        self._closed = True
        if self.client is not None:
            await self.client.aclose()

    async def __aiter__(self) -> AsyncIterator[Connected | Disconnected | Event]:
        wait, reported = self.retry_s, False
        while not self._closed:
            if self.attempts:
                await asyncio.sleep(random.uniform(wait / 2, wait))
                wait = min(wait * 2, self.max_retry_s)
            self.attempts += 1
            try:
                client = await ControlClient.connect(self.path)
            except (DaemonError, ProtocolError) as exc:
                if not reported:
                    yield Disconnected(str(exc))
                    reported = True
                continue
            self.client, reported, opened = client, False, time.monotonic()
            yield Connected(client.hello)
            async for event in client:
                yield event
            await client.aclose()
            self.client = None
            if time.monotonic() - opened >= self.max_retry_s:
                wait = self.retry_s
            if not self._closed:
                yield Disconnected(client.closed_reason)
                reported = True

    def _current(self) -> ControlClient:
        if self.client is None:
            raise DaemonNotRunningError(f"not connected to a daemon on {self.path}", START_HINT)
        return self.client
