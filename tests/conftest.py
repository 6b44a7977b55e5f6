"""Shared fixtures: the loopback Groq server and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.groqsim import GroqSim
from voiced.credentials import Secret
from voiced.groq.client import ClientOptions, GroqClient
from voiced.listen import turn
from voiced.listen.turnmodel import SmartTurn
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


@pytest.fixture(autouse=True, scope="session")
def one_shipped_turn_model_per_worker() -> Iterator[None]:
    """Every segmenter built with the default turn model gets the same loaded Smart Turn, not
    a new one each (loading it costs about 0.1 s of CPU, and the listen and wake tests build
    about 150 segmenters). The model keeps no state between predictions, so sharing it changes
    no verdict; a model given a path (a broken file, say) still loads on its own, and the
    model's own tests build theirs."""
    shared: list[SmartTurn] = []

    def shipped(path: Path | None = None) -> SmartTurn:
        if path is not None:
            return SmartTurn(path)
        if not shared:
            shared.append(SmartTurn())
        return shared[0]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(turn, "SmartTurn", shipped)
        yield


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
