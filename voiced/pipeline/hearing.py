"""From a confirmed utterance to a question: transcript, filter, echo, confirmation, wake phrase."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from voiced.audio.frames import SAMPLE_RATE, Int16Array
from voiced.errors import VoicedError
from voiced.groq.models import Transcription
from voiced.listen.events import SpeechEnded
from voiced.listen.filter import Accepted, TranscriptFilter
from voiced.pipeline.approval import ConfirmBroker
from voiced.pipeline.clock import InputClock
from voiced.pipeline.judge import EchoGuard, WakePhrase
from voiced.pipeline.speculation import Speculation
from voiced.pipeline.stages import Transcriber
from voiced.pipeline.timeline import TurnTimeline
from voiced.protocol.events import Event, Transcript
from voiced.protocol.reports import ErrorReport
from voiced.wake.strip import strip_wake_word

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WakeHeard:
    """The wake word was heard in an utterance: what to take off its transcript."""

    phrase: str
    """The wake word's phrase, e.g. "Okay Nabu"."""
    detected_s: float
    """When it was detected, in seconds from the start of the utterance's audio."""


@dataclass
class Question:
    """An utterance that asks something: the text to answer and its timeline so far."""

    text: str
    timeline: TurnTimeline


class Hearing:
    """Decides what an utterance was: a question, an answer to a confirmation, or nothing.

    Args:
        transcriber: Speech to text.
        filter: Rejects what Whisper invents over noise.
        echo: Spots voiced's own voice.
        wake: The wake-phrase rule.
        broker: Pending tool confirmations, answered by a spoken yes or no.
        clock: The input clock.
        publish: Where transcripts and errors go.
    """

    def __init__(
        self,
        transcriber: Transcriber,
        filter: TranscriptFilter,
        echo: EchoGuard,
        wake: WakePhrase,
        broker: ConfirmBroker,
        clock: InputClock,
        publish: Callable[[Event], None],
    ) -> None:
        self.transcriber, self.filter, self.echo, self.wake = transcriber, filter, echo, wake
        self.broker, self.clock, self.publish = broker, clock, publish
        self.echo_cancelled = False
        """An echo-cancelled microphone never hears voiced: no transcript is taken for an echo."""
        self.apologise: Callable[[VoicedError], None] | None = None
        """Says a few words when speech to text fails (set when there is a speaker)."""
        self.alone: Callable[[], None] = lambda: None
        """The wake word was said alone (nothing after it in the transcript): wait for the
        question (set by the pipeline)."""

    def guess(
        self,
        transcription: Transcription,
        onset: int,
        audio: Int16Array,
        start: int,
        overlapped: bool,
        woke: WakeHeard | None = None,
    ) -> str | None:
        """What a speculative transcript would be answered with (changing nothing), or None.

        Args:
            transcription: The transcript of the audio up to the tentative end.
            onset: Where the voice began (input clock).
            audio: The utterance's audio so far; ``start`` is its first sample.
            start: Input clock of ``audio[0]``.
            overlapped: Whether voiced was speaking while it was heard.
            woke: The wake word heard in it, if any.
        """
        speech = audio[max(0, onset - start) :]
        verdict = self.filter.judge(transcription, speech.size / SAMPLE_RATE, _level_db(speech))
        if not isinstance(verdict, Accepted):
            return None
        if overlapped and not self.echo_cancelled and self.echo.is_echo(verdict.text):
            return None
        if self.broker.pending:
            return None
        if woke is not None:
            return self._after_wake_word(transcription, verdict.text, woke, commit=False)
        return self.wake.admit(verdict.text, commit=False).text

    async def conclude(
        self,
        ended: SpeechEnded,
        speculation: Speculation | None,
        timeline: TurnTimeline,
        overlapped: bool = False,
        woke: WakeHeard | None = None,
        follows_wake: bool = False,
    ) -> Question | None:
        """Transcribe (or take the speculative transcript) and judge a confirmed utterance.

        Args:
            ended: The utterance.
            speculation: What was started for it at its tentative end, if anything.
            timeline: The would-be turn's timeline (the transcript mark is set).
            overlapped: Whether voiced was speaking while it was heard: only then can it be
                an echo of voiced's own voice.
            woke: The wake word heard in it: it and what came before it are taken off.
            follows_wake: It was asked for by the wake word (a question after the wake word
                alone, or a follow-up in wake mode): the transcript needs no wake phrase.

        Returns:
            The question to answer, or None (rejected, a yes/no, the wake phrase alone).
        """
        transcription = await self._transcribe(ended, speculation, timeline)
        if transcription is None:
            return None
        verdict = self.filter.judge_utterance(transcription, ended)
        if not isinstance(verdict, Accepted):
            return self._reject(verdict.text, verdict.reason)
        text = verdict.text
        if self.broker.pending:
            self._answer(text, ended.onset)
            return None
        if woke is not None:
            asked = self._after_wake_word(transcription, text, woke)
            if asked is None:
                return self._reject(text, "no wake phrase in the transcript")
            if not asked:
                self.alone()
                return self._reject(text, "the wake word alone: listening")
            return Question(asked, timeline)
        if overlapped and not self.echo_cancelled and self.echo.is_echo(text):
            return self._reject(text, "an echo of what voiced just said")
        if follows_wake:
            return Question(text, timeline)
        admission = self.wake.admit(text)
        if admission.text is None:
            reason = "the wake phrase alone: listening" if admission.woke else admission.reason
            return self._reject(text, reason)
        return Question(admission.text, timeline)

    def _after_wake_word(
        self, transcription: Transcription, text: str, woke: WakeHeard, commit: bool = True
    ) -> str | None:
        """What was asked after the wake word ("" for nothing); None when ``[daemon]
        wake_phrase``, the optional second check, is not in the transcript.

        No echo check: voiced never says its wake word, so speech that holds it is the user's.
        """
        if self.wake.phrase is not None:
            admission = self.wake.admit(text, commit)
            if not admission.woke:
                return None
        stripped = dataclasses.replace(transcription, text=text)
        return strip_wake_word(stripped, woke.phrase, woke.detected_s)

    async def _transcribe(
        self, ended: SpeechEnded, speculation: Speculation | None, timeline: TurnTimeline
    ) -> Transcription | None:
        if speculation is not None and speculation.matches(ended.audio):
            try:
                transcription = await speculation.transcript()
            except VoicedError as exc:
                log.info("speculative transcript failed (%s); asking again", exc)
            else:
                timeline.mark("transcript", at=speculation.ready_at)
                return transcription
        try:
            transcription = await self.transcriber.transcribe(ended.audio)
        except VoicedError as exc:
            self.publish(ErrorReport(code="stt", message=exc.message, hint=exc.hint))
            if self.apologise is not None:
                self.apologise(exc)
            return None
        timeline.mark("transcript")
        return transcription

    def _answer(self, text: str, onset: int) -> None:
        """An utterance heard while a tool waits: an answer (see ConfirmBroker.hear) or nothing.

        Words voiced said lately, all of them, are its own voice heard back and never an
        answer, even from an echo-cancelled microphone.
        """
        if self.echo.is_echo(text, share=1.0):
            self._reject(text, "an echo of what voiced just said")
            return
        heard = self.broker.hear(text, onset)
        if heard.answered is None:
            self._reject(text, heard.reason)
            return
        self.publish(Transcript(turn=0, text=text, accepted=True, reason="confirmation"))

    def _reject(self, text: str, reason: str) -> Question | None:
        self.publish(Transcript(turn=0, text=text, accepted=False, reason=reason))
        return None


def _level_db(samples: Int16Array) -> float:
    if not samples.size:
        return -120.0
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) / 32768.0
    return 20 * float(np.log10(max(rms, 1e-6)))
