"""The SSE decoder: events come out the same however the bytes are split."""

from __future__ import annotations

import pytest

from voiced.groq.sse import SseDecoder, SseEvent

STREAM = (
    b": keep-alive comment\n\n"
    b'data: {"a": 1}\n\n'
    b"event: error\r\n"
    b'data: {"error": {"message": "boom"}}\r\n\r\n'
    b"id: 7\nretry: 100\ndata: line one\ndata:line two\n\n"
    b"data: caf\xc3\xa9 \xe2\x9c\x93\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    SseEvent("", b'{"a": 1}'),
    SseEvent("error", b'{"error": {"message": "boom"}}'),
    SseEvent("", b"line one\nline two"),
    SseEvent("", "café ✓".encode()),
    SseEvent("", b"[DONE]"),
]


def test_whole_stream_in_one_chunk() -> None:
    assert SseDecoder().feed(STREAM) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 13])
def test_stream_split_into_small_pieces(size: int) -> None:
    decoder = SseDecoder()
    events = []
    for i in range(0, len(STREAM), size):
        events += decoder.feed(STREAM[i : i + size])
    assert events == EXPECTED


def test_event_without_final_blank_line_is_dispatched_on_close() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b"data: tail") == []
    assert decoder.close() == [SseEvent("", b"tail")]


def test_event_name_does_not_leak_into_the_next_event() -> None:
    events = SseDecoder().feed(b"event: ping\n\ndata: x\n\n")
    assert events == [SseEvent("", b"x")]


def test_single_event_chunks_take_the_fast_path_with_the_same_result() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b'data: {"a": 1}\n\n') == [SseEvent("", b'{"a": 1}')]
    assert decoder.feed(b"data: a\ndata: b\n\n") == [SseEvent("", b"a\nb")]
    assert decoder.feed(b"data: a\r\n\r\n") == [SseEvent("", b"a")]
