"""Self-tests of the groqsim loopback Groq server, over real sockets with plain httpx."""

from __future__ import annotations

import io
import json
import re
import threading
import time
import wave
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.groqsim import (
    DEFAULT_MODELS,
    ChatReply,
    Endless,
    ErrorReply,
    GroqSim,
    Raw,
    Segment,
    Stall,
    StreamFault,
    ToolCall,
    Transcript,
    Word,
)

KEY = "gsk_test"
MODEL = "openai/gpt-oss-20b"
CHAT = "/chat/completions"
STT = "/audio/transcriptions"
REQ_ID = re.compile(r"req_[a-z0-9]{26}")
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def sim() -> Iterator[GroqSim]:
    with GroqSim(api_key=KEY) as s:
        yield s
    assert s.errors == []


@pytest.fixture
def client(sim: GroqSim) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.api_url, headers=AUTH, timeout=5.0) as c:
        yield c


def chat_body(stream: bool = False, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    if stream:
        body["stream"] = True
    return {**body, **extra}


def events(text: str) -> list[tuple[str | None, str]]:
    """Parse an SSE body into (event name, data) pairs."""
    out: list[tuple[str | None, str]] = []
    for block in text.split("\n\n"):
        if not block:
            continue
        name: str | None = None
        data: list[str] = []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data.append(line[len("data: ") :])
        out.append((name, "\n".join(data)))
    return out


def stream_chunks(client: httpx.Client, **extra: Any) -> tuple[httpx.Response, list[str]]:
    """POST a streamed chat; return the response and the data of every event."""
    with client.stream("POST", CHAT, json=chat_body(stream=True, **extra)) as resp:
        text = resp.read().decode()
    return resp, [data for _, data in events(text)]


def deltas(datas: list[str]) -> list[dict[str, Any]]:
    """The deltas between the first (role) and the last (finish) chunk."""
    return [json.loads(d)["choices"][0]["delta"] for d in datas[1:-2]]


def wav_bytes(seconds: float, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * int(seconds * rate))
    return buf.getvalue()


def transcribe(
    client: httpx.Client,
    path: str = STT,
    filename: str = "clip.wav",
    data: bytes = b"RIFF....",
    grains: list[str] | None = None,
    **fields: str,
) -> httpx.Response:
    form: dict[str, str | list[str]] = {"model": "whisper-large-v3-turbo", **fields}
    if grains is not None:
        form["timestamp_granularities[]"] = grains
    return client.post(path, files={"file": (filename, data, "audio/wav")}, data=form)


# -- chat: streaming --------------------------------------------------------------------------


def test_stream_wire_format(sim: GroqSim, client: httpx.Client) -> None:
    sim.enqueue("chat", ChatReply(content="Hello there, friend."))
    resp, datas = stream_chunks(client)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/event-stream"
    assert resp.headers["transfer-encoding"] == "chunked"
    req_id = resp.headers["x-request-id"]
    assert REQ_ID.fullmatch(req_id)
    assert datas[-1] == "[DONE]"
    chunks = [json.loads(d) for d in datas[:-1]]
    assert len(chunks) == 5
    first, last = chunks[0], chunks[-1]
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert first["x_groq"] == {"id": req_id}
    assert deltas(datas) == [{"content": "Hello"}, {"content": " there,"}, {"content": " friend."}]
    for chunk in chunks:
        assert chunk["id"] == first["id"] and chunk["id"].startswith("chatcmpl-")
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["model"] == MODEL
        assert chunk["created"] == first["created"]
        assert chunk["system_fingerprint"].startswith("fp_")
        assert chunk["service_tier"] == "on_demand"
        assert chunk["choices"][0]["logprobs"] is None
        assert chunk["choices"][0]["index"] == 0
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None] * 4 + ["stop"]
    assert last["choices"][0]["delta"] == {}
    usage = last["x_groq"]["usage"]
    assert last["x_groq"]["id"] == req_id
    assert last["usage"] == usage
    prompt_tokens = len(sim.requests_for("chat")[0].body) // 4
    assert usage["prompt_tokens"] == prompt_tokens
    assert usage["completion_tokens"] == 3
    assert usage["total_tokens"] == prompt_tokens + 3
    for key in ("queue_time", "prompt_time", "completion_time", "total_time"):
        assert isinstance(usage[key], float)
    assert "x_groq" not in chunks[1] and "usage" not in chunks[1]


