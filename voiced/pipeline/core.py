"""The turn pipeline: frames → utterances → questions → spoken answers; speculation, barge-in."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from voiced.audio.frames import SAMPLE_RATE, Frame, FrameSource
from voiced.config import Settings, WakeSettings
from voiced.errors import AudioDeviceError
from voiced.listen import events as heard
from voiced.listen.filter import TranscriptFilter
from voiced.listen.segmenter import Segmenter
from voiced.pipeline.addressing import Addressing
from voiced.pipeline.hearing import Hearing, WakeHeard
from voiced.pipeline.hold import ReplyHold, hold_for
from voiced.pipeline.judge import WakePhrase
from voiced.pipeline.overspeech import SpeechOverReply
from voiced.pipeline.speculation import Speculation
from voiced.pipeline.stages import Prefetcher
from voiced.pipeline.timeline import TurnTimeline
from voiced.pipeline.turns import TurnRunner
from voiced.pipeline.utterances import BargeIn, Ended, Gone, Outcome, Utterance, Utterances
from voiced.protocol import events as ev
from voiced.protocol.reports import ErrorReport, LogRecord
from voiced.speak.earcons import EarconName
from voiced.wake.detector import WakeDetection, WakeDetector

if TYPE_CHECKING:
    from voiced.pipeline.aec import EchoState
    from voiced.pipeline.host import Host as Daemon

log = logging.getLogger(__name__)

REOPEN_S = (1.0, 10.0)
"""First and longest wait before the microphone is opened again after it failed."""


@dataclass
class PipelineParts:
    """The pipeline's stages, built by :mod:`voiced.pipeline.assemble` (or a test)."""

    source: Callable[[], FrameSource]
    """A new frame source for each (re)opening of the microphone."""
    segmenter: Callable[[], Segmenter]
    hearing: Hearing
    turns: TurnRunner
    prefetcher: Prefetcher | None
    set_chat_model: Callable[[str], None]
    reconfigure: Callable[[Settings], None]
    """Hands reloaded settings to the stages built outside the pipeline."""
    addressing: Addressing
    """Wake mode's privacy rule: which utterances may be sent."""
    wake: Callable[[WakeSettings], WakeDetector]
    """A new wake-word detector for ``[wake]`` settings."""
    earcon: Callable[[EarconName], None]
    """Plays an earcon ("listening" after the wake word alone)."""
    replay: bool = False
    """The source is a file: the pipeline ends after it (and the last turn)."""
    echo_cancelled: bool = False
    echo: EchoState | None = None
    """The echo choice and, with the in-process canceller, how well it works now (it decides
    over ``echo_cancelled`` when given)."""
    monotonic: Callable[[], float] = time.monotonic
    """The clock of the wake window (replay mode: the input's, as every other time is)."""


