"""Class 6, the key travelling where it should not (the Groq side): it goes in clear text only to
this machine, a server echoing it gets it redacted from errors, output and history, and log
records (stderr and the TUI's log pane) are redacted by the one function in voiced.logs."""

from __future__ import annotations

import asyncio
import io
import logging

import httpx
import pytest

from tests.conftest import TEST_KEY, SleepRecorder, make_client
from tests.groqsim import ErrorReply, GroqSim, Raw, StreamFault
from tests.hostile.network import one_line_error, voiced  # noqa: F401
from tests.test_cli import Voiced
from tests.tui.conftest import SIZE, attached, daemon, until  # noqa: F401
from tests.tui.daemon import RunningDaemon
from voiced import logs
from voiced.credentials import Secret
from voiced.errors import ApiError, BadRequestError, ConfigError, StreamError
from voiced.groq import ChatRequest, ClientOptions, GroqClient, Message
from voiced.groq.client import is_loopback
from voiced.protocol.reports import LogRecord
from voiced.tui.app import VoicedApp
from voiced.tui.widgets.logpane import LogPane

REQ = ChatRequest(model="openai/gpt-oss-20b", messages=(Message.user("hi"),))
OTHER_KEY = "gsk_someoneelse0123456789ABCDEFGHIJKLMNOP"
"""A Groq-shaped key this process never heard of (a server quoting another user's key)."""


def everything_said(error: ApiError) -> str:
    """All the text an error carries: message, hint and every field of its details."""
    details = error.details
    fields = (details.server_message, details.failed_generation, details.code, details.type)
    return " ".join([str(error), *(f for f in fields if f)])


# -- echoed keys are redacted at the client's boundary --------------------------------------


