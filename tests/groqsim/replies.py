"""Scripted replies for the Groq simulator, and the record of one received request."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

_ALNUM = string.ascii_lowercase + string.digits


def random_alnum(n: int) -> str:
    """Return n random lowercase letters and digits."""
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


@dataclass(frozen=True)
class ToolCall:
    """One function call the model makes; dict arguments are sent as JSON text."""

    name: str
    arguments: str | Mapping[str, Any]
    id: str | None = None

    def __post_init__(self) -> None:
        if self.id is None:
            object.__setattr__(self, "id", "call_" + random_alnum(24))

    @property
    def arguments_json(self) -> str:
        """The arguments as the JSON text that goes on the wire."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(dict(self.arguments))


@dataclass(frozen=True)
class ChatReply:
    """A successful chat completion, streamed or not depending on the request."""

    content: str = ""
    reasoning: str | None = None
    tool_calls: Sequence[ToolCall] = ()
    finish_reason: str | None = None
    ttft: float = 0.0
    tokens_per_s: float | None = None
    tool_call_fragments: bool = False
    usage_top_level: bool = True
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def resolved_finish_reason(self) -> str:
        """finish_reason as sent: the scripted one, else tool_calls or stop."""
        if self.finish_reason is not None:
            return self.finish_reason
        return "tool_calls" if self.tool_calls else "stop"


@dataclass(frozen=True)
class Segment:
    """One verbose_json transcription segment."""

    start: float
    end: float
    text: str
    avg_logprob: float = -0.2
    no_speech_prob: float = 0.01
    compression_ratio: float = 1.3
    temperature: float = 0.0
    tokens: Sequence[int] | None = None


@dataclass(frozen=True)
class Word:
    """One word timestamp of a verbose_json transcription."""

    word: str
    start: float
    end: float


@dataclass(frozen=True)
class Transcript:
    """A successful transcription or translation, formatted per the request's response_format."""

    text: str
    segments: Sequence[Segment] | None = None
    words: Sequence[Word] | None = None
    language: str = "English"
    duration: float | None = None
    delay: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorReply:
    """An error response with Groq's envelope; the classmethods copy Groq's real errors."""

    status: int
    message: str
    type: str = "invalid_request_error"
    code: str | None = None
    failed_generation: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    param: str | None = None
    echo_key: bool = False
    """Quote the request's Authorization header in the message and failed_generation, as
    careless servers do ("Incorrect API key provided: …")."""

    def error_object(self, authorization: str | None = None) -> dict[str, Any]:
        """The inner error object: message, type, code, then param / failed_generation if set.

        Args:
            authorization: The request's Authorization header, quoted when ``echo_key`` is set.
        """
        message, generation = self.message, self.failed_generation
        if self.echo_key:
            message = f"{message} (you sent: {authorization})"
            generation = f"{generation or ''}<auth>{authorization}</auth>"
        obj: dict[str, Any] = {"message": message, "type": self.type, "code": self.code}
        if self.param is not None:
            obj["param"] = self.param
        if generation is not None:
            obj["failed_generation"] = generation
        return obj

    def body(self, authorization: str | None = None) -> dict[str, Any]:
        """The whole JSON body: {"error": {...}}."""
        return {"error": self.error_object(authorization)}

    @classmethod
    def rate_limited(
        cls,
        retry_after: float | None = 1.0,
        retry_after_ms: float | None = None,
        message: str | None = None,
    ) -> ErrorReply:
        """429 on tokens per minute, with retry-after (and retry-after-ms) headers as given."""
        headers: dict[str, str] = {}
        if retry_after is not None:
            headers["retry-after"] = _number(retry_after)
        if retry_after_ms is not None:
            headers["retry-after-ms"] = _number(retry_after_ms)
        if message is None:
            wait = retry_after if retry_after is not None else (retry_after_ms or 0) / 1000
            message = (
                "Rate limit reached for model `openai/gpt-oss-20b` in organization "
                "`org_01groqsim000000000000000000` service tier `on_demand` on tokens per minute "
                f"(TPM): Limit 8000, Used 7539, Requested 1180. Please try again in {wait}s. "
                "Need more tokens? Upgrade to Dev Tier today at "
                "https://console.groq.com/settings/billing"
            )
        return cls(429, message, type="tokens", code="rate_limit_exceeded", headers=headers)

    @classmethod
    def unauthorized(cls) -> ErrorReply:
        """401 invalid_api_key."""
        return cls(401, "Invalid API Key", code="invalid_api_key")

    @classmethod
    def model_not_found(cls, model: str) -> ErrorReply:
        """404 model_not_found for an unknown model id."""
        return cls(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
        )

    @classmethod
    def decommissioned(cls, model: str) -> ErrorReply:
        """400 model_decommissioned for a retired model id."""
        return cls(
            400,
            f"The model `{model}` has been decommissioned and is no longer supported. Please "
            "refer to https://console.groq.com/docs/deprecations for a recommendation on which "
            "model to use instead.",
            code="model_decommissioned",
        )

    @classmethod
    def tool_use_failed(cls, failed_generation: str = "") -> ErrorReply:
        """400 tool_use_failed with the model's failed output."""
        return cls(
            400,
            "Failed to call a function. Please adjust your prompt. See 'failed_generation' for "
            "more details.",
            code="tool_use_failed",
            failed_generation=failed_generation,
        )

    @classmethod
    def json_validate_failed(cls, failed_generation: str = "") -> ErrorReply:
        """400 json_validate_failed with the model's failed output."""
        return cls(
            400,
            "Failed to generate JSON. Please adjust your prompt. See 'failed_generation' for "
            "more details.",
            code="json_validate_failed",
            failed_generation=failed_generation,
        )

    @classmethod
    def too_large(cls) -> ErrorReply:
        """413 request_too_large."""
        return cls(413, "Request Entity Too Large", code="request_too_large")

    @classmethod
    def flex_capacity(cls) -> ErrorReply:
        """498: flex tier capacity exceeded (the SDK does not retry it)."""
        return cls(
            498,
            "Capacity exceeded for the flex service tier. Please try again later or use the "
            "on_demand service tier.",
            type="capacity_exceeded",
            code="capacity_exceeded",
        )

    @classmethod
    def server_error(cls) -> ErrorReply:
        """500 internal_server_error."""
        return cls(
            500, "Internal Server Error", type="internal_server_error", code="internal_server_error"
        )

    @classmethod
    def unavailable(cls) -> ErrorReply:
        """503 service_unavailable."""
        return cls(
            503, "Service Unavailable", type="internal_server_error", code="service_unavailable"
        )

    @classmethod
    def timeout(cls) -> ErrorReply:
        """408 request_timeout."""
        return cls(408, "Request Timeout", code="request_timeout")

    @classmethod
    def conflict(cls) -> ErrorReply:
        """409 conflict."""
        return cls(409, "Conflict", code="conflict")