def test_stream_reasoning_then_content_without_top_level_usage(
    sim: GroqSim, client: httpx.Client
) -> None:
    sim.enqueue("chat", ChatReply(content="ok", reasoning="let me  think", usage_top_level=False))
    _, datas = stream_chunks(client)
    assert deltas(datas) == [
        {"reasoning": "let"},
        {"reasoning": " me"},
        {"reasoning": "  think"},
        {"content": "ok"},
    ]
    last = json.loads(datas[-2])
    assert "usage" not in last
    assert last["x_groq"]["usage"]["completion_tokens"] == 4


def test_stream_ttft_and_pacing(sim: GroqSim, client: httpx.Client) -> None:
    sim.enqueue("chat", ChatReply(content="a b c d", ttft=0.2, tokens_per_s=20))
    arrivals: list[float] = []
    start = time.monotonic()
    with client.stream("POST", CHAT, json=chat_body(stream=True)) as resp:
        for line in resp.iter_lines():
            if line.startswith("data: {") and '"content":"' in line and '"role"' not in line:
                arrivals.append(time.monotonic() - start)
    assert len(arrivals) == 4
    assert arrivals[0] >= 0.2
    assert arrivals[-1] >= 0.2 + 3 / 20
    assert arrivals[-1] < 2.0


def test_stream_tool_call_whole(sim: GroqSim, client: httpx.Client) -> None:
    call = ToolCall("get_weather", {"city": "Paris"}, id="call_abc")
    sim.enqueue("chat", ChatReply(tool_calls=[call]))
    _, datas = stream_chunks(client)
    assert deltas(datas) == [
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_abc",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ]
        }
    ]
    assert json.loads(datas[-2])["choices"][0]["finish_reason"] == "tool_calls"


def test_stream_tool_call_fragments(sim: GroqSim, client: httpx.Client) -> None:
    calls = [ToolCall("get_weather", {"city": "Paris"}), ToolCall("set_timer", '{"seconds": 90}')]
    sim.enqueue("chat", ChatReply(tool_calls=calls, tool_call_fragments=True))
    _, datas = stream_chunks(client)
    by_index: dict[int, list[dict[str, Any]]] = {0: [], 1: []}
    for delta in deltas(datas):
        (piece,) = delta["tool_calls"]
        by_index[piece["index"]].append(piece)
    for index, call in enumerate(calls):
        head, *rest = by_index[index]
        assert head == {
            "index": index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        assert len(rest) >= 2
        assert all(
            set(p) == {"index", "function"} and set(p["function"]) == {"arguments"} for p in rest
        )
        assert "".join(p["function"]["arguments"] for p in rest) == call.arguments_json
    assert re.fullmatch(r"call_[a-z0-9]+", calls[0].id or "")


# -- chat: non-streaming ----------------------------------------------------------------------


def test_non_stream_completion(sim: GroqSim, client: httpx.Client) -> None:
    sim.enqueue(
        "chat",
        ChatReply(content="Hi.", reasoning="hmm", finish_reason="length", headers={"x-a": "1"}),
    )
    resp = client.post(CHAT, json=chat_body())
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers["x-a"] == "1"
    body = resp.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == MODEL
    assert body["id"].startswith("chatcmpl-")
    assert body["system_fingerprint"].startswith("fp_")
    assert body["x_groq"] == {"id": resp.headers["x-request-id"]}
    (choice,) = body["choices"]
    assert choice["message"] == {"role": "assistant", "content": "Hi.", "reasoning": "hmm"}
    assert choice["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 2
    assert set(body["usage"]) == {
        "queue_time",
        "prompt_tokens",
        "prompt_time",
        "completion_tokens",
        "completion_time",
        "total_tokens",
        "total_time",
    }


def test_non_stream_tool_call_has_no_content_key(sim: GroqSim, client: httpx.Client) -> None:
    sim.enqueue("chat", ChatReply(tool_calls=[ToolCall("f", "{}", id="call_1")]))
    body = client.post(CHAT, json=chat_body()).json()
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ],
    }
    assert body["choices"][0]["finish_reason"] == "tool_calls"


