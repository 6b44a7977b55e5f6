"""Groq's neural voices (Orpheus): each chunk one request, the WAV decoded for the player."""

from __future__ import annotations

import asyncio
import io
import re

import numpy as np
import soundfile  # type: ignore[import-untyped, unused-ignore]
import soxr  # type: ignore[import-untyped, unused-ignore]

from voiced.audio.playback import Clip
from voiced.audio.player import PLAYER_RATE
from voiced.audio.wav import as_float_mono, float_to_int16
from voiced.errors import SpeechSynthesisError
from voiced.groq.client import GroqClient
from voiced.groq.speech import INPUT_LIMIT, SpeechRequest

LEAD_IN_S = 0.002
"""Silence kept before the first sound of a clip (espeak-ng's clips start the same way)."""
TOTAL_S = 30.0
"""Seconds one request may take to send all its audio: 200 characters say in about 15 s, and
Groq sends speech faster than it plays, so a server still sending after this is stalling."""
QUIET = 64
"""Samples quieter than this (int16) at the start of a clip count as silence."""
_CUTS = (
    re.compile(r"[.!?…][\"')\]]*\s"),  # after a sentence
    re.compile(r"[,;:–—]\s|\s[-–—]\s"),  # after a clause
    re.compile(r"\s"),  # between words
)


class GroqTTS:
    """Speaks with a Groq speech model: one request per chunk (two or more for a chunk over
    200 characters), the WAV decoded, resampled to the player's rate and its leading silence
    trimmed, so a clip looks like espeak-ng's to everything after it.

    Args:
        client: The client the requests go through (its deadlines, retries and key).
        model: Speech model id, e.g. "canopylabs/orpheus-v1-english".
        voice: One of the model's voices, e.g. "troy".
        first_byte_s: Seconds a request may take to start sending audio, retries included.
        volume: 0.0 (silent) to 1.0 (as sent).
        rate: Sample rate of the clips.
        total_s: Seconds a request may take to send all of its audio.
    """

    def __init__(
        self,
        client: GroqClient,
        model: str,
        voice: str,
        first_byte_s: float | None = 1.5,
        volume: float = 1.0,
        rate: int = PLAYER_RATE,
        total_s: float = TOTAL_S,
    ) -> None:
        if not 0.0 <= volume <= 1.0:
            raise SpeechSynthesisError(f"volume {volume} is out of range", "use 0.0–1.0")
        self.client = client
        self.model = model
        self.voice = voice
        self.first_byte_s = first_byte_s
        self.volume = volume
        self.rate = rate
        self.total_s = total_s

    async def render(self, text: str) -> Clip:
        """Have Groq say ``text``; return its audio.

        Raises:
            ApiError: A request failed (typed: TermsRequiredError, RateLimitError,
                FirstByteTimeoutError, ConnectionFailedError, …).
            SpeechSynthesisError: The answer was not audio that can be decoded.
        """
        parts = []
        for piece in split_input(text):
            request = SpeechRequest(model=self.model, input=piece, voice=self.voice)
            audio = await self.client.speech(request, self.first_byte_s, self.total_s)
            parts.append(audio.data)
        return await asyncio.to_thread(decode_speech, parts, self.rate, self.volume)


def split_input(text: str, limit: int = INPUT_LIMIT) -> list[str]:
    """Cut text into pieces of at most ``limit`` characters: after the last sentence end that
    fits, else the last clause mark, else the last space, else anywhere."""
    pieces = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        end = limit
        for cut in _CUTS:
            found = [m.end() for m in cut.finditer(window) if m.end() - 1 > 0]
            if found:
                end = found[-1]
                break
        piece, rest = rest[:end].strip(), rest[end:].strip()
        if piece:
            pieces.append(piece)
    return [*pieces, rest] if rest else pieces


def decode_speech(parts: list[bytes], rate: int, volume: float = 1.0) -> Clip:
    """Decode WAV files (one per request), join them and make one mono int16 clip at ``rate``.

    Raises:
        SpeechSynthesisError: A part is not audio libsndfile can read.
    """
    joined = []
    for data in parts:
        try:
            samples, source_rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
        except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
            raise SpeechSynthesisError(
                f"the Groq voice sent {len(data)} bytes that are not a WAV file ({exc})",
                "check that [speech] base_url points at Groq's API",
            ) from exc
        mono = as_float_mono(samples)
        if source_rate != rate and mono.size:
            mono = soxr.resample(mono, source_rate, rate, quality="HQ")
        joined.append(mono * np.float32(volume))
    pcm = float_to_int16(np.concatenate(joined) if joined else np.zeros(0, np.float32))
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > QUIET)
    start = max(0, int(loud[0]) - round(LEAD_IN_S * rate)) if loud.size else 0
    return Clip(pcm[start:], rate)
