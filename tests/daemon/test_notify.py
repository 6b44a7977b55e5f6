"""sd_notify: exactly the datagrams systemd would receive, on a path or an abstract socket."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from voiced.daemon.notify import Notifier


@pytest.fixture
def manager(runtime_dir: Path) -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket standing in for systemd's notify socket."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = runtime_dir / "notify"
    sock.bind(str(path))
    sock.settimeout(2)
    yield sock, str(path)
    sock.close()


def test_ready_status_and_stopping_arrive_as_systemd_reads_them(manager) -> None:
    sock, path = manager
    notifier = Notifier({"NOTIFY_SOCKET": path})
    assert notifier.enabled
    assert notifier.ready("listening")
    assert notifier.status("speaking")
    assert notifier.stopping()
    assert [sock.recv(4096) for _ in range(3)] == [
        b"READY=1\nSTATUS=listening",
        b"STATUS=speaking",
        b"STOPPING=1",
    ]
    notifier.close()


def test_a_leading_at_names_an_abstract_socket() -> None:
    name = f"voiced-test-{os.getpid()}-{id(object())}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(2)
    try:
        notifier = Notifier({"NOTIFY_SOCKET": "@" + name})
        assert notifier.ready()
        assert sock.recv(4096) == b"READY=1"
        notifier.close()
    finally:
        sock.close()


def test_without_notify_socket_nothing_is_sent_and_nothing_fails() -> None:
    notifier = Notifier({})
    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.watchdog_s is None


def test_a_vanished_manager_is_logged_not_raised(runtime_dir: Path) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(runtime_dir / "gone")})
    assert notifier.ready() is False
    notifier.close()


def test_watchdog_usec_for_another_process_is_not_ours() -> None:
    env = {"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}
    assert Notifier(env).watchdog_s is None
    env["WATCHDOG_PID"] = str(os.getpid())
    assert Notifier(env).watchdog_s == 1.0


async def test_watchdog_pings_at_half_the_interval(manager) -> None:
    sock, path = manager
    sock.setblocking(False)
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
    task = asyncio.create_task(notifier.watchdog())
    await asyncio.sleep(0.45)  # pings at 0, 0.1, 0.2, 0.3, 0.4 s
    task.cancel()
    pings = []
    while True:
        try:
            pings.append(sock.recv(64))
        except BlockingIOError:
            break
    assert set(pings) == {b"WATCHDOG=1"}
    assert 3 <= len(pings) <= 6  # generous: two noisy cores
    notifier.close()