def test_non_stream_ttft_and_default_reply(sim: GroqSim, client: httpx.Client) -> None:
    sim.enqueue("chat", ChatReply(content="late", ttft=0.2))
    start = time.monotonic()
    resp = client.post(CHAT, json=chat_body())
    assert time.monotonic() - start >= 0.2
    assert resp.json()["choices"][0]["message"]["content"] == "late"
    resp = client.post(CHAT, json=chat_body())
    assert resp.json()["choices"][0]["message"]["content"] == "Hello from groqsim."


# -- errors -----------------------------------------------------------------------------------

FACTORIES: list[tuple[ErrorReply, int, str, str]] = [
    (ErrorReply.rate_limited(), 429, "tokens", "rate_limit_exceeded"),
    (ErrorReply.unauthorized(), 401, "invalid_request_error", "invalid_api_key"),
    (ErrorReply.model_not_found("nope"), 404, "invalid_request_error", "model_not_found"),
    (ErrorReply.decommissioned("old"), 400, "invalid_request_error", "model_decommissioned"),
    (ErrorReply.tool_use_failed("<f>"), 400, "invalid_request_error", "tool_use_failed"),
    (ErrorReply.json_validate_failed("{"), 400, "invalid_request_error", "json_validate_failed"),
    (ErrorReply.too_large(), 413, "invalid_request_error", "request_too_large"),
    (ErrorReply.flex_capacity(), 498, "capacity_exceeded", "capacity_exceeded"),
    (ErrorReply.server_error(), 500, "internal_server_error", "internal_server_error"),
    (ErrorReply.unavailable(), 503, "internal_server_error", "service_unavailable"),
    (ErrorReply.timeout(), 408, "invalid_request_error", "request_timeout"),
    (ErrorReply.conflict(), 409, "invalid_request_error", "conflict"),
]


@pytest.mark.parametrize(("reply", "status", "etype", "code"), FACTORIES)
def test_error_factories(
    sim: GroqSim, client: httpx.Client, reply: ErrorReply, status: int, etype: str, code: str
) -> None:
    sim.enqueue("chat", reply)
    resp = client.post(CHAT, json=chat_body(stream=True))
    assert resp.status_code == status
    assert resp.headers["content-type"] == "application/json"
    assert REQ_ID.fullmatch(resp.headers["x-request-id"])
    assert resp.headers["x-ratelimit-limit-requests"] == "14400"
    error = resp.json()["error"]
    assert error["type"] == etype
    assert error["code"] == code
    assert error["message"] == reply.message
    expected_keys = {"message", "type", "code"}
    if reply.failed_generation is not None:
        expected_keys.add("failed_generation")
        assert error["failed_generation"] == reply.failed_generation
    assert set(error) == expected_keys


def test_error_messages_like_groq() -> None:
    assert ErrorReply.model_not_found("x").message == (
        "The model `x` does not exist or you do not have access to it."
    )
    assert ErrorReply.tool_use_failed("<f>").body() == {
        "error": {
            "message": "Failed to call a function. Please adjust your prompt. See "
            "'failed_generation' for more details.",
            "type": "invalid_request_error",
            "code": "tool_use_failed",
            "failed_generation": "<f>",
        }
    }


def test_rate_limit_and_extra_headers(sim: GroqSim, client: httpx.Client) -> None:
    sim.enqueue(
        "chat",
        ErrorReply.rate_limited(),
        ErrorReply.rate_limited(retry_after=0.5, retry_after_ms=500),
        ErrorReply.rate_limited(retry_after=None),
        ErrorReply(
            502, "Bad Gateway", type="internal_server_error", headers={"x-should-retry": "false"}
        ),
    )
    first, second, third, fourth = (client.post(CHAT, json=chat_body()) for _ in range(4))
    assert first.headers["retry-after"] == "1"
    assert "retry-after-ms" not in first.headers
    assert (second.headers["retry-after"], second.headers["retry-after-ms"]) == ("0.5", "500")
    assert "retry-after" not in third.headers and third.status_code == 429
    assert fourth.status_code == 502
    assert fourth.headers["x-should-retry"] == "false"
    assert fourth.json() == {
        "error": {"message": "Bad Gateway", "type": "internal_server_error", "code": None}
    }


