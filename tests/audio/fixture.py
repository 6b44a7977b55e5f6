"""The `pulse` fixture: a private PulseAudio server for each test module that uses it."""

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


@pytest.fixture(scope="module")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseServer]:
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
    server = PulseServer(tmp_path_factory.mktemp("pulse"))
    server.start()
    saved = {name: os.environ.get(name) for name in server.env}
    os.environ.update(server.env)
    try:
        reinitialise_portaudio()
        yield server
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.stop()
