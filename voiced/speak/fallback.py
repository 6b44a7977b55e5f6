"""A network voice with espeak-ng behind it: once it fails, espeak-ng says the rest of the reply."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from voiced.audio.playback import Clip
from voiced.errors import (
    ConnectionFailedError,
    FirstByteTimeoutError,
    RateLimitError,
    TermsRequiredError,
    VoicedError,
)
from voiced.speak.tts import EspeakTTS, TextToSpeech

log = logging.getLogger(__name__)

MAX_PAUSE_S = 3600.0
"""Longest a rate limit keeps the network voice from being tried (its reset time, capped)."""


@dataclass(frozen=True)
class FallbackNotice:
    """Why espeak-ng speaks instead of the network voice, said once per outage."""

    kind: str
    """"terms", "rate_limit", "first_byte", "network" or "failed"."""
    message: str
    hint: str


def notice_for(exc: VoicedError, model: str, first_byte_s: float | None) -> FallbackNotice:
    """Say in words why the Groq voice failed and what espeak-ng does about it."""
    if isinstance(exc, TermsRequiredError):
        return FallbackNotice(
            "terms",
            f"the Groq voice {model} needs its terms accepted first; espeak-ng speaks instead",
            "an admin of your Groq organisation accepts them once at "
            f"https://console.groq.com/playground?model={quote(model, safe='')}; "
            'or set [speech] engine = "espeak"',
        )
    if isinstance(exc, RateLimitError):
        when = f" for {exc.resets_in:.0f} s" if exc.resets_in else ""
        return FallbackNotice(
            "rate_limit",
            f"the Groq voice is rate limited{when}; espeak-ng speaks until the limit resets",
            "the free tier allows few speech requests a day (about 100): wait, upgrade at "
            'https://console.groq.com/settings/billing, or set [speech] engine = "espeak"',
        )
    if isinstance(exc, FirstByteTimeoutError):
        budget = f"{first_byte_s:g} s" if first_byte_s else "its deadline"
        return FallbackNotice(
            "first_byte",
            f"the Groq voice sent no audio within {budget}; espeak-ng says the rest of the reply",
            "check the network, or raise [speech] groq_first_byte_s",
        )
    if isinstance(exc, ConnectionFailedError):
        return FallbackNotice(
            "network",
            f"the Groq voice cannot be reached ({exc.message}); espeak-ng says the rest of "
            "the reply",
            exc.hint or "check your network connection",
        )
    return FallbackNotice(
        "failed",
        f"the Groq voice failed ({exc.message}); espeak-ng says the rest of the reply",
        exc.hint,
    )


class FallbackTTS:
    """Speaks with ``primary``; when a chunk fails, espeak-ng says it and the rest of the reply.

    The failure is logged (a warning) and passed to ``on_fallback`` once: not again while
    the network voice keeps failing for the same reason, again after it has worked. After a
    rate limit the network voice is not tried until the limit resets.

    Args:
        primary: The network voice (GroqTTS).
        fallback: espeak-ng.
        model: The network voice's model, for the messages.
        first_byte_s: Its first-byte budget, for the messages.
        on_fallback: Told (in the event loop) each time the fallback is announced.
        clock: Seconds, monotonic (tests pass a fake).
    """

    def __init__(
        self,
        primary: TextToSpeech,
        fallback: EspeakTTS,
        model: str = "",
        first_byte_s: float | None = None,
        on_fallback: Callable[[FallbackNotice], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.model = model
        self.first_byte_s = first_byte_s
        self.on_fallback = on_fallback
        self._clock = clock
        self._announced: str | None = None
        self._paused_until = 0.0

    async def warm_up(self) -> None:
        """Start espeak-ng (the network voice needs no warming, and a request costs quota).

        Raises:
            SpeechSynthesisError: espeak-ng is missing or its voice is unknown.
        """
        await self.fallback.warm_up()

    def for_reply(self) -> ReplyVoice:
        """The voice for one reply: it turns to espeak-ng for good once the network fails."""
        return ReplyVoice(self)

    async def render(self, text: str) -> Clip:
        """Render one chunk as a reply of its own."""
        return await self.for_reply().render(text)

    @property
    def available(self) -> bool:
        """Whether the network voice may be tried (no rate limit is waiting to reset)."""
        return self._clock() >= self._paused_until

    def failed(self, exc: VoicedError) -> None:
        """Note a failure of the network voice; announce it unless it already was."""
        notice = notice_for(exc, self.model, self.first_byte_s)
        if isinstance(exc, RateLimitError) and exc.resets_in:
            self._paused_until = self._clock() + min(exc.resets_in, MAX_PAUSE_S)
        if notice.kind == self._announced:
            log.debug("the Groq voice failed again: %s", exc.message)
            return
        self._announced = notice.kind
        log.warning("%s (%s)", notice.message, notice.hint)
        if self.on_fallback is not None:
            self.on_fallback(notice)

    def worked(self) -> None:
        """Note that the network voice spoke; the next failure is announced again."""
        if self._announced is not None:
            log.info("the Groq voice works again")
            self._announced = None


class ReplyVoice:
    """One reply's voice: the network voice until it fails, espeak-ng from then on.

    Its chunks render one after another, in the order asked (chunks rendered ahead are asked
    at once): a chunk learns how the one before it went before it asks the network voice.
    """

    def __init__(self, owner: FallbackTTS) -> None:
        self.owner = owner
        self.fell_back = False
        """True once this reply turned to espeak-ng."""
        self._turn = asyncio.Lock()

    async def render(self, text: str) -> Clip:
        """Render with the network voice, or with espeak-ng once it has failed.

        Raises:
            SpeechSynthesisError: espeak-ng failed too.
        """
        async with self._turn:
            return await self._render(text)

    async def _render(self, text: str) -> Clip:
        owner = self.owner
        if not self.fell_back and owner.available:
            try:
                clip = await owner.primary.render(text)
            except VoicedError as exc:
                owner.failed(exc)
            else:
                owner.worked()
                return clip
        self.fell_back = True
        return await owner.fallback.render(text)