def test_ratelimit_headers_count_down(sim: GroqSim, client: httpx.Client) -> None:
    seen = [client.post(CHAT, json=chat_body()).headers for _ in range(3)]
    assert [h["x-ratelimit-remaining-requests"] for h in seen] == ["14399", "14398", "14397"]
    assert seen[0]["x-ratelimit-reset-tokens"] == "2m59.56s"
    assert seen[0]["x-ratelimit-reset-requests"] == "6s"
    assert seen[0]["x-ratelimit-remaining-tokens"] == "17950"
    sim.ratelimit["x-ratelimit-remaining-tokens"] = "12"
    sim.ratelimit["x-ratelimit-remaining-requests"] = "0"
    resp = client.post(CHAT, json=chat_body())
    assert resp.headers["x-ratelimit-remaining-tokens"] == "12"
    assert resp.headers["x-ratelimit-remaining-requests"] == "0"


# -- the checks the server does by itself ------------------------------------------------------

INVALID_KEY = {
    "error": {
        "message": "Invalid API Key",
        "type": "invalid_request_error",
        "code": "invalid_api_key",
    }
}


def test_auth(sim: GroqSim) -> None:
    with httpx.Client(base_url=sim.api_url) as anon:
        missing = anon.post(CHAT, json=chat_body())
        wrong = anon.post(CHAT, json=chat_body(), headers={"Authorization": "Bearer gsk_nope"})
        models = anon.get("/models")
    for resp in (missing, wrong, models):
        assert resp.status_code == 401
        assert resp.json() == INVALID_KEY
        assert REQ_ID.fullmatch(resp.headers["x-request-id"])
    assert [r.status for r in sim.requests] == [401, 401, 401]


def test_any_key_when_api_key_is_none() -> None:
    with GroqSim(api_key=None) as sim, httpx.Client(base_url=sim.api_url) as anon:
        ok = anon.post(CHAT, json=chat_body(), headers={"Authorization": "Bearer whatever"})
        missing = anon.post(CHAT, json=chat_body())
    assert ok.status_code == 200
    assert missing.status_code == 401


def test_rejections_do_not_consume_the_queue(sim: GroqSim, client: httpx.Client) -> None:
    sim.enqueue("chat", ChatReply(content="scripted"))
    unknown = client.post(CHAT, json=chat_body(model="nope/model"))
    retired = client.post(CHAT, json=chat_body(model="llama3-70b-8192"))
    broken = client.post(CHAT, content=b'{"model": ', headers={"content-type": "application/json"})
    extra = client.post(CHAT, json=chat_body(bogus=1))
    no_messages = client.post(CHAT, json={"model": MODEL})
    bad_key = client.post(CHAT, json=chat_body(), headers={"Authorization": "Bearer x"})
    assert unknown.status_code == 404
    assert unknown.json()["error"] == {
        "message": "The model `nope/model` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "code": "model_not_found",
    }
    assert (retired.status_code, retired.json()["error"]["code"]) == (400, "model_decommissioned")
    assert broken.status_code == 400
    assert extra.status_code == 400 and extra.json()["error"]["param"] == "bogus"
    assert no_messages.status_code == 400
    assert bad_key.status_code == 401
    assert sim.queued("chat") == 1
    good = client.post(CHAT, json=chat_body())
    assert good.json()["choices"][0]["message"]["content"] == "scripted"
    assert sim.queued("chat") == 0
    assert [r.status for r in sim.requests_for("chat")] == [404, 400, 400, 400, 400, 401, 200]
    assert sim.requests[2].json is None and sim.requests[2].body == b'{"model": '
    sim.strict_fields = False
    assert client.post(CHAT, json=chat_body(bogus=1)).status_code == 200


def test_unknown_url(sim: GroqSim, client: httpx.Client) -> None:
    resp = client.get("/nothing/here")
    wrong_method = client.get(CHAT)
    for r in (resp, wrong_method):
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "unknown_url"
        assert r.json()["error"]["type"] == "invalid_request_error"
    assert "GET /openai/v1/nothing/here" in resp.json()["error"]["message"]
    assert [(r.route, r.method, r.path) for r in sim.requests] == [
        (None, "GET", "/openai/v1/nothing/here"),
        (None, "GET", "/openai/v1/chat/completions"),
    ]


