"""The `pulse` fixture: a private PulseAudio server for each test module that uses it.

A server takes about 2 s after it starts before new streams start promptly, so while a module
runs, the next module's server is launched beside it (idle: nothing plays on it) and is ready
when that module begins.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.audio.pulse import PulseServer, missing_tools


def reinitialise_portaudio() -> None:
    """Make PortAudio enumerate devices again, so it sees the server's `default`/`pulse`."""
    import sounddevice

    sounddevice._terminate()
    sounddevice._initialize()


class Spare:
    """The server launched ahead for the next module, if any (stopped at the session's end)."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.server: PulseServer | None = None

    def take(self) -> PulseServer:
        """The server launched ahead, or a new one launched now."""
        server, self.server = self.server, None
        if server is None or not server.running:
            server = PulseServer(self.factory.mktemp("pulse"))
            server.launch()
        return server

    def launch(self) -> None:
        """Launch the next module's server now, so it warms up while this module runs."""
        if self.server is None:
            self.server = PulseServer(self.factory.mktemp("pulse"))
            self.server.launch()

    def stop(self) -> None:
        """Stop the server launched ahead and not taken."""
        if self.server is not None:
            self.server.stop()
            self.server = None


@pytest.fixture(scope="session")
def pulse_spare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Spare]:
    """Where the next module's server waits; the last one is stopped with the session."""
    spare = Spare(tmp_path_factory)
    try:
        yield spare
    finally:
        spare.stop()


@pytest.fixture(scope="module")
def pulse(pulse_spare: Spare) -> Iterator[PulseServer]:
    """A running PulseServer whose environment is in ``os.environ`` while the module runs.

    Each module gets a fresh server, stopped before the next one starts: a module's tests
    pause, restart and reconfigure theirs (loss, echo cancellation), which must not change
    how the next module's sound plays. PortAudio is re-initialised after the server starts,
    so ``sounddevice`` records the virtual microphone ``vmic`` on ``default`` and plays to
    ``vspeaker``.
    """
    if missing := missing_tools():
        pytest.fail(
            f"the audio tests need PulseAudio ({', '.join(missing)} not found): "
            "run ./scripts/setup.sh test to install pulseaudio and pulseaudio-utils",
            pytrace=False,
        )
    server = pulse_spare.take()
    server.wait_ready()
    saved = {name: os.environ.get(name) for name in server.env}
    os.environ.update(server.env)
    try:
        reinitialise_portaudio()
        pulse_spare.launch()
        yield server
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.stop()
