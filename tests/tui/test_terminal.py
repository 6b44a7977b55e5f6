"""`voiced` in a real terminal (tmux): attached to a daemon, and hosting one on first run."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.groqsim import GroqSim
from tests.procs import voiced_command
from tests.running import RunningDaemon
from tests.tui.daemon import short_tempdir
from tests.tui.tmux import EXITED, Tmux
from voiced.credentials import Secret
from voiced.errors import DaemonNotRunningError
from voiced.protocol import events as e
from voiced.protocol.client import ControlClient

pytestmark = pytest.mark.subprocess

KEY = "gsk_" + "T3rm" * 13


def private_env(home: Path, socket: Path) -> dict[str, str]:
    """A user with no config and no key, whose daemon socket is ``socket``."""
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_RUNTIME_DIR": str(home),
        "VOICED_SOCKET": str(socket),
        "GROQ_API_KEY": "",
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
    }


@pytest.fixture
async def tmux() -> AsyncIterator[Tmux]:
    terminal = Tmux()
    try:
        yield terminal
    finally:
        await terminal.close()


async def test_voiced_attaches_to_the_running_daemon_in_a_real_terminal(
    daemon: RunningDaemon, tmux: Tmux, tmp_path: Path
) -> None:
    env = private_env(tmp_path, daemon.socket) | {"GROQ_API_KEY": KEY}
    await tmux.start(voiced_command(), env)
    await tmux.until(lambda s: "listening" in s and "q quit" in s, "the TUI to attach")
    daemon.publish(
        e.Transcript(turn=1, text="What time is it?", accepted=True),
        e.AssistantDelta(turn=1, text="It is five past two."),
        e.Transcript(turn=2, text="Thank you.", accepted=False, reason="phantom phrase"),
    )
    shown = await tmux.until(lambda s: "phantom phrase" in s, "the events on screen")
    assert "you  What time is it?" in shown and "It is five past two." in shown
    assert "rejected  'Thank you.' — phantom phrase" in shown

    await tmux.keys("m")
    await tmux.until(lambda s: "muted" in s, "the mute to show")
    assert daemon.daemon is not None and daemon.daemon.controls.muted

    await tmux.keys("q")
    await tmux.until(lambda s: s == EXITED, "the TUI to quit")
    assert daemon.daemon is not None and daemon.daemon.stop_reason == ""
    async with await ControlClient.connect(daemon.socket) as client:
        assert (await client.status()).mode == "muted", "the daemon kept running"


async def test_first_run_takes_the_key_then_hosts_the_daemon_until_quit(tmux: Tmux) -> None:
    home, cleanup = short_tempdir()
    socket = home / "voiced" / "control.sock"
    try:
        with GroqSim(api_key=KEY) as sim:
            env = private_env(home, socket) | {"GROQ_BASE_URL": sim.base_url}
            await tmux.start(voiced_command(), env)
            await tmux.until(lambda s: "needs a Groq API key" in s, "the key screen")
            await tmux.keys(KEY, literal=True)
            typed = await tmux.until(lambda s: "•" * 20 in s, "the masked key")
            await tmux.keys("Enter")
            masked = Secret(KEY).masked()
            shown = await tmux.until(lambda s: masked in s, "the saved key, masked")
            await tmux.until(lambda s: "listening" in s, "the hosted daemon to be attached")
            client = await _connect(socket)
            hosted_by = client.hello.pid
            await client.aclose()
            credentials = home / "config" / "voiced" / "credentials"
            assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
            assert credentials.read_text() == f"GROQ_API_KEY={KEY}\n"
            assert [r.headers.get("authorization") for r in sim.requests] == [f"Bearer {KEY}"]
            for screen in (typed, shown):
                assert KEY not in screen and KEY[4:16] not in screen
            assert hosted_by == await tmux.pid(), "the daemon runs inside the TUI's process"

            await tmux.keys("q")
            await tmux.until(lambda s: s == EXITED, "the TUI to quit")
            with pytest.raises(DaemonNotRunningError):
                await ControlClient.connect(socket, wait_s=1)
    finally:
        cleanup()


async def _connect(socket: Path) -> ControlClient:
    for _ in range(100):
        try:
            return await ControlClient.connect(socket, wait_s=1)
        except DaemonNotRunningError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"no daemon came up on {socket}")


def test_without_a_terminal_voiced_says_so_and_starts_nothing(tmp_path: Path) -> None:
    socket = tmp_path / "control.sock"
    done = subprocess.run(
        voiced_command(),
        env=os.environ | private_env(tmp_path, socket),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "needs a terminal" in done.stderr and "voiced daemon" in done.stderr
    assert "Traceback" not in done.stderr
    assert not socket.exists()
