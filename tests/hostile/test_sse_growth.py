"""Class 9 on the HTTP side, memory and growth: a stream line without an end is refused at a size
cap (held as pieces, joined once: linear, not quadratic), an endless error body is read only up
to its bound, and a whole reply has a size cap too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import TEST_KEY, SleepRecorder, make_client
from tests.groqsim import Endless, GroqSim
from voiced.credentials import Secret
from voiced.errors import ApiError, ServerError, StreamError
from voiced.groq import ChatRequest, ClientOptions, GroqClient, Message
from voiced.groq.limits import BODY_LIMIT, ERROR_BODY_LIMIT
from voiced.groq.sse import LINE_LIMIT, SseDecoder, SseEvent

REQ = ChatRequest(model="openai/gpt-oss-20b", messages=(Message.user("hi"),))
PIECE = 64 * 1024
GUARD_S = 20.0


def test_a_20_mb_line_without_a_newline_is_refused_at_the_cap() -> None:
    decoder = SseDecoder()
    piece = b"x" * PIECE
    fed = 0
    with pytest.raises(StreamError, match="stream line longer than 4 MiB"):
        decoder.feed(b"data: ")
        while fed < 20_000_000:
            decoder.feed(piece)
            fed += len(piece)
            # Held, never more than the cap: nothing grows past it, whatever follows.
            assert decoder.pending <= LINE_LIMIT
    assert LINE_LIMIT - PIECE <= fed <= LINE_LIMIT  # refused as soon as it passed the cap


def test_a_line_just_under_the_cap_split_in_small_pieces_comes_out_whole() -> None:
    decoder = SseDecoder()
    payload = bytes(range(97, 123)) * ((LINE_LIMIT - 16) // 26)
    line = b"data: " + payload
    events: list[SseEvent] = []
    for start in range(0, len(line), 4096):
        events += decoder.feed(line[start : start + 4096])
        assert decoder.pending == min(start + 4096, len(line))  # held as pieces, not re-joined
    events += decoder.feed(b"\n\n")
    assert events == [SseEvent("", payload)]
    assert decoder.idle and decoder.pending == 0


def test_an_event_of_many_short_lines_is_capped_too() -> None:
    decoder = SseDecoder(limit=1000)
    with pytest.raises(StreamError, match="stream event longer than"):
        for _ in range(100):
            decoder.feed(b"data: " + b"y" * 50 + b"\n")


def test_a_decoder_refusal_leaves_nothing_held() -> None:
    decoder = SseDecoder(limit=100)
    with pytest.raises(StreamError):
        decoder.feed(b"data: " + b"z" * 200)
    assert decoder.idle and decoder.pending == 0


async def test_a_server_sending_an_endless_line_is_refused_quickly(
    groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    endless = Endless(
        prefix=b"data: ", piece=b"x" * PIECE, interval=0, content_type="text/event-stream"
    )
    groqsim.enqueue("chat", endless)
    async with make_client(groqsim, sleeps) as client:
        with pytest.raises(StreamError, match="longer than 4 MiB"):
            async with asyncio.timeout(GUARD_S), client.stream_chat(REQ) as stream:
                async for _ in stream:
                    pass


async def test_an_endless_error_body_is_cut_at_its_bound(
    groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    flood = Endless(status=500, piece=b"Internal Server Error " * 100, interval=0)
    groqsim.enqueue("chat", flood, flood, flood)
    async with make_client(groqsim, sleeps) as client:
        with pytest.raises(ServerError) as caught:
            async with asyncio.timeout(GUARD_S):
                await client.chat(REQ)
    assert caught.value.status == 500
    assert len(caught.value.details.server_message) <= 300
    assert len(groqsim.requests_for("chat")) == 3  # retried as before, each body cut


async def test_no_more_than_the_bound_of_an_error_body_is_read() -> None:
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1024
            yield b"e" * 1024

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, content=endless())

    url = "http://127.0.0.1/openai/v1"
    options = ClientOptions(url, url, Secret(TEST_KEY), max_retries=0)
    async with GroqClient(options, transport=httpx.MockTransport(handle)) as client:
        with pytest.raises(ApiError) as caught:
            async with asyncio.timeout(GUARD_S):
                await client.chat(REQ)
    assert caught.value.status == 400
    assert ERROR_BODY_LIMIT <= pulled <= ERROR_BODY_LIMIT + 1024


async def test_a_whole_reply_over_the_size_cap_is_refused(
    groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    groqsim.enqueue("chat", Endless(prefix=b"{", piece=b" " * PIECE, interval=0))
    async with make_client(groqsim, sleeps) as client:
        with pytest.raises(ApiError, match=f"over {BODY_LIMIT // 2**20} MiB"):
            async with asyncio.timeout(GUARD_S):
                await client.chat(REQ)
