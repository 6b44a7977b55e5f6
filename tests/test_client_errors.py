"""Retries and typed errors, exactly as the official SDK behaves, against the loopback server."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import SleepRecorder, make_client
from tests.groqsim import ChatReply, ErrorReply, GroqSim, Stall
from voiced.credentials import Secret
from voiced.errors import (
    AuthenticationError,
    BadRequestError,
    CapacityError,
    ConnectionFailedError,
    MissingKeyError,
    ModelNotFoundError,
    ModelRetiredError,
    RateLimitError,
    RequestTooLargeError,
    ServerError,
)
from voiced.groq import ChatRequest, ClientOptions, GroqClient, Message
from voiced.groq.sender import backoff

REQ = ChatRequest(model="openai/gpt-oss-20b", messages=(Message.user("hi"),))


async def test_429_waits_retry_after_then_succeeds(
    groqsim: GroqSim, client: GroqClient, sleeps: SleepRecorder
) -> None:
    groqsim.enqueue("chat", ErrorReply.rate_limited(retry_after=1.5), ChatReply(content="ok"))
    assert (await client.chat(REQ)).content == "ok"
    assert sleeps.waits == [1.5]
    assert len(groqsim.requests_for("chat")) == 2


async def test_retry_after_ms_wins_over_retry_after(
    groqsim: GroqSim, client: GroqClient, sleeps: SleepRecorder
) -> None:
    groqsim.enqueue("chat", ErrorReply.rate_limited(retry_after=5, retry_after_ms=250))
    await client.chat(REQ)
    assert sleeps.waits == [pytest.approx(0.25)]


async def test_retry_after_over_60s_falls_back_to_backoff(
    groqsim: GroqSim, client: GroqClient, sleeps: SleepRecorder
) -> None:
    groqsim.enqueue("chat", ErrorReply.rate_limited(retry_after=600))
    await client.chat(REQ)
    assert len(sleeps.waits) == 1 and 0.375 <= sleeps.waits[0] <= 0.5


async def test_429_after_all_retries_says_when_it_resets(
    groqsim: GroqSim, client: GroqClient, sleeps: SleepRecorder
) -> None:
    groqsim.enqueue("chat", *[ErrorReply.rate_limited(retry_after=7)] * 3)
    with pytest.raises(RateLimitError) as caught:
        await client.chat(REQ)
    assert caught.value.resets_in == 7
    assert "resets in 7 s" in str(caught.value) and "after 3 attempts" in str(caught.value)
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.request_id is not None and caught.value.request_id.startswith("req_")
    assert sleeps.waits == [7, 7]


@pytest.mark.parametrize(
    "fault",
    [
        ErrorReply.server_error(),
        ErrorReply.unavailable(),
        ErrorReply.timeout(),
        ErrorReply.conflict(),
        ErrorReply(502, "bad gateway"),
    ],
    ids=["500", "503", "408", "409", "502"],
)
async def test_transient_statuses_are_retried_with_backoff(
    groqsim: GroqSim, client: GroqClient, sleeps: SleepRecorder, fault: ErrorReply
) -> None:
    groqsim.enqueue("chat", fault, fault, ChatReply(content="ok"))
    assert (await client.chat(REQ)).content == "ok"
    assert len(sleeps.waits) == 2
    assert 0.375 <= sleeps.waits[0] <= 0.5 and 0.75 <= sleeps.waits[1] <= 1.0


async def test_5xx_on_every_attempt_is_a_server_error(groqsim: GroqSim, client: GroqClient) -> None:
    groqsim.enqueue("chat", *[ErrorReply.server_error()] * 3)
    with pytest.raises(ServerError, match="after 3 attempts"):
        await client.chat(REQ)


async def test_x_should_retry_false_stops_retries(
    groqsim: GroqSim, client: GroqClient, sleeps: SleepRecorder
) -> None:
    groqsim.enqueue("chat", ErrorReply(500, "no", headers={"x-should-retry": "false"}))
    with pytest.raises(ServerError):
        await client.chat(REQ)
    assert sleeps.waits == [] and len(groqsim.requests_for("chat")) == 1


async def test_x_should_retry_true_retries_a_400(
    groqsim: GroqSim, client: GroqClient, sleeps: SleepRecorder
) -> None:
    groqsim.enqueue("chat", ErrorReply(400, "try again", headers={"x-should-retry": "true"}))
    assert (await client.chat(REQ)).content == "Hello from groqsim."
    assert len(sleeps.waits) == 1


async def test_max_retries_is_configurable(groqsim: GroqSim, sleeps: SleepRecorder) -> None:
    groqsim.enqueue("chat", *[ErrorReply.server_error()] * 6)
    async with make_client(groqsim, sleeps, max_retries=4) as client:
        with pytest.raises(ServerError):
            await client.chat(REQ)
    assert len(groqsim.requests_for("chat")) == 5 and len(sleeps.waits) == 4


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        (ErrorReply.unauthorized(), AuthenticationError, "invalid_api_key"),
        (ErrorReply.too_large(), RequestTooLargeError, "request_too_large"),
        (ErrorReply.flex_capacity(), CapacityError, "capacity_exceeded"),
        (ErrorReply.tool_use_failed("<call>bad"), BadRequestError, "tool_use_failed"),
        (ErrorReply.json_validate_failed('{"a":'), BadRequestError, "json_validate_failed"),
    ],
    ids=["401", "413", "498", "tool_use_failed", "json_validate_failed"],
)
async def test_errors_that_are_not_retried(
    groqsim: GroqSim,
    client: GroqClient,
    sleeps: SleepRecorder,
    fault: ErrorReply,
    error: type[Exception],
    code: str,
) -> None:
    groqsim.enqueue("chat", fault)
    with pytest.raises(error) as caught:
        await client.chat(REQ)
    assert sleeps.waits == [] and len(groqsim.requests_for("chat")) == 1
    details = caught.value.details  # type: ignore[attr-defined]
    assert details.status == fault.status and details.code == code
    assert details.type and details.server_message
    assert details.request_id.startswith("req_")
    assert details.failed_generation == fault.failed_generation


async def test_failed_generation_is_carried(groqsim: GroqSim, client: GroqClient) -> None:
    groqsim.enqueue("chat", ErrorReply.tool_use_failed('<function=x>{"a": 1}'))
    with pytest.raises(BadRequestError) as caught:
        await client.chat(REQ)
    assert caught.value.failed_generation == '<function=x>{"a": 1}'


async def test_wrong_key_is_401(groqsim: GroqSim, sleeps: SleepRecorder) -> None:
    options = ClientOptions(groqsim.api_url, groqsim.api_url, Secret("gsk_wrong_000000000000000"))
    async with GroqClient(options, sleep=sleeps) as client:
        with pytest.raises(AuthenticationError, match="GROQ_API_KEY"):
            await client.chat(REQ)


async def test_missing_key_for_groq_is_caught_before_sending() -> None:
    root = "https://api.groq.com/openai/v1"
    async with GroqClient(ClientOptions(root, root, None)) as client:
        with pytest.raises(MissingKeyError, match="no Groq API key"):
            await client.chat(REQ)
        assert client.attempts == 0


async def test_unknown_model_is_model_not_found(groqsim: GroqSim, client: GroqClient) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        await client.chat(ChatRequest(model="gpt-5-ultra", messages=REQ.messages))
    assert caught.value.status == 404 and caught.value.code == "model_not_found"
    assert not isinstance(caught.value, ModelRetiredError)


async def test_retired_model_is_model_retired(groqsim: GroqSim, client: GroqClient) -> None:
    with pytest.raises(ModelRetiredError) as caught:
        await client.chat(ChatRequest(model="llama-3.3-70b-versatile", messages=REQ.messages))
    assert caught.value.status == 400 and caught.value.code == "model_decommissioned"


async def test_stalled_response_times_out_and_is_retried(
    groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    groqsim.enqueue("chat", Stall(5), ChatReply(content="late but fine"))
    async with make_client(groqsim, sleeps, timeout=0.3) as client:
        assert (await client.chat(REQ)).content == "late but fine"
    assert len(sleeps.waits) == 1


async def test_unreachable_server_is_a_connection_error(sleeps: SleepRecorder) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = f"http://127.0.0.1:{port}/openai/v1"
    async with GroqClient(ClientOptions(root, root, Secret("k")), sleep=sleeps) as client:
        with pytest.raises(ConnectionFailedError, match="cannot reach 127.0.0.1") as caught:
            await client.chat(REQ)
        assert client.attempts == 3
    assert "tried 3 times" in str(caught.value)
    assert len(sleeps.waits) == 2


async def test_rate_limit_snapshot_is_kept(groqsim: GroqSim, client: GroqClient) -> None:
    await client.chat(REQ)
    first = client.ratelimit
    await client.chat(REQ)
    second = client.ratelimit
    assert first is not None and second is not None
    assert first.limit_requests == 14400 and first.limit_tokens == 18000
    assert second.remaining_requests == first.remaining_requests - 1  # type: ignore[operator]
    assert first.reset_tokens is not None and first.reset_tokens > 0


def test_backoff_matches_the_sdk() -> None:
    for n, top in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        waits = [backoff(n) for _ in range(200)]
        assert all(top * 0.75 <= w <= top for w in waits)
        assert max(waits) - min(waits) > 0.01 * top
