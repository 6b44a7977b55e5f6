"""The VoicedError tree: every error a user can meet, with what happened and what to do.

::

    VoicedError
    ├── ConfigError                 bad config file, key or value
    │   ├── MissingKeyError         no Groq API key anywhere
    │   ├── InsecureCredentialsError  credentials file readable by others
    │   └── ParameterError          chat parameters Groq would refuse, found before sending
    ├── InputError                  a file we were given is missing, of the wrong type or too big
    ├── StorageError                the history or timers database cannot be used
    ├── AudioDeviceError            no microphone or speaker, or the one configured is missing
    ├── SpeechSynthesisError        text to speech failed: no espeak-ng, unknown voice, stalled
    ├── ProtocolError               a control-socket message is malformed or from another version
    ├── McpError                    an MCP server cannot be started or reached, or failed a call
    ├── DaemonError                 the daemon cannot be reached, started or installed
    │   ├── DaemonNotRunningError   nothing listens on the control socket
    │   ├── DaemonRunningError      another daemon already owns the control socket
    │   ├── UnsafeSocketError       the control socket or its directory is another user's
    │   └── ServiceError            systemctl or the service unit failed
    └── ApiError                    the API said no, or could not be reached
        ├── ConnectionFailedError   network unreachable, timeout, connection dropped
        ├── StreamError             an error event or malformed data inside an open stream
        ├── AuthenticationError     401
        ├── ModelNotFoundError      404 model_not_found
        │   └── ModelRetiredError   400 model_decommissioned
        ├── RateLimitError          429 after the retries ran out
        ├── RequestTooLargeError    413
        ├── CapacityError           498 flex tier capacity exceeded
        ├── ServerError             5xx after the retries ran out
        └── BadRequestError         any other 4xx (tool_use_failed, json_validate_failed, …)

Library errors (httpx, tomllib, PortAudio) are re-raised as these with ``raise … from exc``.
"""

from __future__ import annotations

from dataclasses import dataclass


class VoicedError(Exception):
    """Root of every error voiced reports to a user.

    Args:
        message: What happened, in one sentence.
        hint: What the user can do about it, or "" when there is nothing to add.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(VoicedError):
    """A configuration file, key or value is wrong."""


class MissingKeyError(ConfigError):
    """No Groq API key was found."""


class InsecureCredentialsError(ConfigError):
    """The credentials file can be read by other users."""


class ParameterError(ConfigError):
    """Chat parameters (``[chat]`` or a flag of ``voiced ask``) out of range, or a
    combination Groq refuses with a 400; found before anything is sent."""


class InputError(VoicedError):
    """A file or argument the user gave cannot be used."""


class StorageError(VoicedError):
    """voiced's own data (conversation history, timers, notes) cannot be read or written."""


class McpError(VoicedError):
    """An MCP tool server cannot be started or reached, or its answer cannot be used."""

    closed = False
    """Whether it happened because the connection to the server closed (it exited)."""


class AudioDeviceError(VoicedError):
    """No usable audio device: none at all, the configured one is missing, or it failed to open."""


class SpeechSynthesisError(VoicedError):
    """Text to speech failed: the engine is missing or broke, or the voice does not exist."""


class ProtocolError(VoicedError):
    """A control-socket message is malformed, unknown, or from an incompatible protocol version."""


class DaemonError(VoicedError):
    """The voiced daemon cannot be reached, started or installed as a service."""


class DaemonNotRunningError(DaemonError):
    """No daemon listens on the control socket."""


class DaemonRunningError(DaemonError):
    """Another daemon already listens on the control socket."""


class UnsafeSocketError(DaemonError):
    """The control socket, its directory or the process behind it belongs to another user (or
    is reached through a symbolic link), so voiced refuses to use it."""


class ServiceError(DaemonError):
    """systemctl failed, or the service unit cannot be written or removed."""


@dataclass(frozen=True)
class ApiErrorDetails:
    """What the server said about a failed request.

    Attributes:
        status: HTTP status, or None when no response arrived.
        code: Groq's error code, such as ``model_not_found``.
        type: Groq's error type, such as ``invalid_request_error``.
        server_message: The message from the error body.
        failed_generation: The model output Groq could not use (tool_use_failed,
            json_validate_failed).
        request_id: The ``x-request-id`` to quote to Groq support.
        param: The request parameter the error is about, when given.
    """

    status: int | None = None
    code: str | None = None
    type: str | None = None
    server_message: str = ""
    failed_generation: str | None = None
    request_id: str | None = None
    param: str | None = None


class ApiError(VoicedError):
    """An API request failed; ``details`` carries what the server said."""

    def __init__(self, message: str, hint: str = "", details: ApiErrorDetails | None = None):
        super().__init__(message, hint)
        self.details = details or ApiErrorDetails()

    @property
    def status(self) -> int | None:
        """HTTP status of the failed response, or None when none arrived."""
        return self.details.status

    @property
    def code(self) -> str | None:
        """Groq's error code, such as ``rate_limit_exceeded``."""
        return self.details.code

    @property
    def request_id(self) -> str | None:
        """The ``x-request-id`` of the failed response."""
        return self.details.request_id

    @property
    def failed_generation(self) -> str | None:
        """The model output Groq rejected, when it sent one."""
        return self.details.failed_generation


class ConnectionFailedError(ApiError):
    """The server could not be reached, timed out, or dropped the connection."""


class StreamError(ApiError):
    """An open stream carried an error event or data that could not be parsed."""


class AuthenticationError(ApiError):
    """The server rejected the API key (401)."""


class ModelNotFoundError(ApiError):
    """The requested model does not exist or is not available to this key (404)."""


class ModelRetiredError(ModelNotFoundError):
    """The requested model has been decommissioned (400 model_decommissioned)."""


class RateLimitError(ApiError):
    """Still rate limited (429) after the retries ran out.

    Attributes:
        resets_in: Seconds until the limit resets, when the server said.
    """

    def __init__(
        self,
        message: str,
        hint: str = "",
        details: ApiErrorDetails | None = None,
        resets_in: float | None = None,
    ) -> None:
        super().__init__(message, hint, details)
        self.resets_in = resets_in


class RequestTooLargeError(ApiError):
    """The request body or its token count is over the limit (413)."""


class CapacityError(ApiError):
    """The flex tier is out of capacity (498)."""


class ServerError(ApiError):
    """The server failed (5xx) on every attempt."""


class BadRequestError(ApiError):
    """Any other 4xx: the request was refused as it stands."""