def test_enqueue_validates(sim: GroqSim) -> None:
    with pytest.raises(TypeError):
        sim.enqueue("chat", Transcript(text="no"))
    with pytest.raises(TypeError):
        sim.enqueue("transcriptions", ChatReply())
    with pytest.raises(ValueError):
        sim.enqueue("embeddings", ChatReply())
    assert sim.queued("chat") == 0


# -- models -----------------------------------------------------------------------------------


def test_models(sim: GroqSim, client: httpx.Client) -> None:
    listing = client.get("/models")
    assert listing.status_code == 200
    assert listing.json() == {"object": "list", "data": list(DEFAULT_MODELS)}
    assert listing.json()["data"][0] == {
        "id": "openai/gpt-oss-20b",
        "object": "model",
        "created": 1754407957,
        "owned_by": "OpenAI",
        "active": True,
        "context_window": 131072,
        "max_completion_tokens": 65536,
        "public_apps": None,
    }
    one = client.get("/models/whisper-large-v3-turbo")
    assert one.json()["context_window"] == 448
    assert client.get("/models/openai/gpt-oss-120b").json()["id"] == "openai/gpt-oss-120b"
    assert client.get("/models/nope").status_code == 404
    sim.models.append({**DEFAULT_MODELS[0], "id": "custom/model"})
    sim.decommissioned.add(MODEL)
    assert client.post(CHAT, json=chat_body(model="custom/model")).status_code == 200
    assert client.post(CHAT, json=chat_body()).json()["error"]["code"] == "model_decommissioned"
    sim.enqueue("models", ErrorReply.server_error())
    assert client.get("/models").status_code == 500


# -- audio ------------------------------------------------------------------------------------


def test_multipart_recording_and_json_format(sim: GroqSim, client: httpx.Client) -> None:
    audio = wav_bytes(0.5)
    resp = client.post(
        STT,
        files={"file": ("clip.wav", audio, "audio/wav")},
        data={
            "model": "whisper-large-v3-turbo",
            "language": "en",
            "prompt": "Groq, voiced",
            "timestamp_granularities[]": ["word", "segment"],
        },
    )
    assert resp.status_code == 200
    assert resp.json() == {"text": " hello world", "x_groq": {"id": resp.headers["x-request-id"]}}
    (rec,) = sim.requests_for("transcriptions")
    assert rec.method == "POST" and rec.path == "/openai/v1/audio/transcriptions"
    assert rec.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert rec.headers["authorization"] == f"Bearer {KEY}"
    assert rec.form == {
        "model": ["whisper-large-v3-turbo"],
        "language": ["en"],
        "prompt": ["Groq, voiced"],
        "timestamp_granularities[]": ["word", "segment"],
    }
    assert rec.files == {"file": ("clip.wav", "audio/wav", audio)}
    assert rec.json is None


def test_an_upload_with_no_queued_reply_is_answered_by_the_transcriber_from_its_bytes(
    sim: GroqSim, client: httpx.Client
) -> None:
    heard: list[bytes] = []
    sim.transcriber = lambda upload: heard.append(upload) or Transcript(text=f" {len(upload)}")
    sim.enqueue("transcriptions", Transcript(text=" queued"))
    first = transcribe(client, data=b"RIFF1234", response_format="text")
    second = transcribe(client, data=b"RIFF123456", response_format="text")

    assert (first.text, second.text) == (" queued", " 10"), "a queued reply comes first"
    assert heard == [b"RIFF123456"]


def test_transcription_formats(sim: GroqSim, client: httpx.Client) -> None:
    text = transcribe(client, response_format="text")
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text == " hello world"
    verbose = transcribe(client, data=wav_bytes(0.5), response_format="verbose_json").json()
    assert verbose["task"] == "transcribe"
    assert verbose["language"] == "English"
    assert verbose["duration"] == 0.5
    assert verbose["text"] == " hello world"
    assert "words" not in verbose
    (segment,) = verbose["segments"]
    assert set(segment) == {
        "id",
        "seek",
        "start",
        "end",
        "text",
        "tokens",
        "temperature",
        "avg_logprob",
        "compression_ratio",
        "no_speech_prob",
    }
    assert (segment["start"], segment["end"], segment["text"]) == (0.0, 0.5, " hello world")
    assert REQ_ID.fullmatch(verbose["x_groq"]["id"])


