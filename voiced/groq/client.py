"""GroqClient: one shared async httpx client for chat, speech to text and the models list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from voiced.config import Settings
from voiced.credentials import Secret
from voiced.errors import ApiError, InputError, MissingKeyError
from voiced.groq.failures import KEY_HINT
from voiced.groq.models import (
    AUDIO_EXTENSIONS,
    PROMPT_LIMIT,
    ChatCompletion,
    ChatRequest,
    ModelInfo,
    ToolCall,
    Transcription,
    TranscriptionRequest,
    TranscriptionSegment,
    Usage,
    Word,
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
        timeout: Seconds to wait for a response.
        connect_timeout: Seconds to wait for a connection.
        max_retries: Retries after transient failures.
    """

    chat_url: str
    stt_url: str
    api_key: Secret | None
    timeout: float = 60.0
    connect_timeout: float = 5.0
    max_retries: int = 2


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
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(options.timeout, connect=options.connect_timeout),
            headers={"User-Agent": "voiced/0.1"},
        )
        kwargs: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
        self._sender = Sender(self._http, options.max_retries, backoff_base=backoff_base, **kwargs)

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
            ApiError: The request failed (typed by cause).
        """
        body = request.to_body(stream=False)
        response = await self._sender.send(lambda: self._post_json("chat", body), stream=False)
        return _completion(response.json(), response.headers.get("x-request-id"))

    def stream_chat(self, request: ChatRequest) -> ChatStream:
        """Open a streamed chat reply; use as ``async with client.stream_chat(req) as s``."""
        body = request.to_body(stream=True)
        return ChatStream(
            lambda: self._sender.send(lambda: self._post_json("chat", body), stream=True)
        )

    async def transcribe(self, request: TranscriptionRequest) -> Transcription:
        """Transcribe (or, with ``request.translate``, translate to English) audio.

        Raises:
            InputError: The file name has an extension Groq does not accept, or the prompt
                is over 896 characters (checked before anything is sent).
            ApiError: The request failed.
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

        response = await self._sender.send(build, stream=False)
        request_id = response.headers.get("x-request-id")
        if request.response_format == "text":
            return Transcription(text=response.text.strip(), request_id=request_id)
        return _transcription(response.json(), request_id)

    async def list_models(self) -> list[ModelInfo]:
        """Return the models the service offers this key, sorted by id."""

        def build() -> httpx.Request:
            return self._http.build_request(
                "GET", self._url("chat", "models"), headers=self._auth("chat")
            )

        response = await self._sender.send(build, stream=False)
        return sorted((_model(m) for m in response.json().get("data") or ()), key=lambda m: m.id)

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
        if key is None:
            root = self.options.chat_url if endpoint == "chat" else self.options.stt_url
            if httpx.URL(root).host.endswith("groq.com"):
                raise MissingKeyError("no Groq API key is set", KEY_HINT)
            return {}
        return {"Authorization": f"Bearer {key.reveal()}"}


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


def _completion(data: dict[str, Any], request_id: str | None) -> ChatCompletion:
    if not isinstance(data.get("choices"), list) or not data["choices"]:
        raise ApiError(f"the server's reply had no choices [request {request_id}]")
    choice = data["choices"][0]
    message = choice.get("message") or {}
    calls = tuple(
        ToolCall(
            id=c.get("id", ""),
            name=(c.get("function") or {}).get("name", ""),
            arguments=(c.get("function") or {}).get("arguments", "") or "",
        )
        for c in message.get("tool_calls") or ()
    )
    usage = data.get("usage") or (data.get("x_groq") or {}).get("usage")
    return ChatCompletion(
        content=message.get("content") or "",
        reasoning=message.get("reasoning") or "",
        tool_calls=calls,
        finish_reason=choice.get("finish_reason"),
        usage=Usage.from_wire(usage) if usage else None,
        model=data.get("model", ""),
        request_id=request_id or (data.get("x_groq") or {}).get("id"),
    )


def _transcription(data: dict[str, Any], request_id: str | None) -> Transcription:
    return Transcription(
        text=str(data.get("text", "")).strip(),
        language=data.get("language"),
        duration=data.get("duration"),
        segments=tuple(TranscriptionSegment.from_wire(s) for s in data.get("segments") or ()),
        words=tuple(
            Word(str(w.get("word", "")), float(w["start"]), float(w["end"]))
            for w in data.get("words") or ()
        ),
        request_id=request_id or (data.get("x_groq") or {}).get("id"),
    )


def _model(data: dict[str, Any]) -> ModelInfo:
    return ModelInfo(
        id=str(data.get("id", "")),
        owned_by=str(data.get("owned_by", "")),
        context_window=data.get("context_window"),
        max_completion_tokens=data.get("max_completion_tokens"),
        active=bool(data.get("active", True)),
        created=data.get("created"),
    )


def options_from_settings(settings: Settings) -> ClientOptions:
    """Build client options from :class:`voiced.config.Settings`."""
    return ClientOptions(
        chat_url=settings.chat.base_url,
        stt_url=settings.stt.base_url,
        api_key=settings.api_key,
        timeout=settings.network.timeout,
        connect_timeout=settings.network.connect_timeout,
        max_retries=settings.network.max_retries,
    )
