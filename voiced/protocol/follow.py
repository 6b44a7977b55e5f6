"""A client that stays attached: reconnects by itself whenever the daemon restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from voiced.errors import DaemonNotRunningError, ProtocolError
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
    :class:`Disconnected` when the connection drops, then tries again (every ``retry_s``,
    backing off to ``max_retry_s``) until :meth:`aclose`. Between the two it yields nothing,
    so a daemon that never comes back costs only the retries.

    Args:
        path: The control socket; defaults to :func:`voiced.protocol.paths.socket_path`.
        retry_s: First wait between connection attempts.
        max_retry_s: Longest wait between attempts.
    """

    def __init__(
        self, path: Path | str | None = None, retry_s: float = 0.25, max_retry_s: float = 2.0
    ) -> None:
        self.path = Path(path) if path is not None else socket_path()
        self.retry_s, self.max_retry_s = retry_s, max_retry_s
        self.client: ControlClient | None = None
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
            try:
                self.client = await ControlClient.connect(self.path)
            except (DaemonNotRunningError, ProtocolError) as exc:
                if not reported:
                    yield Disconnected(str(exc))
                    reported = True
                await asyncio.sleep(wait)
                wait = min(wait * 2, self.max_retry_s)
                continue
            wait, reported = self.retry_s, False
            yield Connected(self.client.hello)
            async for event in self.client:
                yield event
            reason = self.client.closed_reason
            await self.client.aclose()
            self.client = None
            if not self._closed:
                yield Disconnected(reason)
                reported = True

    def _current(self) -> ControlClient:
        if self.client is None:
            raise DaemonNotRunningError(f"not connected to a daemon on {self.path}", START_HINT)
        return self.client
