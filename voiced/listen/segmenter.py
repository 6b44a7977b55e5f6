"""Cuts a stream of frames into utterances: frames in, events out, no I/O and no clocks."""

from __future__ import annotations

import math
from collections import deque
from enum import Enum, auto

from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame
from voiced.config import ListenSettings
from voiced.listen.confirm import (
    CHECK_MS,
    MAX_REST_MS,
    QUIET_RESET_MS,
    Backoff,
    SileroConfirmer,
    SpeechConfirmer,
)
from voiced.listen.events import (
    Dropped,
    EndReason,
    Event,
    SpeechResumed,
    SpeechStarted,
    TentativeEnd,
)
from voiced.listen.levels import LevelMeter
from voiced.listen.utterance import Heard, Utterance
from voiced.listen.vad import (
    EnergyGatedVad,
    FrameClassifier,
    Judgement,
    first_loud,
    last_loud,
    loudest_span,
    mean_level_db,
)

CONFIRM_CONTEXT_MS = 320
"""Audio before the onset the second stage hears first, to settle its state."""
PENDING_LOOKBACK_MS = MAX_REST_MS + CHECK_MS + 1000
"""How long a candidate may wait for the second stage and keep its onset: long enough that
speech starting as Silero begins its longest rest is still held when the next check
confirms it."""
END_THRESHOLD_DROP = 0.15
"""With confirm_end, speech goes on while Silero's probability stays above the threshold less
this (Silero's own hysteresis)."""
STALE_ONSET_MS = 300
"""An onset more than this before the first chunk Silero judged as speech is moved up to it."""
MAX_TRAIL_MS = 300
"""How far past its last voiced frame an utterance's offset may follow audio that stays
above the floor by half the energy margin (weak final consonants in noise)."""


def _samples(ms: float) -> int:
    return round(ms * SAMPLE_RATE / 1000)


def _frames(ms: float) -> int:
    return max(1, round(ms * SAMPLE_RATE / 1000 / FRAME_SAMPLES))


class _State(Enum):
    IDLE = auto()
    PENDING = auto()
    """Enough voiced audio to open, waiting for the second stage (judging or resting)."""
    SPEECH = auto()


