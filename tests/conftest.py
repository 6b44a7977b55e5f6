"""Shared fixtures: the loopback Groq server and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.groqsim import GroqSim
from voiced.credentials import Secret
from voiced.groq.client import ClientOptions, GroqClient
from voiced.logs import RedactSecrets, redaction

pytest_plugins = ["tests.audio.fixture", "tests.groqsim.fixture"]
"""The session's PulseAudio server and the loopback Groq server, for every test package."""

TEST_KEY = "gsk_test_0123456789abcdefghijklmnopqrstuvwxyz"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the PulseAudio server (even through another fixture) audio,
    and keep each module's audio tests in one xdist group (``--dist loadgroup``): one worker
    plays them one after another, on its own server."""
    for item in items:
        if "pulse" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.audio)
            item.add_marker(pytest.mark.xdist_group(f"audio:{item.path.stem}"))


@pytest.fixture(autouse=True)
def protected_secrets_stay_with_their_test() -> Iterator[None]:
    """voiced.logs keeps the secrets it protects for the whole process: a test's (a short
    key, say) must not mask text in the tests a worker runs after it."""
    protected = redaction()
    assert isinstance(protected, RedactSecrets)
    before = list(protected.secrets)
    yield
    protected.secrets[:] = before


class SleepRecorder:
    """Stands in for asyncio.sleep between retries and remembers each wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def make_client(
    sim: GroqSim, sleeps: SleepRecorder | None = None, **options: float | int
) -> GroqClient:
    """A client for the simulator; waits between retries are recorded, not slept."""
    return GroqClient(
        ClientOptions(
            chat_url=sim.api_url,
            stt_url=sim.api_url,
            speech_url=sim.api_url,
            api_key=Secret(sim.api_key or TEST_KEY),
            **options,  # type: ignore[arg-type]
        ),
        sleep=sleeps,
    )


@pytest.fixture
async def client(groqsim: GroqSim, sleeps: SleepRecorder) -> AsyncIterator[GroqClient]:
    async with make_client(groqsim, sleeps) as c:
        yield c
