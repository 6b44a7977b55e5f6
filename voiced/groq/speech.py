"""Groq's speech endpoint: a short text in, WAV audio out, the first byte within a budget."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

import httpx

from voiced.errors import ApiError, ConnectionFailedError, FirstByteTimeoutError, InputError
from voiced.groq.failures import server_text
from voiced.groq.limits import deadline_error

AUDIO_LIMIT = 8 * 2**20
"""Largest speech answer accepted: 200 characters say in about 15 s, 1.4 MB as 48 kHz WAV."""
INPUT_LIMIT = 200
"""Characters of text sent in one speech request: about what Groq's Orpheus models accept
(longer inputs have been reported to fail), and what a spoken sentence needs."""


@dataclass(frozen=True)
class SpeechRequest:
    """One request to ``POST /audio/speech``: only the documented fields are sent."""

    model: str
    input: str
    voice: str
    response_format: Literal["wav"] = "wav"

    def to_body(self) -> dict[str, str]:
        """The JSON body."""
        return {
            "model": self.model,
            "input": self.input,
            "voice": self.voice,
            "response_format": self.response_format,
        }

    def check(self) -> None:
        """Refuse a request Groq would refuse, before anything is sent.

        Raises:
            InputError: The text is empty or longer than :data:`INPUT_LIMIT`.
        """
        if not self.input.strip():
            raise InputError("there is no text to speak", "give it some words")
        if len(self.input) > INPUT_LIMIT:
            raise InputError(
                f"{len(self.input)} characters are too many for one speech request",
                f"send at most {INPUT_LIMIT} at a time (voiced cuts replies into sentences)",
            )


@dataclass(frozen=True)
class SpeechAudio:
    """The audio of one speech request, as sent (a WAV file)."""

    data: bytes
    request_id: str | None
    first_byte_s: float
    """Seconds from sending the request to its first byte of audio (retries included)."""


def first_byte_error(host: str, budget_s: float, request_id: str | None = None) -> ApiError:
    """The error for a speech request whose audio did not start within ``budget_s``."""
    ref = f" [request {request_id}]" if request_id else ""
    return FirstByteTimeoutError(
        f"{host} sent no audio within {budget_s:g} s{ref}",
        "check the network, or raise [speech] groq_first_byte_s",
    )


async def read_audio(
    response: httpx.Response, began: float, first_by: float, deadline: float, budget: float
) -> SpeechAudio:
    """Read a speech response's body: its first byte by ``first_by``, all of it by ``deadline``.

    Args:
        response: A successful response whose body has not been read (it is closed here).
        began: ``loop.time()`` when the request was first sent.
        first_by: ``loop.time()`` by which the first byte of audio must arrive.
        deadline: ``loop.time()`` by which the whole body must have arrived.
        budget: The first-byte budget in seconds, for the message.

    Raises:
        FirstByteTimeoutError: No audio by ``first_by``.
        ConnectionFailedError: The connection dropped, or the body ran past ``deadline``.
        ApiError: The body was empty, over :data:`AUDIO_LIMIT`, or could not be decoded.
    """
    loop = asyncio.get_running_loop()
    host = response.request.url.host
    found = response.headers.get("x-request-id")
    request_id = server_text(found, 100) if found else None
    parts: list[bytes] = []
    first_at = 0.0
    try:
        pieces = response.aiter_bytes()
        try:
            async with asyncio.timeout_at(first_by):
                first = await anext(pieces, b"")
        except TimeoutError:
            raise first_byte_error(host, budget, request_id) from None
        first_at = loop.time()
        parts.append(first)
        size = len(first)
        try:
            async with asyncio.timeout_at(deadline):
                async for piece in pieces:
                    size += len(piece)
                    if size > AUDIO_LIMIT:
                        raise ApiError(
                            f"{host} sent over {AUDIO_LIMIT // 2**20} MiB of audio "
                            f"[request {request_id}]",
                            "check that [speech] base_url points at Groq's API",
                        )
                    parts.append(piece)
        except TimeoutError:
            raise deadline_error(host, round(deadline - began, 1), request_id) from None
    except httpx.DecodingError as exc:
        raise ApiError(
            f"the audio from {host} could not be decoded [request {request_id}]",
            "try again; check that [speech] base_url points at Groq's API",
        ) from exc
    except httpx.TransportError as exc:
        raise ConnectionFailedError(
            f"the connection to {host} dropped while the audio arrived "
            f"({type(exc).__name__}) [request {request_id}]",
            "check your network connection",
        ) from exc
    finally:
        await response.aclose()
    data = b"".join(parts)
    if not data:
        raise ApiError(
            f"{host} answered with no audio [request {request_id}]",
            "try again; check that [speech] base_url points at Groq's API",
        )
    return SpeechAudio(data, request_id, first_at - began)