class Segmenter:
    """Turns frames into utterance events; a pure component to feed frames in order.

    Building one loads the Silero model (about 80 ms; do it once, off the event loop).
    ``feed`` then costs tens of microseconds a frame, about 2 ms when a candidate first goes
    to the second stage, and up to about 30 ms once when speech is confirmed after the second
    stage rested (it judges the last few seconds again to find the onset).

    Background sound the second stage keeps turning away (music, typing, a TV) is judged in
    short checks with growing rests between them (``confirm.Backoff``), so Silero hears only
    a small share of it; a clear rise in level ends a rest at once.

    Args:
        settings: The ``[listen]`` settings.
        classifier: The first stage; defaults to webrtcvad behind the energy gate.
        confirmer: The second stage; defaults to Silero when ``confirm_speech`` is set.
            Pass one to override the setting.
    """

    def __init__(
        self,
        settings: ListenSettings | None = None,
        classifier: FrameClassifier | None = None,
        confirmer: SpeechConfirmer | None = None,
    ) -> None:
        s = settings or ListenSettings()
        self._settings = s
        self._classifier = classifier or EnergyGatedVad(s)
        if confirmer is None and s.confirm_speech:
            confirmer = SileroConfirmer(s)
        self._confirmer = confirmer
        self._end_confirmer = confirmer if s.confirm_end else None
        self._end_threshold = s.confirm_threshold - END_THRESHOLD_DROP
        self._preroll = _samples(s.preroll_ms)
        self._release_margin = s.energy_margin_db / 2
        self._max_trail = _samples(MAX_TRAIL_MS)
        self._stale = _samples(STALE_ONSET_MS)
        self._context = _samples(CONFIRM_CONTEXT_MS)
        self._window_span_frames = _frames(s.start_window_ms)
        self._window_span = self._window_span_frames * FRAME_SAMPLES
        self._check = _samples(CHECK_MS)
        self._quiet_reset = _samples(QUIET_RESET_MS)
        self._backoff = Backoff()
        self._tail = _samples(s.tentative_end_ms)
        self._hangover = _samples(s.hangover_ms)
        self._min_voiced = _samples(s.min_voiced_ms)
        self._max_length = _samples(s.max_utterance_s * 1000)
        self._cut_search = _samples(s.cut_search_s * 1000)
        self._start_voiced = _frames(s.start_voiced_ms)
        self._window: deque[Heard] = deque(maxlen=_frames(s.start_window_ms))
        lookback = s.preroll_ms + s.start_window_ms + PENDING_LOOKBACK_MS
        self._history: deque[Heard] = deque(maxlen=_frames(lookback))
        self._meter = LevelMeter(_samples(s.level_interval_ms))
        self._reset()

    def _reset(self) -> None:
        self._state = _State.IDLE
        self._window.clear()
        self._history.clear()
        self._utterance: Utterance | None = None
        self._onset = 0
        self._since = 0
        self._tentative = False
        self._voiced_end = 0
        self._last_end = 0
        self._next: int | None = None
        self._checking = False
        """In PENDING: whether the second stage is judging (else it rests)."""
        self._check_end = 0
        self._rejudge_from: int | None = None
        """Where to look for the onset again when a check after a rest confirms speech."""
        self._last_voiced = 0
        self._backoff.reset()

    def feed(self, frame: Frame) -> list[Event]:
        """Judge one frame and return the events it caused, oldest first.

        Frames must follow each other on the input's clock; after a jump (lost audio) any
        open utterance ends as if the input had ended before the jump.

        Raises:
            ValueError: The frame is not ``FRAME_SAMPLES`` int16 samples, or it starts
                before the end of the previous frame.
        """
        samples = frame.samples
        if samples.shape != (FRAME_SAMPLES,) or samples.dtype.name != "int16":
            raise ValueError(f"a frame must be {FRAME_SAMPLES} int16 samples")
        events: list[Event] = []
        if self._next is not None and frame.start != self._next:
            if frame.start < self._next:
                raise ValueError(f"frame at {frame.start} overlaps the previous one")
            events += self.flush()
        self._next = frame.start + FRAME_SAMPLES
        judged = self._classifier.classify(samples)
        voiced = judged.voiced
        if self._state is _State.SPEECH and self._end_confirmer is not None:
            self._end_confirmer.more(samples)
            voiced = voiced and self._end_confirmer.latest >= self._end_threshold
        heard = Heard(samples, frame.start, judged.level_db, voiced)
        self._window.append(heard)
        self._history.append(heard)
        if self._state is _State.SPEECH:
            self._in_speech(heard, judged, events)
        else:
            self._before_speech(heard, judged.threshold_db, events)
        level = self._meter.add(heard, judged.floor_db)
        if level is not None:
            events.append(level)
        return events

    def flush(self) -> list[Event]:
        """End of input: close what is open and forget the past. Returns the events."""
        events: list[Event] = []
        end = self._next if self._next is not None else 0
        if self._state is _State.SPEECH and self._utterance is not None:
            events.append(
                self._finish(end, min(self._utterance.offset + self._tail, end), "end_of_input")
            )
        elif self._state is _State.PENDING:
            events.append(self._reject(end))
        self._reset()
        return events

    def _before_speech(self, heard: Heard, threshold: float, events: list[Event]) -> None:
        if heard.voiced:
            self._last_voiced = heard.end
        elif heard.end - self._last_voiced >= self._quiet_reset:
            self._backoff.reset()
        voiced = [f for f in self._window if f.voiced]
        if self._state is _State.PENDING:
            if not voiced:
                events.append(self._reject(heard.end))
            else:
                self._onset = max(self._onset, self._history[0].start + self._preroll)
                self._pending(heard, events)
            return
        if len(voiced) < self._start_voiced:
            return
        first = voiced[0]
        self._onset = first.start + first_loud(first.samples, threshold)
        if self._confirmer is None:
            self._open(heard.end, events)
            return
        self._state = _State.PENDING
        self._checking = False
        self._rejudge_from = None
        if self._backoff.resting(heard.end, self._loudness()):
            self._rejudge_from = self._onset - self._context
        else:
            self._start_check(self._onset - self._context, heard, events)

    def _pending(self, heard: Heard, events: list[Event]) -> None:
        """A candidate goes on: judge it, give up on it for a while, or resume judging."""
        assert self._confirmer is not None
        if not self._checking:
            loudness = self._loudness() if heard.voiced else -math.inf
            if not self._backoff.resting(heard.end, loudness):
                self._start_check(heard.end - FRAME_SAMPLES - self._context, heard, events, True)
        elif self._confirmer.more(heard.samples):
            self._confirmed(heard.end, events)
        elif heard.end >= self._check_end:
            self._fail_check(heard.end)

    def _start_check(
        self, since: int, heard: Heard, events: list[Event], after_rest: bool = False
    ) -> None:
        """Let the second stage judge the candidate from ``since`` (its context) to now."""
        assert self._confirmer is not None
        since = max(since, self._history[0].start)
        self._since = since
        self._checking = True
        self._check_end = heard.end + self._check
        context = Utterance(since, since, self._heard_since(since))
        # After a rest the model keeps the state this background left in it: fresh starts
        # inside music now and then scored it as speech.
        judge = self._confirmer.resume if after_rest else self._confirmer.begin
        if judge(context.audio(heard.end)):
            self._confirmed(heard.end, events)

    def _fail_check(self, at: int) -> None:
        """The check heard no speech: the second stage rests; what it judged was not speech."""
        judged = self._heard_since(self._since - self._window_span)
        self._backoff.failed(
            at, loudest_span([f.level_db for f in judged], self._window_span_frames)
        )
        self._checking = False
        self._rejudge_from = at - self._context

    def _confirmed(self, at: int, events: list[Event]) -> None:
        """Open the utterance; after a rest, first find where its speech began."""
        first = self._first_speech()
        if self._rejudge_from is not None:
            since = max(self._rejudge_from, self._history[0].start)
            if since < self._since:
                # Speech may have begun while Silero rested: judge everything since the last
                # failed check once more, from the start, to find its first speech.
                assert self._confirmer is not None
                self._since = since
                self._confirmer.begin(Utterance(since, since, self._heard_since(since)).audio(at))
                again = self._first_speech()
                first = again if again is not None else first
        self._backoff.reset()
        self._open(at, events, first)

    def _first_speech(self) -> int | None:
        """Where the second stage first heard speech in its current run, on the input clock."""
        first = self._confirmer.first_speech if self._confirmer is not None else None
        return None if first is None else self._since + first

    def _loudness(self) -> float:
        """Level of the start window's audio (its mean power), dBFS."""
        return mean_level_db([f.level_db for f in self._window])

    def _heard_since(self, since: int) -> list[Heard]:
        return [f for f in self._history if f.end > since]

    def _open(self, at: int, events: list[Event], first: int | None = None) -> None:
        if first is not None:
            # After a long wait (music, noise) the first stage's onset is stale: start
            # shortly before the first chunk the second stage heard as speech.
            self._onset = max(self._onset, first - self._stale)
        start = max(self._onset - self._preroll, self._history[0].start, self._last_end)
        self._utterance = Utterance(start, self._onset, self._heard_since(start))
        voiced = [f for f in self._window if f.voiced]
        self._utterance.offset = voiced[-1].end if voiced else self._onset
        self._state = _State.SPEECH
        self._tentative = False
        self._voiced_end = self._utterance.offset
        events.append(SpeechStarted(at, start, self._onset))

    def _reject(self, at: int) -> Dropped:
        self._state = _State.IDLE
        if self._checking:
            self._fail_check(at)
            best = self._confirmer.best if self._confirmer is not None else 0.0
            reason = f"the second stage heard no speech (best probability {best:.2f})"
        else:
            reason = "the second stage was resting after background sound it heard no speech in"
        return Dropped(at, self._onset, at, reason, started=False)

    def _in_speech(self, heard: Heard, judged: Judgement, events: list[Event]) -> None:
        utterance = self._utterance
        assert utterance is not None
        utterance.add(heard)
        release = max(judged.floor_db + self._release_margin, self._settings.min_level_db)
        if heard.voiced:
            utterance.offset = heard.start + last_loud(heard.samples, release)
            self._voiced_end = heard.end
            if self._tentative:
                self._tentative = False
                events.append(SpeechResumed(heard.end))
        elif (
            utterance.offset > heard.start - FRAME_SAMPLES
            and heard.end - self._voiced_end <= self._max_trail
            and heard.level_db >= release
        ):
            utterance.offset = heard.start + last_loud(heard.samples, release)
        silence = heard.end - utterance.offset
        if silence >= self._hangover:
            events.append(self._finish(heard.end, utterance.offset + self._tail))
        elif silence >= self._tail and not self._tentative:
            self._tentative = True
            end = utterance.offset + self._tail
            events.append(
                TentativeEnd(heard.end, utterance.start, utterance.offset, utterance.audio(end))
            )
        elif heard.end - utterance.start >= self._max_length and not self._tentative:
            self._cut(heard.end, events)

    def _cut(self, at: int, events: list[Event]) -> None:
        utterance = self._utterance
        assert utterance is not None
        cut = utterance.quietest(at - self._cut_search)
        rest = utterance.split(cut)
        utterance.offset = cut
        events.append(self._finish(at, cut, "max_length"))
        self._utterance = rest
        self._state = _State.SPEECH
        events.append(SpeechStarted(at, cut, cut))

    def _finish(self, at: int, end: int, reason: EndReason = "silence") -> Event:
        utterance = self._utterance
        assert utterance is not None
        self._state = _State.IDLE
        self._utterance = None
        self._window.clear()
        self._last_end = end
        return utterance.close(at, end, reason, self._min_voiced)