def test_verbose_json_scripted_segments_and_words(sim: GroqSim, client: httpx.Client) -> None:
    scripted = Transcript(
        text="Thank you.",
        segments=[Segment(0.0, 1.2, "Thank you.", avg_logprob=-0.9, no_speech_prob=0.8)],
        words=[Word("Thank", 0.0, 0.5), Word("you.", 0.5, 1.2)],
        language="German",
        duration=1.2,
        headers={"x-b": "2"},
    )
    sim.enqueue("transcriptions", scripted, scripted)
    both = transcribe(client, grains=["segment", "word"], response_format="verbose_json")
    words_only = transcribe(client, grains=["word"], response_format="verbose_json")
    assert both.headers["x-b"] == "2"
    body = both.json()
    assert body["language"] == "German" and body["duration"] == 1.2
    assert body["segments"][0]["avg_logprob"] == -0.9
    assert body["segments"][0]["no_speech_prob"] == 0.8
    assert body["words"] == [
        {"word": "Thank", "start": 0.0, "end": 0.5},
        {"word": "you.", "start": 0.5, "end": 1.2},
    ]
    assert words_only.json()["segments"] is None
    assert len(words_only.json()["words"]) == 2


def test_translations(sim: GroqSim, client: httpx.Client) -> None:
    path = "/audio/translations"
    sim.enqueue("translations", Transcript(text="good morning"))
    wrong = transcribe(client, path=path)
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "model"
    ok = transcribe(client, path=path, model="whisper-large-v3", response_format="verbose_json")
    assert ok.status_code == 200
    assert ok.json()["task"] == "translate"
    assert ok.json()["text"] == " good morning"
    assert [r.route for r in sim.requests] == ["translations", "translations"]


def test_audio_checks(sim: GroqSim, client: httpx.Client) -> None:
    sim.enqueue("transcriptions", Transcript(text="scripted"))
    sim.upload_limit = 100
    bad_type = transcribe(client, filename="clip.aiff")
    long_prompt = transcribe(client, prompt="x" * 897)
    too_big = transcribe(client, data=b"\x00" * 101)
    retired = transcribe(client, model="distil-whisper-large-v3-en")
    assert bad_type.status_code == 400
    assert bad_type.json()["error"]["type"] == "invalid_request_error"
    assert "flac mp3 mp4 mpeg mpga m4a ogg opus wav webm" in bad_type.json()["error"]["message"]
    assert long_prompt.status_code == 400
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "request_too_large"
    assert retired.json()["error"]["code"] == "model_decommissioned"
    assert sim.queued("transcriptions") == 1
    ok = transcribe(client, prompt="x" * 896, data=b"\x00" * 100)
    assert ok.json()["text"] == " scripted"
    assert [r.status for r in sim.requests] == [400, 400, 413, 400, 200]


# -- stream faults ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["error_event", "error_data"])
def test_stream_fault_error(sim: GroqSim, client: httpx.Client, kind: str) -> None:
    sim.enqueue("chat", StreamFault(kind))  # type: ignore[arg-type]
    with client.stream("POST", CHAT, json=chat_body(stream=True)) as resp:
        assert resp.status_code == 200
        got = events(resp.read().decode())
    assert len(got) == 4
    assert [json.loads(d)["choices"][0]["delta"] for _, d in got[1:3]] == [
        {"content": "one"},
        {"content": " two"},
    ]
    name, data = got[3]
    assert name == ("error" if kind == "error_event" else None)
    error = json.loads(data)["error"]
    assert error["status_code"] == 400
    assert error["code"] == "tool_use_failed"
    assert error["type"] == "invalid_request_error"
    assert "failed_generation" in error


def test_stream_fault_drop(sim: GroqSim, client: httpx.Client) -> None:
    sim.enqueue("chat", StreamFault("drop", after=3))
    lines: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        with client.stream("POST", CHAT, json=chat_body(stream=True)) as resp:
            lines.extend(line for line in resp.iter_lines() if line)
    assert len(lines) == 4
    assert client.post(CHAT, json=chat_body()).status_code == 200


