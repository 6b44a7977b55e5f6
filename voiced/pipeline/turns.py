"""One turn at a time: the question answered through the conversation and spoken, stoppable."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from voiced.errors import (
    AuthenticationError,
    ConnectionFailedError,
    RateLimitError,
    SpeechSynthesisError,
    VoicedError,
)
from voiced.pipeline.speech import CachingTTS, TurnSink
from voiced.pipeline.stages import Answerer, Mouth
from voiced.pipeline.states import PipelineState
from voiced.pipeline.timeline import TurnTimeline
from voiced.protocol.events import AssistantText, Event, StopReason
from voiced.protocol.reports import ErrorReport, SpeakingStarted, SpeakingStopped
from voiced.speak.speaker import SpokenReply, SpokenResult

log = logging.getLogger(__name__)

STOP_WAIT_S = 2.0
"""How long a cancelled turn may take to wind down."""


def spoken_apology(exc: BaseException) -> str:
    """A few words to say when a turn fails (the details go to the clients)."""
    if isinstance(exc, ConnectionFailedError):
        return "I can't reach the server."
    if isinstance(exc, RateLimitError):
        return "I've hit the rate limit. Try again in a moment."
    if isinstance(exc, AuthenticationError):
        return "The server refused my API key."
    return "Sorry, that didn't work."


@dataclass
class TurnHooks:
    """What a turn needs from the pipeline around it."""

    publish: Callable[[Event], None]
    states: PipelineState
    """Moves the daemon's state as the turn goes."""
    said: Callable[[str], None]
    """Told everything voiced says (the echo guard)."""
    finished: Callable[[], None]
    """Called after a turn that was answered (opens the wake window)."""
    reply_began: Callable[[], None] = lambda: None
    """A reply's first audio went out (the echo canceller's ERLE counts from here)."""
    reply_ended: Callable[[], float | None] = lambda: None
    """A reply that was heard is over: the echo reduction over it in dB, or None."""


