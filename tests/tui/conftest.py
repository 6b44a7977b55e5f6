"""Fixtures for the TUI's tests: a real daemon on a private socket, and waiting for the screen."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import pytest
from textual.pilot import Pilot

from tests.running import RunningDaemon
from tests.tui.daemon import idle_daemon, short_tempdir
from tests.tui.screen import screen_lines, screen_text
from voiced.tui.app import VoicedApp

SIZE = (100, 30)
"""Terminal size of every TUI test."""


@pytest.fixture
async def daemon() -> AsyncIterator[RunningDaemon]:
    """A running daemon with an idle pipeline; events are published on its bus by the test."""
    path, cleanup = short_tempdir()
    running = idle_daemon(path / "control.sock")
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        cleanup()


async def until(
    pilot: Pilot[None], condition: Callable[[], object], what: str, within_s: float = 10.0
) -> None:
    """Let the app run until ``condition()`` is true; fail naming ``what`` after ``within_s``."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            shown = screen_text(pilot.app)
            raise AssertionError(
                f"timed out after {within_s:g} s waiting for {what}; the screen:\n{shown}"
            )
        await pilot.pause(0.02)


async def drawn(pilot: Pilot[None]) -> None:
    """Wait until the main screen is fully drawn (the footer lists its keys last)."""
    await until(pilot, lambda: "q quit" in screen_lines(pilot.app)[-1], "the footer's keys")


async def attached(pilot: Pilot[None]) -> VoicedApp:
    """Wait until the app is drawn and has connected to its daemon."""
    app = pilot.app
    assert isinstance(app, VoicedApp)
    await until(pilot, lambda: app.known.connected, "the TUI to connect to the daemon")
    await drawn(pilot)
    return app