def test_stream_fault_malformed(sim: GroqSim, client: httpx.Client) -> None:
    sim.enqueue("chat", StreamFault("malformed", after=1))
    _, datas = stream_chunks(client)
    assert datas[2] == '{"id": "chatcmpl-x", "choices": ['
    assert datas[-1] == "[DONE]"
    contents = [json.loads(d)["choices"][0]["delta"].get("content") for d in datas[3:-2]]
    assert contents == [" two", " three", " four", " five"]
    assert json.loads(datas[-2])["choices"][0]["finish_reason"] == "stop"


def test_stream_fault_stall_read_timeout_then_prompt_stop(sim: GroqSim) -> None:
    sim.enqueue("chat", StreamFault("stall"))
    timeout = httpx.Timeout(5.0, read=0.3)
    received: list[str] = []
    with httpx.Client(base_url=sim.api_url, headers=AUTH, timeout=timeout) as c:
        with pytest.raises(httpx.ReadTimeout):
            with c.stream("POST", CHAT, json=chat_body(stream=True)) as resp:
                received.extend(line for line in resp.iter_lines() if line)
    assert len(received) == 3
    start = time.monotonic()
    sim.stop()
    assert time.monotonic() - start < 1.5


def run_in_thread(fn: Callable[[], object]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except Exception as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, errors


@pytest.mark.parametrize("reply", [Stall(30.0), StreamFault("stall", stall_s=30.0)])
def test_stop_returns_promptly_while_stalled(sim: GroqSim, reply: Stall | StreamFault) -> None:
    sim.enqueue("chat", reply)

    def call() -> None:
        with httpx.Client(base_url=sim.api_url, headers=AUTH, timeout=10.0) as c:
            with c.stream("POST", CHAT, json=chat_body(stream=True)) as resp:
                resp.read()

    thread, errors = run_in_thread(call)
    sim.wait_for(1)
    time.sleep(0.1)
    start = time.monotonic()
    sim.stop()
    assert time.monotonic() - start < 1.5
    thread.join(3.0)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], httpx.RemoteProtocolError)


@pytest.mark.realtime
def test_stall_reply(sim: GroqSim) -> None:
    sim.enqueue("chat", Stall(5.0), Stall(0.1))
    sim.enqueue("transcriptions", Stall(5.0))
    timeout = httpx.Timeout(5.0, read=0.3)
    with httpx.Client(base_url=sim.api_url, headers=AUTH, timeout=timeout) as c:
        start = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            c.post(CHAT, json=chat_body())
        assert time.monotonic() - start >= 0.3
        with pytest.raises(httpx.RemoteProtocolError):
            c.post(CHAT, json=chat_body())
        with pytest.raises(httpx.ReadTimeout):
            transcribe(c)
        assert c.post(CHAT, json=chat_body()).status_code == 200
    assert [r.status for r in sim.requests] == [None, None, None, 200]


# -- hostile replies --------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["chat", "models", "transcriptions"])
def test_raw_reply_sends_exactly_its_bytes(sim: GroqSim, client: httpx.Client, route: str) -> None:
    body = b"\x1f\x8b not really gzip \xff"
    raw = Raw(body, status=203, content_type="text/html", headers={"content-encoding": "gzip"})
    sim.enqueue(route, raw)
    if route == "chat":
        request = client.build_request("POST", CHAT, json=chat_body())
    elif route == "models":
        request = client.build_request("GET", "/models")
    else:
        request = client.build_request(
            "POST",
            STT,
            data={"model": "whisper-large-v3-turbo"},
            files={"file": ("a.wav", wav_bytes(0.5), "audio/wav")},
        )
    resp = client.send(request, stream=True)
    try:
        assert resp.status_code == 203
        assert resp.headers["content-type"] == "text/html"
        assert resp.headers["content-encoding"] == "gzip"
        assert b"".join(resp.iter_raw()) == body
    finally:
        resp.close()
    assert sim.requests[-1].status == 203


