"""Class 5, requests that could run for ever: every request has a deadline, every stream an idle
bound, and both end it with a one-line ConnectionFailedError (against the loopback server)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.conftest import SleepRecorder, make_client
from tests.groqsim import ChatReply, Endless, ErrorReply, GroqSim, StreamFault, ToolCall
from tests.hostile.network import one_line_error, voiced  # noqa: F401
from tests.test_cli import Voiced
from voiced.config import load_settings
from voiced.errors import ConfigError, ConnectionFailedError, ServerError
from voiced.groq import ChatRequest, Message

REQ = ChatRequest(model="openai/gpt-oss-20b", messages=(Message.user("hi"),))
GUARD_S = 15.0
"""Without the limits these requests never end: the guard turns that into a failure."""


@pytest.mark.realtime
async def test_keepalive_comments_do_not_keep_a_stream_alive_past_the_idle_bound(
    groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    groqsim.enqueue("chat", StreamFault("keepalive", after=2, interval=0.05))
    deltas: list[str] = []
    async with make_client(groqsim, sleeps, stream_idle_timeout=0.5) as client:
        started = time.monotonic()
        with pytest.raises(ConnectionFailedError) as caught:
            async with asyncio.timeout(GUARD_S), client.stream_chat(REQ) as stream:
                async for delta in stream:
                    deltas.append(delta.content)
        elapsed = time.monotonic() - started
    assert "".join(deltas) == "one two"  # the tokens before the stall still arrived
    assert "sent no token for 0.5 s" in str(caught.value)
    assert "stream_idle_timeout" in caught.value.hint
    assert "\n" not in str(caught.value)
    assert 0.5 <= elapsed < GUARD_S / 3


@pytest.mark.realtime
async def test_reasoning_and_tool_call_pieces_count_as_tokens(
    groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    # A delta every 0.2 s, for about 3 s in all, none of them content: never 0.6 s idle.
    call = ToolCall("get_weather", {"city": "Paris", "unit": "celsius", "days": 3})
    reply = ChatReply(
        reasoning="the user wants weather",
        tool_calls=[call],
        tool_call_fragments=True,
        tokens_per_s=5,
    )
    groqsim.enqueue("chat", reply)
    async with make_client(groqsim, sleeps, stream_idle_timeout=0.6) as client:
        async with asyncio.timeout(GUARD_S), client.stream_chat(REQ) as stream:
            async for _ in stream:
                pass
    done = stream.completion
    assert done.reasoning == "the user wants weather"
    assert done.tool_calls[0].parsed_arguments() == {"city": "Paris", "unit": "celsius", "days": 3}


@pytest.mark.realtime
async def test_a_slow_consumer_is_not_taken_for_an_idle_server(
    groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    groqsim.enqueue("chat", ChatReply(content="one two three"))
    received: list[str] = []
    async with make_client(groqsim, sleeps, stream_idle_timeout=0.3) as client:
        async with asyncio.timeout(GUARD_S), client.stream_chat(REQ) as stream:
            async for delta in stream:
                received.append(delta.content)
                await asyncio.sleep(0.5)  # e.g. speech catching up: longer than the bound
    assert "".join(received) == "one two three"


@pytest.mark.realtime
async def test_a_stream_still_sending_tokens_ends_at_the_deadline(
    groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    # A token every 0.1 s never trips the idle bound; the deadline still ends it.
    groqsim.enqueue("chat", ChatReply(content="word " * 500, tokens_per_s=10))
    async with make_client(groqsim, sleeps, request_deadline=1.0, stream_idle_timeout=5) as client:
        started = time.monotonic()
        received = 0
        with pytest.raises(ConnectionFailedError) as caught:
            async with asyncio.timeout(GUARD_S), client.stream_chat(REQ) as stream:
                async for _ in stream:
                    received += 1
        elapsed = time.monotonic() - started
    assert "did not finish its reply within 1 s" in str(caught.value)
    assert "request_deadline" in caught.value.hint
    assert received > 3
    assert 1.0 <= elapsed < GUARD_S / 3


@pytest.mark.realtime
async def test_a_trickled_whole_reply_ends_at_the_deadline(
    groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    # One byte every 50 ms: no read ever waits the 60 s read timeout.
    groqsim.enqueue("chat", Endless(prefix=b'{"choices": [', piece=b" ", interval=0.05))
    async with make_client(groqsim, sleeps, request_deadline=1.0) as client:
        started = time.monotonic()
        with pytest.raises(ConnectionFailedError) as caught:
            async with asyncio.timeout(GUARD_S):
                await client.chat(REQ)
        elapsed = time.monotonic() - started
    assert str(caught.value).startswith("127.0.0.1 did not finish its reply within 1 s")
    assert 1.0 <= elapsed < GUARD_S / 3
    assert len(groqsim.requests_for("chat")) == 1  # the deadline is not retried


@pytest.mark.realtime
async def test_a_trickled_models_list_ends_at_the_deadline(
    groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    groqsim.enqueue("models", Endless(prefix=b'{"data": [', interval=0.05))
    async with make_client(groqsim, sleeps, request_deadline=0.5) as client:
        with pytest.raises(ConnectionFailedError, match="within 0.5 s"):
            async with asyncio.timeout(GUARD_S):
                await client.list_models()


async def test_a_retry_wait_that_would_pass_the_deadline_is_not_taken(
    groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    groqsim.enqueue("chat", ErrorReply.unavailable(), ChatReply(content="late"))
    async with make_client(groqsim, sleeps, request_deadline=2.0) as client:
        # 503 asks for no wait: the backoff (about 0.5 s) fits, so it retries.
        assert (await client.chat(REQ)).content == "late"
        assert len(sleeps.waits) == 1
    groqsim.enqueue(
        "chat",
        ErrorReply(503, "Service Unavailable", headers={"retry-after": "30"}),
        ChatReply(content="never"),
    )
    async with make_client(groqsim, sleeps, request_deadline=2.0) as client:
        with pytest.raises(ServerError, match="server error 503"):
            await client.chat(REQ)
    assert len(sleeps.waits) == 1  # no 30 s wait on a 2 s deadline: the 503 is reported


@pytest.mark.subprocess
def test_voiced_ask_ends_a_keepalive_stream_with_one_line(voiced: Voiced) -> None:  # noqa: F811
    voiced.config("[network]\nstream_idle_timeout = 1\n")
    voiced.sim.enqueue("chat", StreamFault("keepalive", after=2, interval=0.1))
    started = time.monotonic()
    result = voiced("ask", "hi")
    assert time.monotonic() - started < 20  # (Voiced itself gives up after 30 s)
    assert result.returncode == 1
    assert result.stdout.startswith("one two")
    line = one_line_error(result.stderr)
    assert "the reply stream sent no token for 1 s" in line
    assert "[network] stream_idle_timeout" in line


@pytest.mark.subprocess
def test_voiced_models_ends_a_trickled_body_with_one_line(voiced: Voiced) -> None:  # noqa: F811
    voiced.config("[network]\nrequest_deadline = 1\n")
    voiced.sim.enqueue("models", Endless(prefix=b'{"data": [', interval=0.1))
    result = voiced("models")
    assert result.returncode == 1
    line = one_line_error(result.stderr)
    assert "127.0.0.1 did not finish its reply within 1 s" in line
    assert "[network] request_deadline" in line


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("request_deadline = 0", "request_deadline"),
        ("request_deadline = -5", "request_deadline"),
        ("request_deadline = nan", "request_deadline"),
        ("request_deadline = inf", "request_deadline"),
        ("stream_idle_timeout = 0", "stream_idle_timeout"),
        ("stream_idle_timeout = 1e9", "stream_idle_timeout"),
    ],
)
def test_limits_out_of_range_are_refused_naming_the_key(
    tmp_path: Path, line: str, key: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[network]\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings({"VOICED_CONFIG": str(config), "HOME": str(tmp_path)})
    assert f"[network] {key} must be above 0 and at most" in str(caught.value)


def test_limits_are_read_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[network]\nrequest_deadline = 90\nstream_idle_timeout = 7.5\n")
    network = load_settings({"VOICED_CONFIG": str(config), "HOME": str(tmp_path)}).network
    assert (network.request_deadline, network.stream_idle_timeout) == (90.0, 7.5)