class Pipeline:
    """The daemon's engine (see :class:`voiced.daemon.engine.Engine`).

    Args:
        parts: The stages.
        daemon: Owner of the bus, the state machine, the controls and the settings.
    """

    def __init__(self, parts: PipelineParts, daemon: Daemon) -> None:
        self.parts, self.daemon = parts, daemon
        self.hearing, self.turns = parts.hearing, parts.turns
        self.clock = parts.hearing.clock
        self.segmenter = parts.segmenter()
        self.addressing = parts.addressing
        self.detector = parts.wake(daemon.settings.wake)
        self.states = parts.turns.hooks.states
        self.utterances = Utterances(
            daemon,
            parts.hearing,
            parts.turns,
            parts.prefetcher,
            self._cancelled,
            parts.addressing,
            self.detector.model.phrase,
            residual=parts.echo.residual if parts.echo is not None else lambda ms: False,
            user_onset=parts.echo.user_onset if parts.echo is not None else lambda at: at,
        )
        parts.hearing.alone = self._alone
        self.gate = True
        self.turn_count = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._order = asyncio.Lock()
        self._deaf = False
        self.over = SpeechOverReply(self.states, parts.turns)
        self._concluding: dict[int, asyncio.Task[None]] = {}
        """The conclusion (transcript, judgement, turn start) of each ended utterance, by
        number, while it runs: a rejoin cancels it."""
        self._answers: int | None = None
        """The number of the utterance the turn started last answers (None: typed)."""
        self._hold: ReplyHold | None = None
        """The hold on the first audio of that turn's reply while its question sounds
        unfinished and its speaker may still go on (``[daemon] rejoin_hold``)."""

    @property
    def upcoming_turn(self) -> int:
        """The turn requests made now belong to: the one in progress, else the next."""
        return self.turn_count if self.turns.active else self.turn_count + 1

    # -- the Engine protocol ---------------------------------------------------------------

    async def run(self) -> None:
        """Listen and answer; with a replayed file, until it and its last turn are over."""
        wait = REOPEN_S[0]
        try:
            while True:
                try:
                    await self._listen(self.parts.source())
                    wait = REOPEN_S[0]
                except AudioDeviceError as exc:
                    self._let_go(at_once=True)  # no speech can rejoin over the gap
                    self.daemon.publish(
                        ErrorReport(code="microphone", message=exc.message, hint=exc.hint)
                    )
                    self.states.microphone_failed()
                    await asyncio.sleep(wait)
                    wait = min(wait * 2, REOPEN_S[1])
                    continue
                if self.parts.replay:
                    break
            self._act(self.utterances.handle(self.segmenter.flush()))
            self._let_go()
            while self._tasks or self.turns.active:
                await asyncio.gather(*self._tasks, self.turns.wait())
        finally:
            await self._shutdown()

    def set_gate(self, open_: bool, flush: bool = True) -> None:
        """Open or close the microphone; closing ends (flush) or drops the utterance."""
        was, self.gate = self.gate, open_
        if open_ and not was:
            self.detector.reset()  # it heard nothing meanwhile: no stale audio
        if was and not open_:
            self.addressing.forget()
            events = self.segmenter.flush()
            if flush:
                self._act(self.utterances.handle(events))
            else:
                self.utterances.drop()
                self.over.play_on("the microphone closed")
            self._let_go()  # nothing heard now can rejoin the question

    async def cancel(self) -> bool:
        """Stop speaking and drop what is in progress."""
        had = self.utterances.drop()
        self.addressing.forget()
        return await self.turns.stop("cancelled") or had

    async def submit_text(self, text: str) -> None:
        """Answer a typed message (in the background)."""
        await self.turns.stop("cancelled")
        self.turn_count += 1
        self._answers = None
        transcript = ev.Transcript(turn=self.turn_count, text=text, accepted=True, source="typed")
        self.daemon.publish(transcript)
        self.turns.start(text, TurnTimeline(self.turn_count, self.clock, None))

    def awake(self) -> bool:
        """Whether a follow-up needs no wake phrase right now."""
        return self.hearing.wake.awake()

    def answer(self, call_id: str, approve: bool) -> bool:
        """Resolve a tool confirmation."""
        return self.hearing.broker.answer(call_id, approve)

    def set_model(self, kind: Literal["chat", "stt"], model: str) -> None:
        """Use another model from the next request."""
        if kind == "chat":
            self.parts.set_chat_model(model)
        else:
            self.hearing.transcriber.model = model

    def apply_settings(self, settings: Settings) -> None:
        """Take reloaded settings; what is being heard now is dropped.

        Raises:
            ConfigError: The wake word's model fails verification; nothing was changed.
        """
        detector = self.parts.wake(settings.wake)  # first: a bad model changes nothing
        self.parts.segmenter = lambda: Segmenter(settings.daemon_listen, turn_in_background=True)
        self.segmenter = self.parts.segmenter()
        self.utterances.drop()
        self.hearing.filter = TranscriptFilter(settings.listen)
        self.hearing.wake = WakePhrase(
            settings.daemon.wake_phrase, settings.daemon.wake_window_s, self.parts.monotonic
        )
        self.addressing.wait_s = settings.wake.wait_s
        self.addressing.follow_up_s = settings.daemon.wake_window_s
        self.detector = detector
        self.utterances.phrase = self.detector.model.phrase
        self.parts.reconfigure(settings)

    def settled(self) -> bool:
        """Whether nothing is under way that runs in real time: nothing is being heard (the
        segmenter has nothing open), no utterance is transcribed or judged, no turn runs and
        no confirmation waits. (What is playing is the output's to say.)"""
        return (
            self.segmenter.idle
            and self.utterances.current is None
            and not self._tasks
            and not self.turns.active
            and not self.hearing.broker.pending
        )

    # -- frames ------------------------------------------------------------------------------

    async def _listen(self, source: FrameSource) -> None:
        try:
            async for frame in source.frames():
                self._frame(frame)
                source.wait_below(self.segmenter.quiet_below_db)
                source.listen_closely(self.turns.active)
        finally:
            await source.aclose()

    def _frame(self, frame: Frame) -> None:
        self._hear(frame)
        self._let_go()

    def _hear(self, frame: Frame) -> None:
        self.clock.observe(frame)
        self.states.microphone_back()
        if not self.gate:
            return
        controls = self.daemon.controls
        self.addressing.mode, self.addressing.ptt = controls.mode, controls.ptt
        busy = self.turns.active and not self.hearing.broker.pending
        if busy and not self.daemon.settings.daemon.barge_in:
            if not self._deaf:  # half-duplex: forget what was heard, hear nothing while busy
                self._deaf = True
                self.segmenter.flush()
                self.utterances.drop()
            self._listen_for_wake_word(frame, None)  # but for the wake word, which stops it
            return
        self._deaf = False
        if (early := self.utterances.early_transcript()) is not None:
            self.segmenter.transcribed(*early)  # the pause's transcript may end a question
        events = self.segmenter.feed(frame)
        rejoin: tuple[Utterance, bool] | None = None
        for i, event in enumerate(events):
            if isinstance(event, heard.SpeechStarted) and event.joined is not None:
                events[i], rejoin = self._rejoin(event)
        self._act(self.utterances.handle(events))
        if rejoin is not None:
            self._rejoined(*rejoin)
        self._listen_for_wake_word(frame, self.segmenter.quiet_below_db)
        barge = self.utterances.check_barge_in(frame)
        if barge is not None:
            self._act([barge])

    def _rejoin(
        self, event: heard.SpeechStarted
    ) -> tuple[heard.SpeechStarted, tuple[Utterance, bool] | None]:
        """Speech rejoins the utterance that just ended (its speaker went on after a thinking
        pause the turn model heard as the end): keep the rejoin while nothing of the first
        part's answer was heard — or, with the echo cancelled (the speech is the user's, not
        voiced's own echo), if at most ``rejoin_heard_ms`` of its reply had played when the
        speech began — else make the speech a new utterance (``Segmenter.detach``).

        Returns:
            The event to hand on (``joined`` cleared when refused) and, when kept, the
            utterance rejoined with whether its turn is withdrawn at once (no reply audio
            heard yet) rather than once the speech passes the barge-in bar.
        """
        last = self.utterances.last
        keep: bool | None = None  # None: refuse; else withdraw at once?
        if last is not None and last.start == event.joined and last.addressed is not None:
            task = self._concluding.get(last.number)
            answering = self._answers == last.number and self.turns.active
            heard_ms = self.turns.heard_ms() if answering else None
            if last.barge and not last.interrupted:
                keep = None  # it was let go as too short to interrupt a reply
            elif answering and self.turns.acted:
                keep = None  # it asked for a tool: what was done stays on the record
            elif task is not None and not task.done():
                keep = True  # still being transcribed: no turn yet
            elif answering and heard_ms is None:
                keep = True  # its turn has not said a word yet
            elif answering and heard_ms is not None:
                # what played before the speaker went on (the onset was found after it)
                before = heard_ms - (event.at - event.onset) * 1000 // SAMPLE_RATE
                limit = self.daemon.settings.daemon.rejoin_heard_ms
                keep = False if self._cancelled() and before <= limit else None
            elif self._answers != last.number:
                keep = True  # nothing was answered for it (e.g. no words in it): join
        if keep is None or last is None:
            self.segmenter.detach()
            return replace(event, joined=None), None
        return event, (last, keep)

    def _let_go(self, at_once: bool = False) -> None:
        """Release the held reply once speech can no longer rejoin its question (or at once),
        and say how long it waited; a hold whose turn is over is dropped."""
        hold = self._hold
        answering = hold is not None and self._answers == hold.number and self.turns.active
        if hold is None or (answering and not at_once and self.segmenter.rejoinable(hold.start)):
            return
        self._hold = None
        waited = hold.release()
        if answering:
            message = f"reply held {waited} ms: the question sounds unfinished ({hold.why})"
            log.info(message)
            self.daemon.publish(LogRecord(level="info", message=message))

    def _rejoined(self, last: Utterance, at_once: bool) -> None:
        """The utterance just opened rejoins ``last``: its conclusion is cancelled, and its
        turn withdrawn at once, or (its reply is playing) once the speech is heard as the
        user's over it."""
        current = self.utterances.current
        assert current is not None
        task = self._concluding.pop(last.number, None)
        if task is not None and not task.done():
            task.cancel()
            if self.parts.prefetcher is not None:
                self.parts.prefetcher.discard()
        if last.speculation is not None:
            last.speculation.cancel()
        answering = self._answers == last.number and self.turns.active
        log.info(
            "the speaker went on after a pause: utterance %d rejoins %d",
            current.number,
            last.number,
        )
        if self._hold is not None and self._hold.number == last.number:
            self._hold = None  # its turn is withdrawn: not a word of the reply is let out
        if not at_once:
            current.withdraws = last.number
        elif answering:
            current.barge = False  # no word of the reply went out: it is not speech over one
            self._spawn(self._withdraw(last.number))

    async def _withdraw(self, number: int) -> None:
        """Withdraw the turn answering utterance ``number``, if it still runs: stopped, and
        nothing of it kept in the history (what its speaker went on to say is asked whole)."""
        async with self._order:
            if self._answers != number or not self.turns.active:
                return
            self._answers = None
            await self._withdraw_turn()

    async def _withdraw_turn(self) -> None:
        """Withdraw the turn in progress (``TurnRunner.withdraw``) and, when it was withdrawn
        (it asked for no tool), tell the clients: the log, and ``TurnWithdrawn`` for the
        views of the conversation. Call it holding ``_order``."""
        heard_ms = self.turns.heard_ms() or 0
        turn = self.turn_count
        if not await self.turns.withdraw():
            log.info("turn %d was not withdrawn: it asked for a tool", turn)
            return
        message = (
            f"turn {turn} withdrawn: the speaker went on after a pause ({heard_ms} ms of its"
            " reply heard); what they said is asked whole"
        )
        log.info(message)
        self.daemon.publish(LogRecord(level="info", message=message))
        self.daemon.publish(ev.TurnWithdrawn(turn=turn, reason="speaker_went_on"))

    def _listen_for_wake_word(self, frame: Frame, quiet_below_db: float | None) -> None:
        if self.addressing.mode != "wake":
            return
        for detection in self.detector.feed(frame, quiet_below_db):
            self._woke(detection)

    def _woke(self, detection: WakeDetection) -> None:
        """The wake word was heard: the utterance holding it is addressed to voiced, and a
        reply in progress stops at once (voiced never says its wake word, so no echo can)."""
        log.info("wake word %s heard (score %.3f)", detection.word, detection.score)
        self.daemon.publish(
            ev.WakeDetected(
                word=detection.word,
                score=round(detection.score, 3),
                at_s=round(detection.end / SAMPLE_RATE, 3),
            )
        )
        self.addressing.heard(detection)
        current = self.utterances.current
        if current is not None and detection.end >= current.start:
            current.addressed, current.wake = "wake_word", detection
            current.interrupted = current.interrupted or current.barge
        if self.turns.active and not self.hearing.broker.pending:
            self.over.was_the_user()
            self._spawn(self._barge_in())

    def _alone(self) -> None:
        """The wake word alone: listen for the question for ``[wake] wait_s``."""
        log.info("the wake word alone: waiting for the question")
        self.addressing.alone()
        self.parts.earcon("listening")

    # -- turns -------------------------------------------------------------------------------

    def _act(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            match outcome:
                case Ended(event=event, utterance=utterance):
                    self._ended(event, utterance)
                case Gone(utterance=utterance):
                    self._dropped(utterance)
                case BargeIn(utterance=utterance, at_once=at_once):
                    self._barge(utterance, at_once)

    def _ended(self, ended: heard.SpeechEnded, utterance: Utterance | None) -> None:
        addressed = utterance.addressed if utterance else None
        if addressed is None:
            addressed = self.addressing.at_start(ended.start, ended.onset)
        if addressed is None:  # wake mode's privacy rule: not a word of it leaves
            heard_s = ended.speech_duration
            message = f"{heard_s:.1f} s of speech not addressed to voiced (no wake word): not sent"
            self.daemon.publish(LogRecord(level="info", message=message))
            self._settle("not addressed")
            return
        wake = utterance.wake if utterance else None
        if wake is not None and ended.offset <= wake.end and self.hearing.wake.phrase is None:
            reason = "the wake word alone: listening"  # nothing said after it, so none sent
            self.daemon.publish(ev.Transcript(turn=0, text="", accepted=False, reason=reason))
            self._alone()
            self._settle("the wake word alone")
            return
        self.states.speech_ended()
        speculation = utterance.speculation if utterance else None
        timeline = TurnTimeline(0, self.clock, ended.offset, speculative=speculation is not None)
        timeline.mark("end_confirmed", at=ended.at)
        overlapped = utterance.overlapped if utterance else False
        number = utterance.number if utterance else None
        woke = utterance.woke(self.detector.model.phrase) if utterance else None
        follows = self.addressing.mode == "wake" and addressed in ("after_wake_word", "follow_up")
        withdraws = utterance.withdraws if utterance else None
        conclusion = self._conclude(
            ended, speculation, timeline, overlapped, number, woke, follows, withdraws
        )
        task = self._spawn(conclusion)
        if number is not None:
            self._concluding[number] = task
            task.add_done_callback(lambda _: self._concluding.pop(number, None))

    async def _conclude(
        self,
        ended: heard.SpeechEnded,
        speculation: Speculation | None,
        timeline: TurnTimeline,
        overlapped: bool,
        number: int | None = None,
        woke: WakeHeard | None = None,
        follows_wake: bool = False,
        withdraws: int | None = None,
    ) -> None:
        question = await self.hearing.conclude(
            ended, speculation, timeline, overlapped, woke, follows_wake
        )
        async with self._order:
            over = self.over.concerns(number)
            if question is None:
                if speculation is not None and self.parts.prefetcher is not None:
                    self.parts.prefetcher.discard()
                if over:
                    why = "not a question for voiced (its own echo, or noise)"
                    self.over.was_not_the_user(self.turn_count, why)
                self._settle("nothing to answer")
                return
            if over:
                self.over.was_the_user()
            if withdraws is not None and withdraws == self._answers and self.turns.active:
                await self._withdraw_turn()  # it rejoined the question that turn answers
            await self.turns.stop("barge_in" if over else "cancelled")
            self.turn_count += 1
            self._answers = number
            timeline.turn = self.turn_count
            asked = speculation.asked if speculation is not None else None
            # the moment the early request stated: a minute turning over between the two
            # would make the turn's request differ from it, and the reply be asked again
            at = asked.at if asked is not None and asked.text == question.text else None
            timeline.speculative = at is not None
            transcript = ev.Transcript(turn=self.turn_count, text=question.text, accepted=True)
            self.daemon.publish(transcript)
            self._hold = self._hold_for(ended, number, question.text)
            self.turns.start(question.text, timeline, at, self._hold.wait if self._hold else None)

    def _hold_for(
        self, ended: heard.SpeechEnded, number: int | None, text: str
    ) -> ReplyHold | None:
        """The hold on the reply to ``text`` (``hold_for``), with ``[daemon] rejoin_hold``."""
        if not self.daemon.settings.daemon.rejoin_hold:
            return None
        return hold_for(ended, number, text, self.segmenter, self.clock.now)

    def _cancelled(self) -> bool:
        """Whether the microphone hears none of voiced now."""
        echo = self.parts.echo
        return echo.cancelled() if echo is not None else self.parts.echo_cancelled

    def _barge(self, utterance: Utterance, at_once: bool) -> None:
        if at_once and utterance.withdraws is not None:
            self._spawn(self._withdraw(utterance.withdraws))  # it rejoined that question
        elif at_once:
            self._spawn(self._barge_in())
        else:  # it may be voiced hearing itself: the transcript decides
            self.over.began(utterance.number, self.turn_count)

    def _dropped(self, utterance: Utterance | None) -> None:
        if utterance is not None and self.over.concerns(utterance.number):
            self.over.was_not_the_user(self.turn_count, "the speech over it was dropped")
        self._settle("speech dropped")

    async def _barge_in(self) -> None:
        log.info("barge-in: the user spoke over the reply")
        await self.turns.stop("barge_in")
        self.states.barged_in(hearing=self.utterances.current is not None)

    def _settle(self, reason: str) -> None:
        others = self._tasks - {asyncio.current_task()}
        busy = self.turns.active or self.utterances.current is not None or bool(others)
        self.states.settle(reason, busy)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("pipeline task failed", exc_info=error)
            message = f"{type(error).__name__}: {error}"
            self.daemon.publish(ErrorReport(code="internal", message=message))
            self._settle("error")

    async def _shutdown(self) -> None:
        self.utterances.drop()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.turns.stop("cancelled")