def _number(value: float) -> str:
    """Whole numbers without a fraction ("1"), others as given ("0.25")."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _default_fault_reply() -> ChatReply:
    return ChatReply(content="one two three four five")


def _default_fault_error() -> ErrorReply:
    return ErrorReply.tool_use_failed("<function=get_weather>{city: Paris}</function>")


FaultKind = Literal["error_event", "error_data", "drop", "stall", "malformed", "keepalive"]


@dataclass(frozen=True)
class StreamFault:
    """A 200 SSE stream that breaks after the first chunk and `after` deltas of `reply`.

    ``keepalive`` sends an SSE comment every ``interval`` seconds from then on, for ever (until
    the client leaves): a stream that is alive on the wire but carries no token.
    """

    kind: FaultKind
    reply: ChatReply = field(default_factory=_default_fault_reply)
    after: int = 2
    stall_s: float = 30.0
    error: ErrorReply = field(default_factory=_default_fault_error)
    interval: float = 0.5


@dataclass(frozen=True)
class Raw:
    """Any status and body, sent as given (garbage JSON, HTML, a broken gzip body, SSE bytes).

    Sent with a Content-Length; ``headers`` may add e.g. ``content-encoding: gzip``.
    """

    body: bytes
    status: int = 200
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Endless:
    """A body that never ends: ``prefix``, then ``piece`` every ``interval`` s for ever.

    ``interval=0`` floods as fast as the client reads; a small piece with an interval under
    the client's read timeout trickles, so no single read ever times out.
    """

    piece: bytes = b" "
    interval: float = 0.5
    prefix: bytes = b""
    status: int = 200
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Stall:
    """Read the request, send nothing at all for `seconds`, then close the connection."""

    seconds: float


@dataclass(frozen=True)
class Recorded:
    """One request as the simulator received it (rejected ones included)."""

    route: str | None
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any | None = None
    form: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)
    received_at: float = 0.0
    client_port: int = 0
    status: int | None = None


ChatScript = ChatReply | ErrorReply | StreamFault | Stall | Raw | Endless
AudioScript = Transcript | ErrorReply | Stall | Raw | Endless
ModelsScript = list[dict[str, Any]] | ErrorReply | Stall | Raw | Endless