class TurnRunner:
    """Runs turns one at a time; a new one, a barge-in or a cancel stops the one in progress.

    Args:
        answerer: The conversation.
        mouth: The speaker.
        tts: The caching text-to-speech the speaker renders with (for the first-clause mark).
        hooks: Events, state and the rest of the pipeline.
        monotonic: Seconds from the clock ``quiet_for`` counts on (replay mode: the input's).
    """

    def __init__(
        self,
        answerer: Answerer,
        mouth: Mouth | None,
        tts: CachingTTS | None,
        hooks: TurnHooks,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.answerer, self.mouth, self.tts, self.hooks = answerer, mouth, tts, hooks
        self._monotonic = monotonic
        self._task: asyncio.Task[None] | None = None
        self._reason: StopReason = "cancelled"
        self._ended_at = float("-inf")
        self._audio_at: float | None = None
        """When the turn in progress's first reply audio went out (``monotonic``)."""
        self.held = False
        """Whether the reply's audio is paused by ``hold()``."""

    def quiet_for(self) -> float:
        """Seconds since the last turn ended (0 while one is in progress)."""
        return 0.0 if self.active else self._monotonic() - self._ended_at

    @property
    def active(self) -> bool:
        """Whether a turn is in progress."""
        return self._task is not None and not self._task.done()

    def hold(self) -> bool:
        """Pause the reply's audio, not the turn: speech over it may be voiced's own echo.

        Returns:
            True when there was a turn to hold.
        """
        if not self.active or self.mouth is None or self.held:
            return False
        self.held = True
        self.mouth.hold()
        return True

    def release(self) -> bool:
        """Play on after ``hold()``; True when something was held."""
        if not self.held:
            return False
        self.held = False
        if self.mouth is not None:
            self.mouth.release()
        return True

    def start(
        self,
        text: str,
        timeline: TurnTimeline,
        at: datetime | None = None,
        before_audio: Callable[[], Awaitable[None]] | None = None,
    ) -> asyncio.Task[None]:
        """Answer ``text`` in the background (the caller stops any turn in progress first);
        ``at`` is the moment its speculation prepared the request with; ``before_audio`` is
        awaited before the reply's first audio goes out (the request and the speech go on
        meanwhile: only playback waits)."""
        self.release()  # a hold belongs to the turn before
        self._reason = "cancelled"
        self._audio_at = None
        run = self._run(text, timeline, at, before_audio)
        self._task = asyncio.create_task(run, name=f"turn-{timeline.turn}")
        return self._task

    async def stop(self, reason: StopReason = "cancelled") -> bool:
        """Silence the speaker and cancel the turn in progress; True when there was one."""
        task = self._task
        if task is None or task.done():
            return False
        self._reason = reason
        self.held = False  # stopping drops what a hold kept
        if self.mouth is not None:
            self.mouth.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), STOP_WAIT_S)
        return True

    def heard_ms(self) -> int | None:
        """How long the reply of the turn in progress has been playing, in ms; None while no
        turn is in progress or its first audio has not gone out."""
        if not self.active or self._audio_at is None:
            return None
        return round((self._monotonic() - self._audio_at) * 1000)

    @property
    def acted(self) -> bool:
        """Whether the turn in progress, or the one answered last, asked for a tool: it is
        never withdrawn (what a tool did, or was asked to do, stays on the record, and asking
        the whole question again must not do it twice unseen)."""
        return self.answerer.acted

    async def withdraw(self) -> bool:
        """Stop the turn in progress and forget it from the history, question and reply (its
        speaker went on: the whole of what they said is asked as a new turn).

        Returns:
            True when a turn was withdrawn: one was in progress and it asked for no tool (a
            turn that did is stopped but kept). A history that cannot be written is logged:
            the turn is still withdrawn from the conversation going on.
        """
        acted = self.acted
        stopped = await self.stop("cancelled")
        if stopped and acted:
            log.info("the stopped turn asked for a tool: it stays in the history")
            return False
        if stopped:
            try:
                await self.answerer.withdraw()
            except VoicedError as exc:
                log.error("could not withdraw the stopped turn from the history: %s", exc)
        return stopped

    async def wait(self) -> None:
        """Wait for the turn in progress to end."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(
        self,
        text: str,
        timeline: TurnTimeline,
        at: datetime | None,
        before_audio: Callable[[], Awaitable[None]] | None,
    ) -> None:
        h, turn = self.hooks, timeline.turn
        h.states.answering()
        reply = self.mouth.reply() if self.mouth is not None else None
        if reply is not None:
            reply.before_first = before_audio
        if self.tts is not None:
            self.tts.on_render = lambda chunk: self._rendering(chunk, timeline)
        watcher = asyncio.create_task(self._watch_audio(reply, timeline)) if reply else None
        sink = TurnSink(turn, h.publish, reply, timeline)
        interrupted = False
        reason: StopReason = "done"
        try:
            await self.answerer.ask(text, sink, at=at)
            spoken = await self._finish(reply)
            interrupted = spoken is not None and spoken.interrupted
            if spoken is not None and interrupted:
                await self._mark_heard(spoken.spoken_text)
            h.finished()
        except asyncio.CancelledError:
            interrupted, reason = True, self._reason
            if reply is not None:
                heard = reply.result().spoken_text
                reply.cancel()
                if sink.text:  # words went out, so the stored replies hold more than was heard
                    await asyncio.shield(self._mark_heard(heard))
            raise
        except Exception as exc:  # a fault ends the turn, never the daemon
            reason = "error"
            await self._fault(exc, turn, reply)
        finally:
            if watcher is not None:
                watcher.cancel()
            if self.tts is not None:
                self.tts.on_render = None
            h.publish(AssistantText(turn=turn, text="".join(sink.text), interrupted=interrupted))
            if "first_audio" in timeline.marks:
                h.publish(SpeakingStopped(turn=turn, reason=reason))
                timeline.erle_db = h.reply_ended()
            h.publish(timeline.event())
            self._ended_at = self._monotonic()
            h.states.turn_over(turn, reason)

    async def _mark_heard(self, heard: str) -> None:
        """Store what of the turn's replies was heard, so the history (and the model, next
        turn) holds only the words spoken. A history that cannot be written is logged."""
        try:
            await self.answerer.mark_heard(heard)
        except VoicedError as exc:
            log.error("could not record what of the reply was heard: %s", exc)

    def _rendering(self, chunk: str, timeline: TurnTimeline) -> None:
        timeline.mark("first_clause")
        self.hooks.said(chunk)

    async def _finish(self, reply: SpokenReply | None) -> SpokenResult | None:
        if reply is None:
            return None
        try:
            return await reply.finish()
        except SpeechSynthesisError as exc:
            self.hooks.publish(ErrorReport(code="tts", message=exc.message, hint=exc.hint))
            return None

    async def _watch_audio(self, reply: SpokenReply, timeline: TurnTimeline) -> None:
        await reply.first_chunk_queued.wait()
        self._audio_at = self._monotonic()
        timeline.mark("first_audio")
        h = self.hooks
        h.reply_began()
        h.states.first_audio()
        h.publish(SpeakingStarted(turn=timeline.turn))

    async def _fault(self, exc: Exception, turn: int, reply: SpokenReply | None) -> None:
        if isinstance(exc, VoicedError):
            log.warning("turn %d failed: %s", turn, exc)
            code = type(exc).__name__.removesuffix("Error").lower() or "error"
            report = ErrorReport(code=code, message=exc.message, hint=exc.hint, turn=turn)
        else:
            log.error("turn %d failed", turn, exc_info=exc)
            report = ErrorReport(code="internal", message=f"{type(exc).__name__}: {exc}", turn=turn)
        self.hooks.publish(report)
        if reply is None or isinstance(exc, SpeechSynthesisError):
            return
        reply.feed(" " + spoken_apology(exc))
        with contextlib.suppress(VoicedError):
            await reply.finish()
