"""GroqClient: one shared async httpx client for chat, speech to text and the models list."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import httpx

from voiced import logs
from voiced.config import Settings
from voiced.credentials import Secret
from voiced.errors import ConfigError, InputError, MissingKeyError
from voiced.groq import parse
from voiced.groq.failures import KEY_HINT
from voiced.groq.limits import Limits
from voiced.groq.models import (
    AUDIO_EXTENSIONS,
    PROMPT_LIMIT,
    ChatCompletion,
    ChatRequest,
    ModelInfo,
    Transcription,
    TranscriptionRequest,
)
from voiced.groq.ratelimit import RateLimit
from voiced.groq.sender import Sender, Sleep
from voiced.groq.stream import ChatStream


@dataclass(frozen=True)
class ClientOptions:
    """Where the client sends requests and how patiently.

    Attributes:
        chat_url: API root for chat and the models list, e.g. https://api.groq.com/openai/v1.
        stt_url: API root for transcription and translation.
        api_key: Sent as a bearer token; required for Groq's own hosts, optional elsewhere.
        timeout: Seconds to wait for each read of a response.
        connect_timeout: Seconds to wait for a connection.
        max_retries: Retries after transient failures.
        request_deadline: Seconds one request may take in all, retries included.
        stream_idle_timeout: Seconds a streamed reply may go without a token.
    """

    chat_url: str
    stt_url: str
    api_key: Secret | None
    timeout: float = 60.0
    connect_timeout: float = 5.0
    max_retries: int = 2
    request_deadline: float = 300.0
    stream_idle_timeout: float = 20.0


class GroqClient:
    """The one client voiced talks to the API through.

    Args:
        options: Endpoints, key, timeouts and retries.
        transport: An httpx transport to use instead of the network (for tests).
        sleep: Awaited between retries (tests pass a recorder).
        backoff_base: First backoff in seconds when the server names no wait.
    """

    def __init__(
        self,
        options: ClientOptions,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        backoff_base: float = 0.5,
    ) -> None:
        self.options = options
        logs.protect(options.api_key)  # a server that echoes it back has it redacted
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(options.timeout, connect=options.connect_timeout),
            headers={"User-Agent": "voiced/0.1"},
        )
        self._limits = Limits(options.request_deadline, options.stream_idle_timeout)
        kwargs: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
        self._sender = Sender(
            self._http,
            options.max_retries,
            backoff_base=backoff_base,
            limits=self._limits,
            **kwargs,
        )

    async def __aenter__(self) -> GroqClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @property
    def ratelimit(self) -> RateLimit | None:
        """The rate-limit snapshot from the latest response, if any carried one."""
        return self._sender.ratelimit

    @property
    def attempts(self) -> int:
        """How many HTTP requests this client has sent, retries included."""
        return self._sender.attempts

    async def chat(self, request: ChatRequest) -> ChatCompletion:
        """Send a chat request and return the whole reply.

        Raises:
            ConfigError: The key would go over plain http to another machine.
            ApiError: The request failed (typed by cause), ran past its deadline, or the
                reply could not be read.
        """
        body = request.to_body(stream=False)
        reply = await self._sender.fetch(lambda: self._post_json("chat", body))
        return parse.completion(reply.body, reply.request_id)

    def stream_chat(self, request: ChatRequest) -> ChatStream:
        """Open a streamed chat reply; use as ``async with client.stream_chat(req) as s``.

        The whole exchange must end within ``request_deadline`` and no more than
        ``stream_idle_timeout`` may pass without a token; either ends it with a
        ConnectionFailedError.
        """
        body = request.to_body(stream=True)
        return ChatStream(
            lambda deadline: self._sender.open(lambda: self._post_json("chat", body), deadline),
            self._limits,
        )

    async def transcribe(self, request: TranscriptionRequest) -> Transcription:
        """Transcribe (or, with ``request.translate``, translate to English) audio.

        Raises:
            InputError: The file name has an extension Groq does not accept, or the prompt
                is over 896 characters (checked before anything is sent).
            ConfigError: The key would go over plain http to another machine.
            ApiError: The request failed, ran past its deadline, or the reply could not be read.
        """
        _check_transcription(request)
        fields: list[tuple[str, str]] = [("model", request.model)]
        if request.language:
            fields.append(("language", request.language))
        if request.prompt:
            fields.append(("prompt", request.prompt))
        if request.temperature is not None:
            fields.append(("temperature", str(request.temperature)))
        fields.append(("response_format", request.response_format))
        if not request.translate:
            fields += [("timestamp_granularities[]", g) for g in request.timestamp_granularities]
        path = "audio/translations" if request.translate else "audio/transcriptions"
        files = {"file": (request.filename, request.audio, "application/octet-stream")}

        def build() -> httpx.Request:
            return self._http.build_request(
                "POST",
                self._url("stt", path),
                data=dict(_group(fields)),
                files=files,
                headers=self._auth("stt"),
            )

        reply = await self._sender.fetch(build)
        if request.response_format == "text":
            text = reply.body.decode("utf-8", "replace").strip()
            return Transcription(text=text, request_id=reply.request_id)
        return parse.transcription(reply.body, reply.request_id)

    async def list_models(self) -> list[ModelInfo]:
        """Return the models the service offers this key, sorted by id.

        Raises:
            ConfigError: The key would go over plain http to another machine.
            ApiError: The request failed, or the reply is not a models list.
        """

        def build() -> httpx.Request:
            return self._http.build_request(
                "GET", self._url("chat", "models"), headers=self._auth("chat")
            )

        reply = await self._sender.fetch(build)
        return parse.models(reply.body, reply.request_id)

    def _post_json(self, endpoint: str, body: dict[str, Any]) -> httpx.Request:
        return self._http.build_request(
            "POST",
            self._url(endpoint, "chat/completions"),
            json=body,
            headers=self._auth(endpoint),
        )

    def _url(self, endpoint: str, path: str) -> str:
        root = self.options.chat_url if endpoint == "chat" else self.options.stt_url
        return f"{root.rstrip('/')}/{path}"

    def _auth(self, endpoint: str) -> dict[str, str]:
        key = self.options.api_key
        root = self.options.chat_url if endpoint == "chat" else self.options.stt_url
        if key is None:
            if httpx.URL(root).host.endswith("groq.com"):
                raise MissingKeyError("no Groq API key is set", KEY_HINT)
            return {}
        check_key_transport(root, f"[{endpoint}] base_url (or GROQ_BASE_URL)")
        return {"Authorization": f"Bearer {key.reveal()}"}


def check_key_transport(url: str, setting: str) -> None:
    """Refuse to send the key in clear text to another machine.

    The key goes over https anywhere, and over plain http only to this machine
    (127.0.0.0/8, ::1, localhost), where a local OpenAI-compatible server may listen.

    Args:
        url: The API root the key would be sent to.
        setting: How the user names that URL, e.g. "[chat] base_url".

    Raises:
        ConfigError: The URL is plain http to another host, or not http(s) at all.
    """
    parsed = httpx.URL(url)
    if parsed.scheme == "https" or (parsed.scheme == "http" and is_loopback(parsed.host)):
        return
    shown = logs.redact(str(parsed.copy_with(username=None, password=None, query=None)))
    raise ConfigError(
        f"{setting} is {shown}: voiced sends the API key only over https, or over plain "
        "http to this machine (127.0.0.1, ::1, localhost)",
        f"use https:// in {setting}, or a loopback address for a local server",
    )


def is_loopback(host: str) -> bool:
    """Whether a URL's host is this machine: localhost, 127.0.0.0/8 or ::1."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_transcription(request: TranscriptionRequest) -> None:
    extension = request.filename.rpartition(".")[2].lower()
    if "." not in request.filename or extension not in AUDIO_EXTENSIONS:
        raise InputError(
            f"{request.filename}: unsupported audio type",
            f"use one of: {', '.join(AUDIO_EXTENSIONS)}",
        )
    if request.prompt and len(request.prompt) > PROMPT_LIMIT:
        raise InputError(
            f"the transcription prompt is {len(request.prompt)} characters long",
            f"Groq accepts at most {PROMPT_LIMIT}; shorten [stt] prompt",
        )


def _group(fields: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    grouped: dict[str, str | list[str]] = {}
    for name, value in fields:
        if name.endswith("[]"):
            existing = grouped.setdefault(name, [])
            assert isinstance(existing, list)
            existing.append(value)
        else:
            grouped[name] = value
    return grouped


def options_from_settings(settings: Settings) -> ClientOptions:
    """Build client options from :class:`voiced.config.Settings`."""
    return ClientOptions(
        chat_url=settings.chat.base_url,
        stt_url=settings.stt.base_url,
        api_key=settings.api_key,
        timeout=settings.network.timeout,
        connect_timeout=settings.network.connect_timeout,
        max_retries=settings.network.max_retries,
        request_deadline=settings.network.request_deadline,
        stream_idle_timeout=settings.network.stream_idle_timeout,
    )
