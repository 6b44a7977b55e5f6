"""Shared fixtures: the loopback Groq server and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.audio.fixture import pulse  # noqa: F401
from tests.groqsim import GroqSim
from tests.groqsim.fixture import groqsim  # noqa: F401
from voiced.credentials import Secret
from voiced.groq.client import ClientOptions, GroqClient

TEST_KEY = "gsk_test_0123456789abcdefghijklmnopqrstuvwxyz"


class SleepRecorder:
    """Stands in for asyncio.sleep between retries and remembers each wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture(autouse=True)
def _forget_protected_secrets() -> Iterator[None]:
    """Secrets a test protects are scrubbed process-wide: forget them after it, so one test's
    key never masks another test's text."""
    from voiced import logs

    known = list(logs.redaction().secrets)  # type: ignore[attr-defined]
    yield
    logs.redaction().secrets[:] = known  # type: ignore[attr-defined]


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
async def client(groqsim: GroqSim, sleeps: SleepRecorder) -> AsyncIterator[GroqClient]:  # noqa: F811
    async with make_client(groqsim, sleeps) as c:
        yield c
