"""sd_notify: tell systemd we are ready, alive (watchdog), busy with what, and stopping."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import typing

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify datagrams to ``NOTIFY_SOCKET``; does nothing when it is unset.

    Args:
        env: The environment to read ``NOTIFY_SOCKET``, ``WATCHDOG_USEC`` and
            ``WATCHDOG_PID`` from; defaults to ``os.environ``.
    """

    def __init__(self, env: typing.Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.address = _address(env.get("NOTIFY_SOCKET", ""))
        self.watchdog_s = _watchdog_seconds(env)
        self._sock: socket.socket | None = None
        if self.address is not None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.setblocking(False)

    @property
    def enabled(self) -> bool:
        """Whether a service manager listens."""
        return self._sock is not None

    def send(self, *fields: str) -> bool:
        """Send ``KEY=value`` fields in one datagram.

        Returns:
            True when sent; False when there is no manager or the send failed (logged:
            a service manager going away must not stop the daemon).
        """
        if self._sock is None or self.address is None:
            return False
        try:
            self._sock.sendto("\n".join(fields).encode(), self.address)
        except OSError as exc:
            log.warning("sd_notify to %r failed: %s", self.address, exc)
            return False
        return True

    def ready(self, status: str = "") -> bool:
        """``READY=1``, with an optional ``STATUS=``."""
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        """``STATUS=text``: what ``systemctl --user status voiced`` shows."""
        return self.send(f"STATUS={text}")

    def stopping(self) -> bool:
        """``STOPPING=1``."""
        return self.send("STOPPING=1")

    def reloading(self) -> bool:
        """``RELOADING=1``; send :meth:`ready` when the reload is done."""
        return self.send("RELOADING=1")

    async def watchdog(self) -> None:
        """Send ``WATCHDOG=1`` at half the interval systemd asked for, until cancelled.

        Returns at once when no watchdog was asked for. A stalled event loop stops the pings,
        which is the point: systemd then restarts the daemon.
        """
        if self.watchdog_s is None or not self.enabled:
            return
        interval = self.watchdog_s / 2
        while True:
            self.send("WATCHDOG=1")
            await asyncio.sleep(interval)

    def close(self) -> None:
        """Close the datagram socket."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _address(name: str) -> str | bytes | None:
    if not name:
        return None
    if name.startswith("@"):
        return b"\0" + name[1:].encode()
    if name.startswith("/"):
        return name
    log.warning("ignoring NOTIFY_SOCKET=%r: not a path or an abstract socket name", name)
    return None


def _watchdog_seconds(env: typing.Mapping[str, str]) -> float | None:
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 1e6 if value > 0 else None