def test_endless_trickles_a_body_that_never_ends(sim: GroqSim) -> None:
    sim.enqueue("chat", Endless(prefix=b'{"choices": [', piece=b" ", interval=0.05))
    timeout = httpx.Timeout(5.0, read=0.5)  # every read is well within the read timeout
    with httpx.Client(base_url=sim.api_url, headers=AUTH, timeout=timeout) as c:
        with c.stream("POST", CHAT, json=chat_body()) as resp:
            assert resp.status_code == 200
            received = b""
            for piece in resp.iter_raw():
                received += piece
                if len(received) >= 20:
                    break
    assert received == b'{"choices": [' + b" " * (len(received) - 13)


def test_endless_with_no_interval_floods(sim: GroqSim) -> None:
    sim.enqueue(
        "chat", Endless(status=500, piece=b"x" * 65536, interval=0, content_type="text/plain")
    )
    with httpx.Client(base_url=sim.api_url, headers=AUTH, timeout=5.0) as c:
        with c.stream("POST", CHAT, json=chat_body()) as resp:
            assert resp.status_code == 500
            size = 0
            for piece in resp.iter_raw():
                size += len(piece)
                if size > 8_000_000:
                    break
    assert size > 8_000_000


def test_keepalive_fault_sends_comments_after_the_tokens(sim: GroqSim) -> None:
    sim.enqueue("chat", StreamFault("keepalive", after=2, interval=0.02))
    with httpx.Client(base_url=sim.api_url, headers=AUTH, timeout=5.0) as c:
        with c.stream("POST", CHAT, json=chat_body(stream=True)) as resp:
            text = ""
            for piece in resp.iter_text():
                text += piece
                if text.count(": keep-alive\n\n") >= 3:
                    break
    datas = [d for _, d in events(text) if d]  # comment blocks carry no data
    contents = [json.loads(d)["choices"][0]["delta"].get("content") for d in datas]
    assert contents == ["", "one", " two"]
    assert text.endswith(": keep-alive\n\n")


def test_error_reply_can_echo_the_key(sim: GroqSim, client: httpx.Client) -> None:
    sim.enqueue("chat", ErrorReply(400, "Bad request", failed_generation="g", echo_key=True))
    error = client.post(CHAT, json=chat_body()).json()["error"]
    assert error["message"] == f"Bad request (you sent: Bearer {KEY})"
    assert error["failed_generation"] == f"g<auth>Bearer {KEY}</auth>"


# -- connections ------------------------------------------------------------------------------


def test_keep_alive_reuses_one_connection(sim: GroqSim, client: httpx.Client) -> None:
    sim.enqueue("chat", ErrorReply.rate_limited(), StreamFault("error_event"))
    for _ in range(3):
        client.post(CHAT, json=chat_body())
    for _ in range(3):
        stream_chunks(client)
    for _ in range(3):
        transcribe(client)
    client.post(CHAT, json=chat_body(model="nope"))
    client.get("/models")
    client.get("/nowhere")
    assert len(sim.requests) == 12
    assert len({r.client_port for r in sim.requests}) == 1
    assert sim.connection_count == 1


def test_chunked_request_body(sim: GroqSim, client: httpx.Client) -> None:
    raw = json.dumps(chat_body()).encode()
    pieces = iter([raw[:10], raw[10:]])
    resp = client.post(CHAT, content=pieces, headers={"content-type": "application/json"})
    assert resp.status_code == 200
    (rec,) = sim.requests
    assert rec.headers["transfer-encoding"] == "chunked"
    assert rec.body == raw and rec.json == chat_body()


def test_stop_with_idle_keep_alive_connection(sim: GroqSim, client: httpx.Client) -> None:
    assert client.get("/models").status_code == 200
    start = time.monotonic()
    sim.stop()
    assert time.monotonic() - start < 1.5
    with pytest.raises(httpx.TransportError):
        client.get("/models")


def test_wait_for_and_received_at(sim: GroqSim, client: httpx.Client) -> None:
    before = time.monotonic()
    client.post(CHAT, json=chat_body())
    (rec,) = sim.wait_for(1, route="chat", timeout=1.0)
    assert before <= rec.received_at <= time.monotonic()
    with pytest.raises(TimeoutError):
        sim.wait_for(2, timeout=0.05)