async def test_a_key_echoed_in_an_error_body_is_redacted(
    groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    groqsim.api_key = TEST_KEY
    groqsim.enqueue("chat", ErrorReply(400, "Bad request", echo_key=True))
    async with make_client(groqsim, sleeps) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.chat(REQ)
    said = everything_said(caught.value)
    assert "you sent: Bearer" in said  # the server did echo it: this is what got redacted
    assert TEST_KEY not in said
    assert "gsk_" not in said.replace("gsk_…", "").replace(logs.KEY_MASK, "")


async def test_a_key_that_does_not_look_like_groqs_is_redacted_too(
    groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    local_key = "local-server-key-8f7e6d5c4b3a"
    groqsim.api_key = local_key
    groqsim.enqueue("chat", ErrorReply(403, "Forbidden", echo_key=True))
    async with make_client(groqsim, sleeps) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.chat(REQ)
    assert "you sent: Bearer" in str(caught.value)
    assert local_key not in everything_said(caught.value)


async def test_a_groq_shaped_key_the_client_never_sent_is_redacted(
    groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    groqsim.enqueue("chat", ErrorReply(400, f"key {OTHER_KEY} is not yours"))
    async with make_client(groqsim, sleeps) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.chat(REQ)
    assert f"key {logs.KEY_MASK} is not yours" in str(caught.value)
    assert OTHER_KEY not in everything_said(caught.value)


async def test_a_key_echoed_in_a_stream_error_event_is_redacted(
    groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    groqsim.api_key = TEST_KEY
    echo = ErrorReply(400, "bad tool call", code="tool_use_failed", echo_key=True)
    groqsim.enqueue("chat", StreamFault("error_event", error=echo))
    async with make_client(groqsim, sleeps) as client:
        with pytest.raises(ApiError) as caught:
            async with client.stream_chat(REQ) as stream:
                async for _ in stream:
                    pass
    assert "you sent: Bearer" in str(caught.value)
    assert TEST_KEY not in everything_said(caught.value)


@pytest.mark.subprocess
def test_voiced_ask_prints_and_stores_no_echoed_key(voiced: Voiced) -> None:  # noqa: F811
    voiced.sim.enqueue("chat", ErrorReply(400, "Bad request", echo_key=True))
    result = voiced("ask", "hi")  # Voiced asserts the key is not in stdout or stderr
    assert result.returncode == 1
    assert "you sent: Bearer" in one_line_error(result.stderr)
    stored = list((voiced.home / ".local" / "share" / "voiced").glob("history.sqlite3*"))
    raw = b"".join(path.read_bytes() for path in stored)
    assert b"you sent: Bearer" in raw  # the failed turn and its error were stored
    assert TEST_KEY.encode() not in raw


# -- the key goes in clear text only to this machine -----------------------------------------


def recording_transport(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"object": "list", "data": []})

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    "url",
    [
        "http://192.0.2.10:8000/v1",
        "http://api.groq.com/openai/v1",
        "http://127.0.0.1.example.net/v1",
        "http://localhost.example.net/v1",
        "ftp://127.0.0.1/v1",
    ],
)
async def test_the_key_is_not_sent_over_plain_http_to_another_machine(url: str) -> None:
    seen: list[httpx.Request] = []
    options = ClientOptions(chat_url=url, stt_url=url, api_key=Secret(TEST_KEY))
    async with GroqClient(options, transport=recording_transport(seen)) as client:
        with pytest.raises(ConfigError) as caught:
            await client.list_models()
    assert seen == []  # refused before anything was sent
    assert "[chat] base_url (or GROQ_BASE_URL)" in caught.value.message
    assert "https" in caught.value.message and "https://" in caught.value.hint


@pytest.mark.parametrize(
    "url",
    [
        "https://api.groq.com/openai/v1",
        "https://192.0.2.10/v1",
        "http://127.0.0.1:8000/v1",
        "http://127.3.2.1:8000/v1",
        "http://localhost:8000/v1",
        "http://[::1]:8000/v1",
    ],
)
async def test_the_key_goes_over_https_anywhere_and_over_http_to_loopback(url: str) -> None:
    seen: list[httpx.Request] = []
    options = ClientOptions(chat_url=url, stt_url=url, api_key=Secret(TEST_KEY))
    async with GroqClient(options, transport=recording_transport(seen)) as client:
        await client.list_models()
    assert seen[0].headers["authorization"] == f"Bearer {TEST_KEY}"


async def test_without_a_key_plain_http_to_another_machine_is_allowed() -> None:
    seen: list[httpx.Request] = []
    url = "http://192.0.2.10:8000/v1"
    options = ClientOptions(chat_url=url, stt_url=url, api_key=None)
    async with GroqClient(options, transport=recording_transport(seen)) as client:
        await client.list_models()
    assert "authorization" not in seen[0].headers


def test_loopback_hosts() -> None:
    assert all(is_loopback(h) for h in ("localhost", "LOCALHOST", "127.0.0.1", "127.9.9.9", "::1"))
    assert not any(is_loopback(h) for h in ("10.0.0.1", "localhost.evil", "example.com", "::2"))


@pytest.mark.subprocess
def test_voiced_ask_refuses_an_http_base_url_on_another_machine(voiced: Voiced) -> None:  # noqa: F811
    result = voiced("ask", "hi", GROQ_BASE_URL="http://192.0.2.10:9")
    assert result.returncode == 2
    line = one_line_error(result.stderr)
    assert "[chat] base_url (or GROQ_BASE_URL) is http://192.0.2.10:9/openai/v1" in line
    assert voiced.sim.requests == []


# -- log records -----------------------------------------------------------------------------


def test_log_records_are_redacted_message_arguments_and_traceback() -> None:
    logs.protect(Secret(TEST_KEY))
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(logs.redaction())
    log = logging.getLogger("voiced.test_key_leaks")
    log.addHandler(handler)
    try:
        log.warning("sent %s to %s", f"Bearer {TEST_KEY}", "the server")
        log.warning("saw %s", OTHER_KEY)
        try:
            raise ValueError(f"bad key {TEST_KEY}")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    text = out.getvalue()
    assert "sent Bearer gsk_…wxyz to the server" in text
    assert f"saw {logs.KEY_MASK}" in text
    assert "ValueError: bad key gsk_…wxyz" in text
    assert TEST_KEY not in text and OTHER_KEY not in text


async def test_the_tui_log_pane_shows_no_key(daemon: RunningDaemon) -> None:  # noqa: F811
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        daemon.publish(LogRecord(level="warning", message=f"server said: bad key {OTHER_KEY}"))
        pane = app.query_one(LogPane)
        await until(
            pilot, lambda: any("server said" in line for line in pane.lines_written), "the line"
        )
    shown = [line for line in pane.lines_written if "server said" in line]
    assert shown == [f"warning: server said: bad key {logs.KEY_MASK}"]


def test_redact_leaves_the_masked_forms_and_placeholders_alone() -> None:
    text = "export GROQ_API_KEY=gsk_… (the key gsk_…wxyz)"
    assert logs.redact(text) == text


async def test_the_credentials_in_a_refused_url_are_not_shown() -> None:
    url = "http://user:hunter2@192.0.2.10/v1?token=abc"
    options = ClientOptions(chat_url=url, stt_url=url, api_key=Secret(TEST_KEY))
    async with GroqClient(options) as client:
        with pytest.raises(ConfigError) as caught:
            await client.list_models()
    assert "192.0.2.10" in str(caught.value)
    assert not any(s in str(caught.value) for s in ("hunter2", "user", "token"))


async def test_the_in_process_daemon_forwards_log_records_redacted() -> None:
    from voiced.commands.embedded import _LogToBus

    published: list[LogRecord] = []

    class Bus:
        def publish(self, event: LogRecord) -> None:
            published.append(event)

    loop = asyncio.get_running_loop()
    forward = _LogToBus(Bus(), loop)  # type: ignore[arg-type]
    log = logging.getLogger("voiced.test_key_leaks.host")
    log.addHandler(forward)
    try:
        log.warning("the server echoed %s", OTHER_KEY)
    finally:
        log.removeHandler(forward)
    await asyncio.sleep(0)
    assert [e.message for e in published] == [f"the server echoed {logs.KEY_MASK}"]


def test_a_secret_inside_a_longer_one_does_not_leave_the_longer_one_half_shown() -> None:
    logs.protect(Secret("sk-live-42"))
    logs.protect(Secret("sk-live-42-and-much-more-of-a-longer-key"))
    text = logs.redact("key sk-live-42-and-much-more-of-a-longer-key")
    assert "much-more" not in text and "longer-key" not in text


async def test_a_key_in_garbage_is_redacted_before_the_excerpt_is_cut(
    groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    local_key = "local-server-key-8f7e6d5c4b3a"
    groqsim.api_key = local_key
    garbage = b"x" * 70 + f" {local_key} more".encode()  # the 80-character cut falls inside
    body = b"data: " + garbage + b"\n\ndata: [DONE]\n\n"
    groqsim.enqueue("chat", Raw(body, content_type="text/event-stream"))
    async with make_client(groqsim, sleeps) as client:
        with pytest.raises(StreamError) as caught:
            async with client.stream_chat(REQ) as stream:
                async for _ in stream:
                    pass
    assert "data that is not JSON" in str(caught.value)
    assert local_key[:8] not in str(caught.value)


@pytest.mark.subprocess
def test_a_redirect_is_not_followed_and_says_where_it_points(voiced: Voiced) -> None:  # noqa: F811
    moved = Raw(b"", status=307, headers={"location": "https://elsewhere.example/v1/chat"})
    voiced.sim.enqueue("models", moved)
    result = voiced("models")
    assert result.returncode == 1
    line = one_line_error(result.stderr)
    assert "answered 307, a redirect to https://elsewhere.example/v1/chat" in line
    assert len(voiced.sim.requests) == 1


def test_a_value_too_short_to_be_a_key_does_not_mask_every_text() -> None:
    logs.protect(Secret("k"))
    assert logs.redact("the key gsk_…Zq8x was saved") == "the key gsk_…Zq8x was saved"
