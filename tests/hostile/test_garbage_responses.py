"""Class 8 on the HTTP side, tracebacks where one-line errors are promised: whatever the server
sends (garbage SSE chunks, broken gzip, HTML, JSON of the wrong shape or cut short), ``voiced
ask``, ``voiced models`` and ``voiced transcribe`` end with one ``voiced: …`` line, exit status
1 or 2, and no traceback. Each runs as a real process against the loopback server."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.groqsim import Raw
from tests.hostile.network import one_line_error, voiced  # noqa: F401
from tests.test_cli import Voiced, write_wav

pytestmark = pytest.mark.subprocess

FIRST = (
    b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","model":"openai/gpt-oss-20b",'
    b'"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],'
    b'"x_groq":{"id":"req_garbage"}}\n\n'
)
"""A well-formed opening chunk, so the garbage arrives inside a live stream."""
HELLO = b'data: {"choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}\n\n'
BROKEN_GZIP = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03this is not deflate data at all"
HTML = b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body>\n</body>\n"


def delta(payload: bytes) -> bytes:
    return b'{"choices":[{"index":0,"delta":' + payload + b',"finish_reason":null}]}'


def tool(fragment: bytes) -> bytes:
    return delta(b'{"tool_calls":[' + fragment + b"]}")


GARBAGE_CHUNKS = {
    "choices is a string": b'{"choices":"abc"}',
    "choices is a one-character string": b'{"choices":"a"}',
    "choices is an object": b'{"choices":{"0":{}}}',
    "a choice is a string": b'{"choices":["x"]}',
    "delta is a string": b'{"choices":[{"index":0,"delta":"x"}]}',
    "content is a number": delta(b'{"content":5}'),
    "content is an object": delta(b'{"content":{"text":"hi"}}'),
    "content is a number beside reasoning": delta(b'{"content":5,"reasoning":"r"}'),
    "reasoning is a list": delta(b'{"reasoning":["r"]}'),
    "finish_reason is a number": b'{"choices":[{"index":0,"delta":{},"finish_reason":7}]}',
    "tool_calls is an object": delta(b'{"tool_calls":{"index":0}}'),
    "a tool call is a string": tool(b'"call"'),
    "tool index is a string": tool(b'{"index":"x","id":"c1","function":{"name":"f"}}'),
    "tool index is a float": tool(b'{"index":0.5,"id":"c1","function":{"name":"f"}}'),
    "tool index is huge": tool(b'{"index":1000000000000,"function":{"name":"f"}}'),
    "tool index is negative": tool(b'{"index":-1,"function":{"name":"f"}}'),
    "tool function is a list": tool(b'{"index":0,"function":["f"]}'),
    "tool arguments are an object": tool(b'{"index":0,"function":{"name":"f","arguments":{}}}'),
    "tool id is a number": tool(b'{"index":0,"id":5,"function":{"name":"f"}}'),
    "a JSON list": b"[1,2,3]",
    "a JSON string": b'"hello"',
    "JSON null": b"null",
    "JSON cut short": b'{"choices":[{"index":0,"delta":{"content":"Hel',
    "invalid UTF-8": delta(b'{"content":"\xff\xfe\xfd"}'),
    "a lone surrogate": delta(b'{"content":"\\ud800"}'),
    "50,000 levels of nesting": b"[" * 50_000 + b"]" * 50_000,
    "a 400-digit number": delta(b'{"content":' + b"9" * 400 + b"}"),
    "an error that is a number": b'{"error":5}',
    "an error with a string status": b'{"error":{"message":"x\\ny","status_code":"500"}}',
}


@pytest.mark.parametrize("chunk", GARBAGE_CHUNKS.values(), ids=GARBAGE_CHUNKS.keys())
def test_voiced_ask_reports_a_garbage_stream_chunk_in_one_line(
    voiced: Voiced,  # noqa: F811
    chunk: bytes,
) -> None:
    body = FIRST + HELLO + b"data: " + chunk + b"\n\ndata: [DONE]\n\n"
    voiced.sim.enqueue("chat", Raw(body, content_type="text/event-stream"))
    result = voiced("ask", "hi")
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("Hello")  # what arrived before the garbage was shown
    line = one_line_error(result.stderr)
    assert "[request req_" in line


def test_voiced_ask_reports_a_broken_gzip_stream_in_one_line(voiced: Voiced) -> None:  # noqa: F811
    voiced.sim.enqueue(
        "chat",
        Raw(BROKEN_GZIP, content_type="text/event-stream", headers={"content-encoding": "gzip"}),
    )
    result = voiced("ask", "hi")
    assert result.returncode == 1
    assert "could not be decoded (Content-Encoding: gzip)" in one_line_error(result.stderr)


def test_a_stream_with_bookkeeping_of_the_wrong_type_still_answers(voiced: Voiced) -> None:  # noqa: F811
    last = (
        b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"model":5,'
        b'"usage":{"prompt_tokens":"many","total_time":"slow"},"x_groq":{"id":7,"usage":[]}}\n\n'
    )
    voiced.sim.enqueue(
        "chat", Raw(FIRST + HELLO + last + b"data: [DONE]\n\n", content_type="text/event-stream")
    )
    result = voiced("ask", "hi")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello\n"


WHOLE_CHAT_GARBAGE = {
    "HTML": Raw(HTML, content_type="text/html"),
    "empty": Raw(b""),
    "JSON cut short": Raw(b'{"choices":[{"index":0,"message":{"content":"Li'),
    "a JSON list": Raw(b"[]"),
    "no choices": Raw(b'{"choices":[]}'),
    "choices is a string": Raw(b'{"choices":"abc"}'),
    "content is a number": Raw(b'{"choices":[{"message":{"content":5}}]}'),
    "message is a string": Raw(b'{"choices":[{"message":"hi"}]}'),
    "a tool call is a number": Raw(b'{"choices":[{"message":{"tool_calls":[5]}}]}'),
    "invalid UTF-8": Raw(b'{"choices":[{"message":{"content":"\xff"}}]}'),
    "broken gzip": Raw(BROKEN_GZIP, headers={"content-encoding": "gzip"}),
    "gzip of HTML": Raw(gzip.compress(HTML), headers={"content-encoding": "gzip"}),
}


@pytest.mark.parametrize("reply", WHOLE_CHAT_GARBAGE.values(), ids=WHOLE_CHAT_GARBAGE.keys())
def test_voiced_ask_json_reports_a_garbage_reply_in_one_line(
    voiced: Voiced,  # noqa: F811
    reply: Raw,
) -> None:
    voiced.sim.enqueue("chat", reply)
    result = voiced("ask", "--json", "capital of Peru")
    assert result.returncode == 1
    line = one_line_error(result.stderr)
    assert "could not be" in line


ERROR_GARBAGE = {
    "HTML 502": Raw(HTML, status=502, content_type="text/html"),
    "HTML 400": Raw(HTML, status=400, content_type="text/html"),
    "error is a list": Raw(b'{"error":["a","b"]}', status=400),
    "message over several lines": Raw(b'{"error":{"message":"a\\nb\\r\\nc"}}', status=400),
    "escape sequences": Raw(b'{"error":{"message":"\\u001b[2J\\u001b]0;pwned\\u0007x"}}', 400),
    "broken gzip": Raw(BROKEN_GZIP, status=500, headers={"content-encoding": "gzip"}),
    "invalid UTF-8": Raw(b"\xff\xfe bad \xfd\n\n", status=400, content_type="text/plain"),
}


@pytest.mark.parametrize("reply", ERROR_GARBAGE.values(), ids=ERROR_GARBAGE.keys())
def test_a_garbage_error_body_is_reported_in_one_clean_line(
    voiced: Voiced,  # noqa: F811
    reply: Raw,
) -> None:
    voiced.config("[network]\nmax_retries = 0\n")
    voiced.sim.enqueue("chat", reply)
    result = voiced("ask", "hi")
    assert result.returncode == 1
    line = one_line_error(result.stderr)
    assert str(reply.status) in line
    assert "\x1b" not in line and "\x07" not in line


MODELS_GARBAGE = {
    "HTML": Raw(HTML, content_type="text/html"),
    "JSON cut short": Raw(b'{"object":"list","data":[{"id":"openai/gpt-oss-20b"'),
    "a JSON list": Raw(b"[]"),
    "a JSON string": Raw(b'"models"'),
    "no data": Raw(b'{"object":"list"}'),
    "data is a string": Raw(b'{"data":"abc"}'),
    "a model is a number": Raw(b'{"data":[5]}'),
    "a model id is a number": Raw(b'{"data":[{"id":5}]}'),
    "a model without id": Raw(b'{"data":[{}]}'),
    "invalid UTF-8": Raw(b'{"data":[{"id":"\xff"}]}'),
    "broken gzip": Raw(BROKEN_GZIP, headers={"content-encoding": "gzip"}),
}


@pytest.mark.parametrize("reply", MODELS_GARBAGE.values(), ids=MODELS_GARBAGE.keys())
def test_voiced_models_reports_a_garbage_list_in_one_line(
    voiced: Voiced,  # noqa: F811
    reply: Raw,
) -> None:
    voiced.sim.enqueue("models", reply)
    result = voiced("models")
    assert result.returncode == 1
    assert "models list reply could not be read" in one_line_error(result.stderr) or (
        "could not be decoded" in result.stderr
    )


def test_voiced_models_shows_odd_optional_fields_as_unknown(voiced: Voiced) -> None:  # noqa: F811
    odd = b'{"data":[{"id":"odd-model","context_window":"big","active":"yes","owned_by":5}]}'
    voiced.sim.enqueue("models", Raw(odd))
    result = voiced("models")
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "odd-model" in line)
    assert row.split() == ["odd-model", "-", "yes"]


TRANSCRIPT_GARBAGE = {
    "HTML": ("json", Raw(HTML, content_type="text/html")),
    "JSON cut short": ("json", Raw(b'{"text":" hello')),
    "a JSON list": ("json", Raw(b'["hello"]')),
    "no text": ("json", Raw(b'{"x_groq":{"id":"req_1"}}')),
    "text is a number": ("json", Raw(b'{"text":5}')),
    "invalid UTF-8": ("json", Raw(b'{"text":"\xff"}')),
    "broken gzip": ("json", Raw(BROKEN_GZIP, headers={"content-encoding": "gzip"})),
    "broken gzip as text": (
        "text",
        Raw(BROKEN_GZIP, content_type="text/plain", headers={"content-encoding": "gzip"}),
    ),
    "segments is a string": ("verbose_json", Raw(b'{"text":"a","segments":"x"}')),
    "a segment is a number": ("verbose_json", Raw(b'{"text":"a","segments":[5]}')),
    "a segment start is a string": (
        "srt",
        Raw(b'{"text":"a","segments":[{"start":"0","end":1,"text":"a"}]}'),
    ),
    "a segment without end": ("vtt", Raw(b'{"text":"a","segments":[{"start":0,"text":"a"}]}')),
    "a word without times": ("verbose_json", Raw(b'{"text":"a","words":[{"word":"a"}]}')),
}


@pytest.mark.parametrize(
    ("fmt", "reply"), TRANSCRIPT_GARBAGE.values(), ids=TRANSCRIPT_GARBAGE.keys()
)
def test_voiced_transcribe_reports_a_garbage_transcript_in_one_line(
    voiced: Voiced,  # noqa: F811
    tmp_path: Path,
    fmt: str,
    reply: Raw,
) -> None:
    audio = write_wav(tmp_path / "hello.wav")
    voiced.sim.enqueue("transcriptions", reply)
    result = voiced("transcribe", str(audio), "--format", fmt)
    assert result.returncode == 1
    assert "could not be" in one_line_error(result.stderr)


GARBAGE_HEADERS = {
    "retry-after": "inf",
    "retry-after-ms": "nan",
    "x-ratelimit-limit-requests": "inf",
    "x-ratelimit-remaining-requests": "9" * 400,
    "x-ratelimit-remaining-tokens": "-nan",
    "x-ratelimit-reset-requests": "9" * 400 + "s",
    "x-ratelimit-reset-tokens": "1e999s",
}


def test_garbage_rate_limit_headers_are_reported_in_one_line(voiced: Voiced) -> None:  # noqa: F811
    voiced.config("[network]\nmax_retries = 0\n")
    voiced.sim.ratelimit = {}
    body = b'{"error":{"message":"slow down","code":"rate_limit_exceeded"}}'
    voiced.sim.enqueue("chat", Raw(body, status=429, headers=GARBAGE_HEADERS))
    result = voiced("ask", "hi")
    assert result.returncode == 1
    line = one_line_error(result.stderr)
    assert "rate limited by the server" in line
    assert "inf" not in line and "nan" not in line
