"""Following the segmenter: speech events to the clients, speculation started, barge-in spotted."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from voiced.audio.frames import SAMPLE_RATE, Frame
from voiced.listen import events as heard
from voiced.pipeline.addressing import AddressedBy, Addressing
from voiced.pipeline.hearing import Hearing, WakeHeard
from voiced.pipeline.speculation import Speculation
from voiced.pipeline.stages import Prefetcher
from voiced.pipeline.turns import TurnRunner
from voiced.protocol import events as ev
from voiced.wake.detector import WakeDetection

if TYPE_CHECKING:
    from voiced.pipeline.host import Host as Daemon

log = logging.getLogger(__name__)

LEVEL_INTERVAL = SAMPLE_RATE // 10
"""Input levels go out at most ten times a second."""
ECHO_TAIL_S = 1.0
"""An utterance that begins this soon after voiced stopped speaking may still be its echo."""


@dataclass
class Utterance:
    """The utterance being heard."""

    number: int
    onset: int
    start: int
    barge: bool
    """It began while voiced was answering: it must be long enough to interrupt."""
    user_onset: int
    """When the user began it, by the raw microphone (earlier than ``onset`` when the echo
    canceller hid its start): barge-in with the echo cancelled counts from here."""
    overlapped: bool
    """Voiced was speaking (or had just stopped) when it began: it may be an echo."""
    addressed: AddressedBy | None = None
    """Why it may leave the machine (wake mode's privacy rule); None: it may not."""
    wake: WakeDetection | None = None
    """The wake word heard in it, if any."""
    paused: bool = False
    interrupted: bool = False
    withdraws: int | None = None
    """The number of the utterance it rejoined whose reply is playing: that turn is withdrawn
    once this speech is heard as the user's (the barge-in bar), not before."""
    speculation: Speculation | None = field(default=None, repr=False)
    pause: heard.TentativeEnd | None = field(default=None, repr=False)
    """The tentative end its speculation transcribes (None once its transcript was told)."""

    def woke(self, phrase: str) -> WakeHeard | None:
        """The wake word in it, for taking it off the transcript."""
        if self.wake is None:
            return None
        return WakeHeard(phrase, (self.wake.end - self.start) / SAMPLE_RATE)


@dataclass(frozen=True)
class Ended:
    """An utterance is complete: the pipeline decides what it was (and answers it)."""

    event: heard.SpeechEnded
    utterance: Utterance | None


@dataclass(frozen=True)
class Gone:
    """An utterance was dropped (a click, a cough, or cut by the microphone closing)."""

    utterance: Utterance | None


@dataclass(frozen=True)
class BargeIn:
    """Speech over voiced's reply has gone on long enough to count."""

    utterance: Utterance
    at_once: bool = False
    """The microphone hears none of voiced (echo-cancelled): stop the reply, no hold."""


Outcome = Ended | Gone | BargeIn
"""What following the segmenter leaves the pipeline to act on."""


class Utterances:
    """Turns the segmenter's events into the protocol's, and decides what each utterance is.

    Args:
        daemon: Publishes events and holds the state machine and the settings.
        hearing: Transcribes and judges (speculation uses it too).
        turns: Whether voiced is answering (so speech may be barge-in).
        prefetcher: Starts speculative replies; None transcribes only.
        echo_cancelled: Whether the microphone hears none of voiced now (echo-cancelled, by
            the sound server or in-process while it works): a lower barge-in bar, and the
            reply stops at once.
        addressing: Wake mode's privacy rule: which utterances may be sent.
        phrase: The wake word's phrase (taken off speculative transcripts too).
        residual: Whether the speech heard over the last so many ms is what is left of
            voiced's own echo after the in-process canceller (never barge-in).
        user_onset: When the user began the speech the segmenter found at the onset given
            (the raw microphone's double-talk detector; the onset itself without one).
    """

    def __init__(
        self,
        daemon: Daemon,
        hearing: Hearing,
        turns: TurnRunner,
        prefetcher: Prefetcher | None,
        echo_cancelled: Callable[[], bool],
        addressing: Addressing,
        phrase: str = "",
        residual: Callable[[int], bool] = lambda ms: False,
        user_onset: Callable[[int], int] = lambda at: at,
    ) -> None:
        self.daemon, self.hearing, self.turns = daemon, hearing, turns
        self.prefetcher, self.echo_cancelled = prefetcher, echo_cancelled
        self.addressing, self.phrase = addressing, phrase
        self.residual, self.user_onset = residual, user_onset
        self.current: Utterance | None = None
        self.last: Utterance | None = None
        """The utterance that ended last (speech may rejoin it)."""
        self.count = 0
        self._last_level = -LEVEL_INTERVAL

    def handle(self, events: list[heard.Event]) -> list[Outcome]:
        """Take the segmenter's events, in order; return what the pipeline must act on."""
        outcomes: list[Outcome] = []
        for event in events:
            match event:
                case heard.Level():
                    self._level(event)
                case heard.SpeechStarted():
                    self._started(event)
                case heard.TentativeEnd():
                    self._paused(event)
                case heard.SpeechResumed():
                    self._resumed(event)
                case heard.SpeechEnded():
                    outcomes += self._ended(event)
                case heard.Dropped():
                    outcomes.append(self._dropped(event))
        return outcomes

    def check_barge_in(self, frame: Frame) -> BargeIn | None:
        """After each frame: has the speech over voiced gone on long enough to interrupt it?"""
        current = self.current
        if current is None or not current.barge or current.interrupted or current.paused:
            return None
        settings = self.daemon.settings.daemon
        cancelled = self.echo_cancelled()
        bar = settings.barge_in_min_ms if cancelled else settings.barge_in_echo_min_ms
        since = current.user_onset if cancelled else current.onset
        if frame.end - since >= bar * SAMPLE_RATE // 1000:
            heard_ms = min(bar, (frame.end - current.onset) * 1000 // SAMPLE_RATE)
            if self.residual(heard_ms):  # voiced's own echo, less: not yet (maybe never) the user
                return None
            current.interrupted = True
            return BargeIn(current, at_once=cancelled)
        return None

    def early_transcript(self) -> tuple[heard.TentativeEnd, str] | None:
        """Once, when the speculation of the pause now being waited on has its transcript:
        the pause and the text (the segmenter may end a question the turn model held open)."""
        current = self.current
        if current is None or current.pause is None or current.speculation is None:
            return None
        text = current.speculation.text
        if text is None:
            return None
        pause, current.pause = current.pause, None
        return pause, text

    def drop(self) -> bool:
        """Forget the utterance being heard (and its speculation); True when there was one."""
        current, self.current = self.current, None
        if current is not None and current.speculation is not None:
            current.speculation.cancel()
        return current is not None

    def _level(self, event: heard.Level) -> None:
        if event.at - self._last_level >= LEVEL_INTERVAL:
            self._last_level = event.at
            self.daemon.publish(
                ev.InputLevel(
                    rms_db=round(event.rms_db, 1),
                    floor_db=round(event.floor_db, 1),
                    voiced=event.voiced,
                )
            )

    def _started(self, event: heard.SpeechStarted) -> None:
        self.count += 1
        barge = self.turns.active and not self.hearing.broker.pending
        overlapped = self.turns.active or self.turns.quiet_for() < ECHO_TAIL_S
        user_onset = self.user_onset(event.onset) if barge else event.onset
        if user_onset < event.onset:
            log.debug(
                "speech over the reply began %d ms before the cleaned signal showed it",
                (event.onset - user_onset) * 1000 // SAMPLE_RATE,
            )
        last = self.last
        if event.joined is not None and last is not None and last.start == event.joined:
            # The speaker went on after a pause heard as the end: addressed as the first part.
            self.current = Utterance(
                self.count, event.onset, event.joined, barge, user_onset, overlapped
            )
            self.current.addressed, self.current.wake = last.addressed, last.wake
        else:
            self.current = Utterance(
                self.count, event.onset, event.start, barge, user_onset, overlapped
            )
            self.current.addressed = self.addressing.at_start(event.start, event.onset)
            if self.current.addressed == "wake_word":
                self.current.wake = self.addressing.detection_in(event.start)
        self.daemon.publish(ev.SpeechStarted(utterance=self.count, at_s=event.at / SAMPLE_RATE))
        self.turns.hooks.states.speech_started()

    def _paused(self, event: heard.TentativeEnd) -> None:
        current = self.current
        if current is None:
            return
        current.paused = True
        self.daemon.publish(ev.SpeechPaused(utterance=current.number, at_s=event.at / SAMPLE_RATE))
        speculate = self.daemon.settings.daemon.speculative and current.addressed is not None
        if current.wake is not None and event.offset <= current.wake.end:
            speculate = False  # the wake word alone, so far: nothing to ask yet
        if speculate and (not current.barge or current.interrupted):
            audio, onset, start = event.audio, current.onset, current.start
            overlapped, woke = current.overlapped, current.woke(self.phrase)
            # Over a reply still going (held, or heard back) only transcribe: its history
            # changes when it stops, so a request built now would not be the one sent.
            prefetcher = None if self.turns.active else self.prefetcher
            current.speculation = Speculation(
                audio,
                self.hearing.transcriber,
                lambda t: self.hearing.guess(t, onset, audio, start, overlapped, woke),
                prefetcher,
                self.hearing.clock,
            )
            current.pause = event

    def _resumed(self, event: heard.SpeechResumed) -> None:
        current = self.current
        if current is None:
            return
        current.paused = False
        self.daemon.publish(ev.SpeechResumed(utterance=current.number, at_s=event.at / SAMPLE_RATE))
        if current.speculation is not None:
            current.speculation.cancel()
            current.speculation, current.pause = None, None

    def _ended(self, event: heard.SpeechEnded) -> list[Outcome]:
        current, self.current = self.current, None
        self.last = current
        if event.asked:
            verdict = event.turn.verdict if event.turn is not None else "none yet"
            log.info("the early transcript asked a question: the turn ended (model: %s)", verdict)
        self.daemon.publish(
            ev.SpeechEnded(
                utterance=current.number if current else self.count,
                at_s=event.at / SAMPLE_RATE,
                duration_s=round(event.duration, 3),
                reason=event.reason,
            )
        )
        if current is not None and current.barge and not current.interrupted:
            if current.speculation is not None:
                current.speculation.cancel()
            return []  # too short to interrupt voiced: a cough, a "mhm", or voiced's own echo
        return [Ended(event, current)]

    def _dropped(self, event: heard.Dropped) -> Gone:
        current, self.current = self.current, None
        if current is not None and current.speculation is not None:
            current.speculation.cancel()
        if event.started:
            self.daemon.publish(
                ev.SpeechEnded(
                    utterance=current.number if current else self.count,
                    at_s=event.at / SAMPLE_RATE,
                    reason=event.reason,
                    dropped=True,
                )
            )
        return Gone(current)
