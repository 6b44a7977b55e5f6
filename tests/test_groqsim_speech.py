"""Self-tests of groqsim's speech route, over real sockets with plain httpx."""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from tests.audio.signals import best_alignment
from tests.groqsim import ErrorReply, GroqSim, Speech

KEY = "gsk_test"
MODEL = "canopylabs/orpheus-v1-english"
SPEECH = "/audio/speech"


@pytest.fixture
def sim() -> Iterator[GroqSim]:
    with GroqSim(api_key=KEY) as s:
        yield s
    assert s.errors == []


@pytest.fixture
def client(sim: GroqSim) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sim.api_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=5.0
    ) as c:
        yield c


def body(**changes: Any) -> dict[str, Any]:
    return {
        "model": MODEL,
        "input": "Hello there.",
        "voice": "troy",
        "response_format": "wav",
        **changes,
    }


def samples_of(data: bytes) -> tuple[int, np.ndarray]:
    with wave.open(io.BytesIO(data), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        return wav.getframerate(), np.frombuffer(wav.readframes(wav.getnframes()), "<i2")


def test_speech_answers_a_48_khz_wav_of_the_text_said_in_the_voice(client: httpx.Client) -> None:
    troy = client.post(SPEECH, json=body())
    autumn = client.post(SPEECH, json=body(voice="autumn"))
    assert troy.status_code == 200 and troy.headers["content-type"] == "audio/wav"
    rate, said = samples_of(troy.content)
    assert rate == 48000 and 0.5 < said.size / rate < 3
    assert np.abs(said.astype(np.int32)).max() > 5000
    other = samples_of(autumn.content)[1]
    assert best_alignment(said, other[: said.size // 2])[1] < 0.5  # the voices sound apart
    assert troy.headers["x-request-id"].startswith("req_")


def test_vocal_directions_are_not_said(client: httpx.Client) -> None:
    plain = client.post(SPEECH, json=body(input="Hello there.")).content
    directed = client.post(SPEECH, json=body(input="[cheerful] Hello there.")).content
    assert samples_of(plain)[1].size == samples_of(directed)[1].size


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"speed_up": 2}, "property 'speed_up' is unsupported"),
        ({"voice": "tara"}, "voice must be one of [autumn, diana"),
        ({"model": "openai/gpt-oss-20b"}, "does not support speech"),
        ({"model": "playai-tts"}, "does not exist"),
        ({"input": "x" * 201}, "at most 200 characters"),
        ({"input": "  "}, "'input' is missing"),
        ({"response_format": "mp3"}, "response_format must be wav"),
    ],
)
def test_speech_refuses_what_groq_refuses(
    client: httpx.Client, changes: dict[str, Any], words: str
) -> None:
    answer = client.post(SPEECH, json=body(**changes))
    assert answer.status_code in (400, 404)
    assert words in answer.json()["error"]["message"]


def test_the_first_byte_comes_after_ttfb_and_the_audio_at_the_pace_asked(
    sim: GroqSim, client: httpx.Client
) -> None:
    sim.enqueue("speech", Speech(ttfb=0.3, realtime=4.0, rate=24000))
    began = time.monotonic()
    with client.stream("POST", SPEECH, json=body(input="One two three four five six.")) as reply:
        pieces = reply.iter_bytes()
        first = next(pieces)
        first_at = time.monotonic() - began
        data = first + b"".join(pieces)
    ended = time.monotonic() - began
    rate, said = samples_of(data)
    assert rate == 24000
    assert 0.3 <= first_at < 0.45
    assert ended - first_at >= 0.8 * said.size / rate / 4.0


def test_default_speech_replies_can_be_slowed_for_a_whole_run(
    sim: GroqSim, client: httpx.Client
) -> None:
    sim.speech_default = Speech(ttfb=0.4)
    began = time.monotonic()
    assert client.post(SPEECH, json=body()).status_code == 200
    assert time.monotonic() - began >= 0.4


def test_faults_terms_rate_limit_and_a_dropped_connection(
    sim: GroqSim, client: httpx.Client
) -> None:
    sim.enqueue(
        "speech",
        ErrorReply.terms_required(MODEL),
        ErrorReply.rate_limited(retry_after=20),
        Speech(drop_after=3000),
    )
    terms = client.post(SPEECH, json=body())
    assert terms.status_code == 400
    assert terms.json()["error"]["code"] == "model_terms_required"
    assert "accept the terms at https://console.groq.com/playground?model=" in terms.text
    limited = client.post(SPEECH, json=body())
    assert limited.status_code == 429 and limited.headers["retry-after"] == "20"
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(SPEECH, json=body())
