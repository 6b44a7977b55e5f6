"""GroqClient.speech against the loopback server: the body, the first-byte budget, the errors."""

from __future__ import annotations

import io
import time

import pytest
import soundfile

from tests.conftest import TEST_KEY, SleepRecorder
from tests.groqsim import ChatReply, ErrorReply, GroqSim, Speech, Stall
from voiced.errors import (
    ConnectionFailedError,
    FirstByteTimeoutError,
    InputError,
    RateLimitError,
    TermsRequiredError,
)
from voiced.groq import ChatRequest, GroqClient, Message, SpeechRequest

MODEL = "canopylabs/orpheus-v1-english"
HELLO = SpeechRequest(model=MODEL, input="Hello there.", voice="troy")


async def test_speech_sends_only_the_documented_fields_and_returns_the_wav(
    groqsim: GroqSim, client: GroqClient
) -> None:
    audio = await client.speech(HELLO, first_byte_s=1.5)

    sent = groqsim.requests_for("speech")[0]
    assert sent.json == {
        "model": MODEL,
        "input": "Hello there.",
        "voice": "troy",
        "response_format": "wav",
    }
    assert sent.headers["authorization"] == f"Bearer {groqsim.api_key}"
    samples, rate = soundfile.read(io.BytesIO(audio.data), dtype="int16")
    assert rate == 48000 and 0.5 < samples.size / rate < 3
    assert audio.request_id is not None and audio.request_id.startswith("req_")
    assert 0.15 <= audio.first_byte_s < 1.0  # the simulator's time to first byte


async def test_audio_that_starts_after_the_budget_fails_at_the_budget(
    groqsim: GroqSim, client: GroqClient
) -> None:
    groqsim.enqueue("speech", Speech(ttfb=5.0))
    began = time.monotonic()
    with pytest.raises(FirstByteTimeoutError, match="no audio within 0.4 s"):
        await client.speech(HELLO, first_byte_s=0.4)
    assert time.monotonic() - began < 1.0


async def test_the_budget_counts_the_first_byte_of_audio_not_the_headers(
    groqsim: GroqSim, client: GroqClient
) -> None:
    groqsim.enqueue("speech", Speech(ttfb=5.0, headers_first=True))
    began = time.monotonic()
    with pytest.raises(FirstByteTimeoutError, match=r"\[request req_"):
        await client.speech(HELLO, first_byte_s=0.4)
    assert time.monotonic() - began < 1.0


async def test_a_429_whose_wait_passes_the_budget_fails_at_once_without_a_retry(
    groqsim: GroqSim, client: GroqClient, sleeps: SleepRecorder
) -> None:
    groqsim.enqueue("speech", ErrorReply.rate_limited(retry_after=20))
    with pytest.raises(RateLimitError) as caught:
        await client.speech(HELLO, first_byte_s=1.5)
    assert caught.value.resets_in == 20
    assert sleeps.waits == [] and len(groqsim.requests_for("speech")) == 1


async def test_a_429_with_a_short_wait_is_retried_within_the_budget(
    groqsim: GroqSim, client: GroqClient, sleeps: SleepRecorder
) -> None:
    groqsim.enqueue("speech", ErrorReply.rate_limited(retry_after=0.5))
    audio = await client.speech(HELLO, first_byte_s=1.5)
    assert audio.data[:4] == b"RIFF"
    assert sleeps.waits == [0.5] and len(groqsim.requests_for("speech")) == 2


async def test_terms_not_accepted_is_a_terms_error_pointing_at_the_console(
    groqsim: GroqSim, client: GroqClient
) -> None:
    groqsim.enqueue("speech", ErrorReply.terms_required(MODEL))
    with pytest.raises(TermsRequiredError) as caught:
        await client.speech(HELLO, first_byte_s=1.5)
    assert caught.value.status == 400 and caught.value.code == "model_terms_required"
    assert "console.groq.com/playground?model=canopylabs%2Forpheus-v1-english" in str(caught.value)
    assert len(groqsim.requests_for("speech")) == 1  # a 400 is never retried


async def test_a_connection_dropped_mid_audio_is_a_connection_error(
    groqsim: GroqSim, client: GroqClient
) -> None:
    groqsim.enqueue("speech", Speech(drop_after=5000))
    with pytest.raises(ConnectionFailedError, match="dropped while the audio arrived"):
        await client.speech(HELLO, first_byte_s=1.5)


async def test_a_server_that_never_answers_fails_at_the_budget(
    groqsim: GroqSim, client: GroqClient
) -> None:
    groqsim.enqueue("speech", Stall(5.0))
    began = time.monotonic()
    with pytest.raises(FirstByteTimeoutError):
        await client.speech(HELLO, first_byte_s=0.6)
    assert time.monotonic() - began < 1.2


async def test_a_dropped_connection_is_retried_when_the_wait_fits_the_budget(
    groqsim: GroqSim, client: GroqClient, sleeps: SleepRecorder
) -> None:
    groqsim.enqueue("speech", Stall(0.05))  # hangs up without a word
    audio = await client.speech(HELLO, first_byte_s=1.5)
    assert audio.data[:4] == b"RIFF"
    assert len(sleeps.waits) == 1 and len(groqsim.requests_for("speech")) == 2


async def test_speech_rate_limits_do_not_stand_in_for_the_chat_models(
    groqsim: GroqSim, client: GroqClient
) -> None:
    groqsim.enqueue("chat", ChatReply(content="hi"))
    await client.chat(ChatRequest(model="openai/gpt-oss-20b", messages=(Message.user("x"),)))
    chat_limits = client.ratelimit
    groqsim.ratelimit["x-ratelimit-remaining-requests"] = "7"
    await client.speech(HELLO)
    assert client.ratelimit == chat_limits


async def test_text_over_200_characters_is_refused_before_it_is_sent(
    groqsim: GroqSim, client: GroqClient
) -> None:
    with pytest.raises(InputError, match="201 characters"):
        await client.speech(SpeechRequest(model=MODEL, input="a" * 201, voice="troy"))
    assert groqsim.requests_for("speech") == []


async def test_a_server_that_echoes_the_key_never_gets_it_into_the_error(
    groqsim: GroqSim, client: GroqClient
) -> None:
    groqsim.enqueue("speech", ErrorReply(400, "Bad voice", echo_key=True))
    with pytest.raises(Exception) as caught:
        await client.speech(HELLO)
    assert groqsim.api_key not in str(caught.value) and TEST_KEY not in str(caught.value)
