"""`voiced` with no daemon running hosts one in its own process, on a thread of its own."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.running import RunningDaemon
from tests.tui.daemon import short_tempdir
from voiced.commands.embedded import EmbeddedDaemon
from voiced.commands.tui import daemon_answers
from voiced.config import Settings
from voiced.daemon import Daemon, IdleEngine
from voiced.daemon.app import EngineFactory
from voiced.errors import DaemonError, VoicedError
from voiced.protocol import commands as cmd
from voiced.protocol.client import ControlClient
from voiced.protocol.reports import LogRecord


def idle(settings: Settings) -> EngineFactory:
    return lambda daemon: IdleEngine(daemon.bus)


async def test_the_hosted_daemon_serves_clients_from_this_process_until_stopped() -> None:
    home, cleanup = short_tempdir()
    socket = home / "control.sock"
    host = EmbeddedDaemon(socket, engines=idle)
    try:
        assert not await daemon_answers(socket)
        host.start(Settings())
        await asyncio.wait_for(host.wait_ready(), 10)
        assert await daemon_answers(socket)
        async with await ControlClient.connect(socket) as client:
            assert client.hello.pid == os.getpid()
            await client.request(cmd.Mute())
            assert (await client.status()).mode == "muted"
            logging.getLogger("voiced.tests").warning("the microphone went away")
            async with asyncio.timeout(10):
                async for event in client:
                    if isinstance(event, LogRecord) and "microphone" in event.message:
                        assert event.level == "warning"
                        break
        loop_threads = [t for t in threading.enumerate() if t.name == "voiced-daemon"]
        assert len(loop_threads) == 1
        await asyncio.to_thread(host.stop)
        assert not loop_threads[0].is_alive()
        assert not socket.exists()
        assert not await daemon_answers(socket)
        assert host.error is None
    finally:
        await asyncio.to_thread(host.stop)
        cleanup()


async def test_a_hosted_daemon_that_cannot_start_says_why(tmp_path: Path) -> None:
    errors: list[VoicedError] = []
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    host = EmbeddedDaemon(blocker / "control.sock", engines=idle, on_error=errors.append)
    host.start(Settings())
    await asyncio.wait_for(host.wait_ready(), 10)
    await asyncio.to_thread(host.stop)
    assert isinstance(host.error, DaemonError) and errors == [host.error]
    assert str(blocker) in str(host.error)


async def test_daemon_answers_only_when_a_daemon_greets(daemon: RunningDaemon) -> None:
    assert await daemon_answers(daemon.socket)
    assert isinstance(daemon.daemon, Daemon)
    await daemon.stop()
    assert not await daemon_answers(daemon.socket)


@pytest.mark.subprocess
def test_the_command_module_loads_textual_only_when_the_tui_runs() -> None:
    code = "import sys, voiced.commands.tui; print('textual' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
