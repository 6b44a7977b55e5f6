"""Prefetched chat replies: taken when the same request comes, dropped when another does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.conftest import TEST_KEY
from tests.groqsim import ChatReply, ErrorReply, GroqSim
from voiced.credentials import Secret
from voiced.groq.client import ClientOptions
from voiced.groq.models import ChatRequest, Message
from voiced.pipeline.costs import Meter
from voiced.pipeline.metered import PipelineClient
from voiced.protocol import Event, RateLimitSnapshot, UsageReport


def request(text: str) -> ChatRequest:
    return ChatRequest(model="openai/gpt-oss-20b", messages=(Message.user(text),))


@pytest.fixture
async def client(groqsim: GroqSim) -> AsyncIterator[tuple[PipelineClient, list[Event]]]:
    seen: list[Event] = []
    options = ClientOptions(
        groqsim.api_url, groqsim.api_url, Secret(groqsim.api_key or TEST_KEY), max_retries=0
    )
    async with PipelineClient(options, Meter(seen.append)) as c:
        yield c, seen


async def read(client: PipelineClient, req: ChatRequest) -> str:
    async with client.stream_chat(req) as stream:
        text = "".join([d.content async for d in stream])
        assert stream.completion.content == text
        return text


async def test_a_prefetched_reply_is_replayed_without_asking_again(groqsim, client) -> None:
    c, seen = client
    groqsim.enqueue("chat", ChatReply(content="It is noon, more or less.", tokens_per_s=200))
    prefetch = c.prefetch(request("what time is it"))
    await asyncio.wait_for(prefetch.first_delta.wait(), 5)
    assert await read(c, request("what time is it")) == "It is noon, more or less."
    assert len(groqsim.requests_for("chat")) == 1 and c.prefetch_hits == 1
    usage = [e for e in seen if isinstance(e, UsageReport)]
    assert len(usage) == 1 and usage[0].kind == "chat" and usage[0].completion_tokens > 0
    assert any(isinstance(e, RateLimitSnapshot) for e in seen)


async def test_another_request_drops_the_prefetch_and_goes_to_the_server(groqsim, client) -> None:
    c, _ = client
    groqsim.enqueue("chat", ChatReply(content="Noon."), ChatReply(content="Monday."))
    prefetch = c.prefetch(request("what time is it"))
    await asyncio.wait_for(prefetch.first_delta.wait(), 5)
    assert await read(c, request("what day is it")) == "Monday."
    assert len(groqsim.requests_for("chat")) == 2
    assert groqsim.requests_for("chat")[-1].json["messages"][0]["content"] == "what day is it"
    assert c.prefetch_hits == 0


async def test_a_failed_prefetch_is_asked_again(groqsim, client) -> None:
    c, _ = client
    groqsim.enqueue("chat", ErrorReply.server_error(), ChatReply(content="Recovered."))
    prefetch = c.prefetch(request("hello"))
    await asyncio.wait_for(prefetch.first_delta.wait(), 5)
    assert prefetch.error is not None
    assert await read(c, request("hello")) == "Recovered."
    assert c.prefetch_hits == 0


async def test_a_discarded_prefetch_is_cancelled(groqsim, client) -> None:
    c, _ = client
    groqsim.enqueue("chat", ChatReply(content="slow " * 50, ttft=5.0))
    prefetch = c.prefetch(request("hello"))
    await asyncio.sleep(0.1)
    c.discard_prefetch()
    await asyncio.sleep(0)
    with pytest.raises(asyncio.CancelledError):
        async for _ in prefetch.replay():
            pass
