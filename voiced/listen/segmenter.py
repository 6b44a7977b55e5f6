"""Cuts a stream of frames into utterances: frames in, events out, no I/O and no clocks."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future
from enum import Enum, auto

import numpy as np

from voiced.audio.frames import FRAME_SAMPLES, Frame
from voiced.config import ListenSettings
from voiced.listen.candidate import (
    PENDING_LOOKBACK_MS,
    Candidate,
    Confirmed,
    frames_in,
    samples_in,
)
from voiced.listen.confirm import SileroConfirmer, SpeechConfirmer
from voiced.listen.events import (
    Dropped,
    EndReason,
    Event,
    SpeechEnded,
    SpeechResumed,
    SpeechStarted,
    TentativeEnd,
    TurnVerdict,
)
from voiced.listen.levels import LevelMeter
from voiced.listen.turn import TurnJudge, asks
from voiced.listen.turnmodel import TurnModel
from voiced.listen.utterance import Heard, Utterance
from voiced.listen.vad import EnergyGatedVad, FrameClassifier, Judgement, first_loud, last_loud

_INT16 = np.dtype(np.int16)
"""Compared with each frame's dtype (``dtype.name`` costs a hundred times more, every frame)."""
END_THRESHOLD_DROP = 0.15
"""With confirm_end, speech goes on while Silero's probability stays above the threshold less
this (Silero's own hysteresis)."""
RESUME_P = 0.95
"""With confirm_end, the Silero probability of a strong chunk: the speech of an open utterance
goes on while chunks above the end threshold follow a strong one closely (GAP_MS, TRAIL_MS);
after a pause only a strong chunk resumes it. Music after the words scores runs of chunks up to
0.89 (bench/turn_segments.py: 0.89, 0.84, 0.70, 0.55, 0.63 at 10 dB, which three chunks in a
row at 0.5 took for speech, running the upload on 600 ms past the words); real speech going on
after a pause reached 0.95 within five chunks in all 139 pauses of the real and espeak-ng
scenes (131 within two)."""
GAP_MS = 100
"""With confirm_end, a dip of Silero's probability below the end threshold shorter than this is
inside the words (Silero's own min_silence_duration_ms): any chunk above the threshold goes on
with the speech. A longer one is a pause."""
TRAIL_MS = 160
"""With confirm_end, how long after the latest strong chunk weaker chunks above the end
threshold still go on with the speech (Silero's own lag at the end of words: 0.98, 0.94, 0.80,
0.46); after that they are a pause too. Music straight after the words scores 0.5–0.9 for
hundreds of ms without falling below the threshold (real prompts at 10 dB: 0.88, 0.72, 0.51,
0.78, 0.73, 0.52, 0.38, 0.64, 0.49), and the upload ran on 550 ms past the words."""
HOLD_MS = 320
"""With confirm_end, how long chunks above the end threshold in a pause hold the utterance's end
open while they may still turn out speech resuming (a strong chunk within 160 ms, for real
speech): music that hovers there cannot keep an utterance open for ever."""
REJOIN_DB = 6.0
"""With turn_rejoin_ms, how much quieter than an utterance's voiced level the loudest frame of
speech that would rejoin it may be. The 23 real sentences that rejoin at a 0.9 s pause
(bench/turn_segments.py): between 9.4 dB louder and 0.1 dB quieter; music Silero was sure of
after a prompt at 15 dB below it: 12.8 dB quieter (it rejoined the prompt, then held the
upload open into the next)."""
REJOIN_LOUDER_DB = 12.0
"""With turn_rejoin_ms, how much louder than an utterance's voiced level the loudest frame of
speech that would rejoin it may be (the real sentences: up to 9.4 dB; a prompt after an
utterance of the music alone before it at 15 dB below the speech: 21 dB)."""
REJOIN_PAUSE_DB = 20.0
"""With turn_rejoin_ms, how far below an utterance's voiced level the pause after it must stay
for speech after it to rejoin it (see ``Segmenter._quiet_pause``): so speech over music or loud
noise never rejoins."""
MAX_TRAIL_MS = 300
"""How far past its last voiced frame an utterance's offset may follow audio that stays
above the floor by half the energy margin (weak final consonants in noise)."""


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
    a small share of it; a clear rise in level ends a rest at once. That second-stage side of
    a candidate lives in ``candidate.Candidate``; the Segmenter asks it for a verdict.

    Args:
        settings: The ``[listen]`` settings.
        classifier: The first stage; defaults to webrtcvad behind the energy gate.
        confirmer: The second stage; defaults to Silero when ``confirm_speech`` is set.
            Pass one to override the setting.
        turn_model: The turn model; defaults to Smart Turn v3.2 when ``turn_model`` is set.
        turn_in_background: Run the turn model on a worker thread and act on its verdict at
            the first frame after it is ready (a live input); by default it judges inside
            ``feed``, so a file gives the same events however fast it is fed.
    """

    def __init__(
        self,
        settings: ListenSettings | None = None,
        classifier: FrameClassifier | None = None,
        confirmer: SpeechConfirmer | None = None,
        turn_model: TurnModel | None = None,
        turn_in_background: bool = False,
    ) -> None:
        s = settings or ListenSettings()
        self._settings = s
        self._classifier = classifier or EnergyGatedVad(s)
        if confirmer is None and s.confirm_speech:
            confirmer = SileroConfirmer(s)
        self._end_confirmer = confirmer if s.confirm_end else None
        self._confirmer = confirmer
        self._turn = TurnJudge(s, turn_model, turn_in_background) if s.turn_model else None
        """Judges pauses with the turn model; None ends every utterance after hangover_ms."""
        self._end_threshold = s.confirm_threshold - END_THRESHOLD_DROP
        self._gap = samples_in(GAP_MS)
        self._trail = samples_in(TRAIL_MS)
        self._hold = samples_in(HOLD_MS)
        self._preroll = samples_in(s.preroll_ms)
        self._release_margin = s.energy_margin_db / 2
        self._max_trail = samples_in(MAX_TRAIL_MS)
        self._tail = samples_in(s.tentative_end_ms)
        self._hangover = samples_in(s.hangover_ms)
        self._min_voiced = samples_in(s.min_voiced_ms)
        self._max_length = samples_in(s.max_utterance_s * 1000)
        self._cut_search = samples_in(s.cut_search_s * 1000)
        self._start_voiced = frames_in(s.start_voiced_ms)
        self._window: deque[Heard] = deque(maxlen=frames_in(s.start_window_ms))
        lookback = s.preroll_ms + s.start_window_ms + PENDING_LOOKBACK_MS
        self._history: deque[Heard] = deque(maxlen=frames_in(lookback))
        self._candidate = (
            Candidate(s, confirmer, self._window, self._history) if confirmer is not None else None
        )
        """The second stage's side of a candidate; None when there is no second stage."""
        self._rejoin = samples_in(s.turn_rejoin_ms) if self._turn is not None else 0
        self._rejoin_keep = self._rejoin + samples_in(lookback)
        """How long after an early end's last word its frames are kept for a rejoin (the
        speech's onset is found up to a lookback after it began)."""
        self._meter = LevelMeter(samples_in(s.level_interval_ms))
        self._threshold: float | None = None
        self._reset()

    @property
    def idle(self) -> bool:
        """Whether nothing is open: no candidate and no utterance."""
        return self._state is _State.IDLE

    @property
    def quiet_below_db(self) -> float | None:
        """The level (dBFS) below which frames may reach ``feed`` late, in batches: the energy
        gate's latest threshold while nothing is open; None while a candidate or utterance is.

        The next frame below it cannot be voiced (it can lower the floor only to itself), and
        later ones only once quieter frames have lowered the floor: batched, they change
        nothing that is found, and at worst a start is seen one batch later."""
        return self._threshold if self._state is _State.IDLE else None

    def _reset(self) -> None:
        self._state = _State.IDLE
        self._ended: Utterance | None = None
        """With turn_rejoin_ms, the utterance that ended on silence last, while speech that
        begins may still rejoin it; its frames go on with ``_after``."""
        self._after: list[Heard] = []
        """The frames heard since ``_ended``'s last one."""
        self._own: tuple[int, int] | None = None
        """The open utterance's own start and onset while it is a rejoin (for ``detach``)."""
        self._undecided: SpeechStarted | None = None
        """The start of the open utterance while it may still rejoin ``_ended`` (``_decide``):
        held back until it is decided."""
        self._joined = False
        """Whether ``_ended`` was itself a rejoin: it is not rejoined again (one thinking pause
        mended a question; a chain would let music glue one prompt to the next)."""
        self._window.clear()
        self._history.clear()
        self._utterance: Utterance | None = None
        self._turn_verdict: TurnVerdict | None = None
        """The turn model's latest verdict on the current pause."""
        self._checks = 0
        """Whether the turn model judged the current pause (once at most)."""
        self._pending: Future[TurnVerdict] | None = None
        """The turn model's judgement of the current pause, until its verdict is acted on."""
        self._speech_end = 0
        """With speech evidence, the end of the last frame Silero heard as speech."""
        self._hearing = True
        """With speech evidence, whether Silero hears the speech go on (no pause since the
        strong chunk that began it)."""
        self._grace = 0
        """With speech evidence, until where (a frame's start) a chunk above the end threshold
        goes on with the speech after Silero's probability fell below it (a dip in the words)."""
        self._maybe_from: int | None = None
        """With speech evidence, where the chunks above the end threshold that may be speech
        resuming after a pause began (None while there are none)."""
        self._strong = 0
        """With speech evidence, where the frame of Silero's latest strong chunk starts."""
        self._maybe_offset = 0
        """Where the loud audio of those chunks stops: the offset if they turn out speech."""
        self._stirred = False
        """With speech evidence, whether the latest frame is loud audio of those chunks."""
        self._resumed = False
        """With speech evidence, whether the latest frame's strong chunk ended a pause."""
        self._end: int | None = None
        """Where the audio of the last tentative end stops (the end the utterance keeps)."""
        self._tentative_at: int | None = None
        """When the pause's tentative end was announced (its ``at``: which one it was); None
        while the pause has none."""
        self._asked = False
        """The early transcript of the pause's tentative end ended in a question mark."""
        self._voiced_end = 0
        self._last_end = 0
        self._next: int | None = None
        if self._candidate is not None:
            self._candidate.reset()

    def feed(self, frame: Frame) -> list[Event]:
        """Judge one frame and return the events it caused, oldest first.

        Frames must follow each other on the input's clock; after a jump (lost audio) any
        open utterance ends as if the input had ended before the jump.

        Raises:
            ValueError: The frame is not ``FRAME_SAMPLES`` int16 samples, or it starts
                before the end of the previous frame.
        """
        samples = frame.samples
        if samples.shape != (FRAME_SAMPLES,) or samples.dtype != _INT16:
            raise ValueError(f"a frame must be {FRAME_SAMPLES} int16 samples")
        events: list[Event] = []
        if self._next is not None and frame.start != self._next:
            if frame.start < self._next:
                raise ValueError(f"frame at {frame.start} overlaps the previous one")
            events += self.flush()
        self._next = frame.start + FRAME_SAMPLES
        judged = self._classifier.classify(samples)
        self._threshold = judged.threshold_db
        voiced = judged.voiced
        speaking = voiced
        if self._state is _State.SPEECH and self._end_confirmer is not None:
            # Speech evidence: Silero says whether speech goes on, not webrtcvad (which needs
            # seconds to learn a room) nor the level (music and TV are loud); the level only
            # places its end inside the frames Silero hears as speech.
            speaking = self._evidence(samples, frame.start, judged)
            voiced = speaking and judged.level_db >= self._release(judged)
        heard = Heard(samples, frame.start, judged.level_db, voiced)
        self._window.append(heard)
        self._history.append(heard)
        if self._ended is not None and self._state is not _State.SPEECH:
            if heard.end - self._ended.offset > self._rejoin_keep:
                self._forget_ended()
            else:
                self._after.append(heard)
        if self._state is _State.SPEECH:
            if self._undecided is not None:
                self._decide(heard.end, events)
            self._in_speech(heard, judged, speaking, events)
        else:
            self._before_speech(heard, judged.threshold_db, events)
        level = self._meter.add(heard, judged.floor_db)
        if level is not None:
            events.append(level)
        return events

    def _evidence(self, samples: np.ndarray, start: int, judged: Judgement) -> bool:
        """Whether Silero hears the speech of an open utterance go on, with hysteresis both
        ways: it goes on while its probability stays above the end threshold (or dips below
        it for at most GAP_MS) and a strong chunk (RESUME_P) came within TRAIL_MS; after a
        pause only a strong chunk resumes it.

        Chunks above the end threshold in a pause may be speech resuming or the music after
        the words (which scores runs of them, up to 0.89): they start ``_maybe_from`` and do
        not move the utterance's end, nor restart the quiet that ends it; for up to HOLD_MS
        they hold it open, while the speech may still be confirmed. Once it is, the
        utterance's offset takes in their loud audio.

        Args:
            samples: The frame.
            start: Where it starts, on the input clock.
            judged: What the first stage made of it.
        """
        confirmer = self._end_confirmer
        assert confirmer is not None
        confirmer.more(samples)
        p = confirmer.latest
        self._resumed = False
        above = p >= self._end_threshold
        if p >= RESUME_P:
            self._strong = start
        if self._hearing and above and start - self._strong > self._trail:
            self._hearing, self._grace = False, start  # weak for too long: a pause, no dip
        elif self._hearing or (above and start <= self._grace):
            self._hearing, self._stirred = above, False
            if not above:
                self._grace = start + self._gap  # a dip until then is inside the words
            return above
        release = self._release(judged)
        self._stirred = above and judged.level_db >= release
        if not above:
            self._maybe_from = None
        elif p >= RESUME_P:
            self._hearing = True
        elif self._maybe_from is None:
            self._maybe_from = start
        if self._stirred:
            self._maybe_offset = start + last_loud(samples, release)
        if self._hearing:
            self._maybe_from, self._stirred, self._resumed = None, False, True
            utterance = self._utterance
            assert utterance is not None
            utterance.offset = max(utterance.offset, self._maybe_offset)
        return self._hearing

    @property
    def _maybe(self) -> bool:
        """Whether chunks that may be speech resuming hold the utterance's end open now."""
        start = self._maybe_from
        return start is not None and self._next is not None and self._next - start <= self._hold

    def flush(self) -> list[Event]:
        """End of input: close what is open and forget the past. Returns the events."""
        events: list[Event] = []
        end = self._next if self._next is not None else 0
        if self._undecided is not None:
            self._decide(end, events, final=True)
        if self._state is _State.SPEECH and self._utterance is not None:
            kept = self._end if self._tentative and self._end is not None else None
            if kept is None:
                kept = min(self._utterance.offset + self._tail, end)
            events.append(self._finish(end, kept, "end_of_input"))
        elif self._state is _State.PENDING and self._candidate is not None:
            events.append(self._candidate.reject(end))
        self._reset()
        return events

    def _before_speech(self, heard: Heard, threshold: float, events: list[Event]) -> None:
        """No utterance is open: open a candidate, or let the second stage judge the one open."""
        candidate = self._candidate
        if candidate is not None:
            candidate.hear(heard)
        if self._state is _State.PENDING:
            assert candidate is not None
            self._verdict(candidate.step(heard), heard.end, events)
            return
        voiced = [f for f in self._window if f.voiced]
        if len(voiced) < self._start_voiced:
            return
        first = voiced[0]
        onset = first.start + first_loud(first.samples, threshold)
        if candidate is None:
            self._open(heard.end, onset, events)
            return
        self._state = _State.PENDING
        self._verdict(candidate.start(onset, heard), heard.end, events)

    def _verdict(self, verdict: Confirmed | Dropped | None, at: int, events: list[Event]) -> None:
        """Act on what the second stage made of the candidate; None leaves it pending."""
        if isinstance(verdict, Confirmed):
            self._open(at, verdict.onset, events)
        elif isinstance(verdict, Dropped):
            self._state = _State.IDLE
            events.append(verdict)

    def _heard_since(self, since: int) -> list[Heard]:
        return [f for f in self._history if f.end > since]

    def _open(self, at: int, onset: int, events: list[Event]) -> None:
        start = max(onset - self._preroll, self._history[0].start, self._last_end)
        ended, joined = self._ended, None
        self._own = None
        may = ended is not None and self._may_rejoin(ended, onset)
        if ended is not None and may and self._strong_start():
            # The speaker went on after a thinking pause heard as the end: one utterance again.
            joined = ended.start
            self._own = (start, onset)
            self._utterance = ended.rejoined(self._after)
        else:
            self._utterance = Utterance(start, onset, self._heard_since(start))
        voiced = [f for f in self._window if f.voiced]
        self._utterance.offset = voiced[-1].end if voiced else onset
        self._state = _State.SPEECH
        self._pause_over()
        self._hearing, self._maybe_from, self._maybe_offset, self._stirred = True, None, 0, False
        self._strong, self._resumed = at, False
        self._voiced_end = self._utterance.offset
        started = SpeechStarted(at, start, onset, joined)
        if may and joined is None:
            self._undecided = started  # not yet heard as surely as a rejoin needs: wait
        else:
            self._forget_ended()
            events.append(started)

    def _decide(self, at: int, events: list[Event], final: bool = False) -> None:
        """Whether the utterance opened while it may rejoin ``_ended`` does: once a chunk
        reaches RESUME_P (``_strong_start``) it rejoins, as if it had opened so; once HOLD_MS
        have passed since its onset without one (or ``final``: it ends) it stays an utterance
        of its own. Until then its SpeechStarted is held back, its pauses are neither judged
        nor sent (a gap between its first words must not decide it), and the earlier
        utterance stays ``rejoinable``.

        Speech resuming inside an utterance gets HOLD_MS after its first chunk above the end
        threshold to reach a strong chunk; speech that would rejoin one is held to the same
        bar, not only to the three or four chunks heard by the time it is confirmed: which
        those are depends on where Silero's 32 ms chunks fall on the first word ("Change to …
        which folder?" with a 0.9 s pause in bench/turn_latency.py: 0.449, 0.925, 0.946, 0.905
        on "which", confirmed 140 ms after its onset; "folder" reached 0.961 at 255 ms).

        Args:
            at: The end of the frame just heard (or of the input): the SpeechStarted's.
            events: Where the SpeechStarted goes, once decided.
            final: The utterance ends or is cut now: decide on what was heard.
        """
        started, ended, utterance = self._undecided, self._ended, self._utterance
        assert started is not None and ended is not None and utterance is not None
        strong = self._strong_start()
        if not strong and not final and at - started.onset <= self._hold:
            return
        self._undecided = None
        if strong:
            joined = ended.rejoined(self._after + utterance.frames_from(self._after_end()))
            joined.offset = utterance.offset
            self._utterance, self._own = joined, (started.start, started.onset)
            started = SpeechStarted(at, started.start, started.onset, ended.start)
        else:
            started = SpeechStarted(at, started.start, started.onset, None)
        self._forget_ended()
        events.append(started)

    def _announce(self, at: int, events: list[Event]) -> Utterance:
        """Before the open utterance ends or is cut: decide whether it rejoins (``_decide``).
        Returns it, rejoined or not."""
        if self._undecided is not None:
            self._decide(at, events, final=True)
        utterance = self._utterance
        assert utterance is not None
        return utterance

    def _after_end(self) -> int:
        """Where the frames kept since ``_ended`` stop (its own end when there are none)."""
        ended = self._ended
        assert ended is not None
        return self._after[-1].end if self._after else ended.end

    def _may_rejoin(self, ended: Utterance, onset: int) -> bool:
        """Whether speech beginning at ``onset`` may rejoin ``ended`` but for how surely the
        second stage heard it (``_strong_start``): not a rejoin itself, within turn_rejoin_ms
        of its last word, about as loud, after a quiet pause."""
        return (
            not self._joined
            and onset - ended.offset <= self._rejoin
            and self._as_loud_as(ended)
            and self._quiet_pause(ended, onset)
        )

    def _strong_start(self) -> bool:
        """Whether the second stage heard the speech of the utterance opening (or just opened)
        as surely as speech that resumes inside an utterance (a chunk at RESUME_P): only that
        rejoins an utterance. Music after the words opens false uploads now and then; those
        must stay apart."""
        return self._confirmer is not None and self._confirmer.best >= RESUME_P

    def _as_loud_as(self, ended: Utterance) -> bool:
        """Whether the speech just confirmed sounds like the speaker of ``ended`` going on:
        its loudest frame so far is at most REJOIN_DB quieter and REJOIN_LOUDER_DB louder than
        that utterance's voiced level. Music or a TV under the words, which Silero may be sure
        of, is quieter than the voice; an utterance of music alone is far quieter than the
        words that follow it."""
        levels = [f.level_db for f in self._window if f.voiced]
        if not levels:
            return False
        return ended.level_db - REJOIN_DB <= max(levels) <= ended.level_db + REJOIN_LOUDER_DB

    def _quiet_pause(self, ended: Utterance, onset: int) -> bool:
        """Whether the pause before ``onset`` was quiet: every frame heard after ``ended``'s
        last word (its own kept tail, then the frames since it ended) before the new speech
        at least REJOIN_PAUSE_DB below its voiced level. A thinking pause is the room's
        quiet; music or a TV that fills it (and that Silero may be sure of now and then) would
        glue one utterance to the next.

        The tail counts: a candidate over music may keep the onset the first stage gave it
        when it opened, right where ``ended`` ended, while the speech Silero confirms comes
        seconds later, so no frame after ``ended`` comes before that onset (real prompts over
        music 10 dB below, tests/listen/test_real_voices.py: music at -32 dB in the tail, the
        bar -40 dB)."""
        heard = ended.frames_from(ended.offset) + self._after
        pause = [f.level_db for f in heard if f.end <= onset]
        return bool(pause) and max(pause) <= ended.level_db - REJOIN_PAUSE_DB

    def rejoinable(self, start: int) -> bool:
        """Whether speech may still rejoin the utterance that began at ``start`` (the last one
        ended on silence, not itself a rejoin): until ``turn_rejoin_ms`` of silence after its
        last word has been heard, and past that while speech that may have begun inside that
        silence can still open (voiced frames from it in the start window, or a candidate the
        second stage is judging; at most as long as the utterance's frames are kept) or, open,
        has not yet been heard surely enough to rejoin it (``_decide``, up to HOLD_MS)."""
        ended = self._ended
        if ended is None or ended.start != start or self._joined or self._next is None:
            return False
        if self._undecided is not None:
            return True  # speech that may rejoin it is open, not yet decided
        if self._next - ended.offset <= self._rejoin or self._state is _State.PENDING:
            return True
        return any(f.voiced and f.start - ended.offset <= self._rejoin for f in self._window)

    def detach(self) -> None:
        """Make the utterance just opened as a rejoin (``SpeechStarted.joined``) a new one,
        from its own start: the earlier utterance's end stands (in the daemon: its reply was
        heard, or may be what the microphone hears). Nothing happens for any other."""
        utterance, own = self._utterance, self._own
        if utterance is None or own is None or self._state is not _State.SPEECH:
            return
        self._own = None
        offset = utterance.offset
        self._utterance = utterance.since(*own)
        self._utterance.offset = offset

    def _forget_ended(self) -> None:
        self._ended = None
        self._after = []
        self._joined = False

    def _pause_over(self) -> None:
        """Speech goes on: forget the pause's tentative end and verdicts."""
        self._turn_verdict = None
        self._checks = 0
        self._pending = None
        self._end = None
        self._tentative_at = None
        self._asked = False

    @property
    def _tentative(self) -> bool:
        """Whether the current pause's utterance so far was announced (a tentative end)."""
        return self._tentative_at is not None

    def transcribed(self, pause: TentativeEnd, text: str) -> None:
        """The early transcript of a tentative end came back (in the daemon, its speculative
        upload's): with the turn model and ``turn_text``, one ending in a question mark ends
        the utterance as a finished turn the model is sure of would (after turn_complete_ms
        of quiet, or at once if that has passed), at the next frame.

        Only for the pause ``pause`` announced, while it lasts: a transcript of another
        utterance, of an earlier pause, or one arriving after speech resumed is ignored.

        Args:
            pause: The tentative end whose audio was transcribed.
            text: The transcript.
        """
        turn, utterance = self._turn, self._utterance
        if turn is None or not turn.text or utterance is None or self._state is not _State.SPEECH:
            return
        if pause.at != self._tentative_at or pause.start != utterance.start:
            return
        self._asked = asks(text)

    def _release(self, judged: Judgement) -> float:
        """The level (dBFS) speech must keep for its end to be placed after it."""
        return max(judged.floor_db + self._release_margin, self._settings.min_level_db)

    def _in_speech(
        self, heard: Heard, judged: Judgement, speaking: bool, events: list[Event]
    ) -> None:
        """Follow an open utterance: its offset, its pauses, the turn model, its end.

        Args:
            heard: The frame; ``voiced`` places the offset and resumes speech.
            judged: What the first stage made of it.
            speaking: With speech evidence, whether Silero still hears speech (its last
                frame gates the end); else the same as ``voiced``.
            events: Where the events go.
        """
        utterance = self._utterance
        assert utterance is not None
        utterance.add(heard)
        release = self._release(judged)
        evidence = self._end_confirmer is not None
        if evidence and speaking:
            self._speech_end = heard.end
        if heard.voiced:
            utterance.offset = heard.start + last_loud(heard.samples, release)
            self._voiced_end = heard.end
        if heard.voiced or self._resumed:
            if self._tentative:
                events.append(SpeechResumed(heard.end))
            self._pause_over()
        elif self._stirred and self._maybe and self._tentative:
            # Maybe speech resuming (not yet sure): the tentative end is withdrawn at once, as
            # for speech; the pause's end and verdict stand until the speech is confirmed.
            events.append(SpeechResumed(heard.end))
            self._tentative_at = None
        elif (
            self._end_confirmer is None
            and utterance.offset > heard.start - FRAME_SAMPLES
            and heard.end - self._voiced_end <= self._max_trail
            and heard.level_db >= release
        ):
            # Without speech evidence a weak final consonant in noise is held by its level.
            utterance.offset = heard.start + last_loud(heard.samples, release)
        if self._maybe:
            return  # held open until it is heard whether the speech resumed
        silence = heard.end - utterance.offset
        quiet = heard.end - max(utterance.offset, self._speech_end)  # what ends it
        turn = self._turn
        if turn is not None:
            self._judge_pause(turn, heard.end, silence, events)
        if quiet >= self._wait():
            self._announce(heard.end, events)
            verdict, asked = self._turn_verdict, self._asked
            events.append(self._finish(heard.end, self._kept_end(), turn=verdict, asked=asked))
        elif silence >= self._tail and not self._tentative and self._undecided is None:
            self._tentative_end(heard.end, utterance.offset + self._tail, events)
        elif heard.end - utterance.start >= self._max_length and not self._tentative:
            self._cut(heard.end, events)

    def _judge_pause(self, turn: TurnJudge, at: int, silence: int, events: list[Event]) -> None:
        """Let the turn model judge the pause once, at its first short silence: a turn that
        sounds finished is sent at once, and the verdict says how much quiet ends the
        utterance (measured from where Silero, too, stops hearing speech).

        The short silence is the level's (turn_check_ms after the last loud frame Silero
        heard as speech), not Silero's own, which lags the words by about 100 ms: every
        millisecond before the judgement delays the reply. A dip inside a word is shorter.
        With turn_send_at_check the utterance so far is also sent then (a tentative end),
        whatever the verdict will be.
        """
        utterance = self._utterance
        assert utterance is not None
        if not self._checks and silence >= turn.check and self._undecided is None:
            self._checks = 1
            self._pending = turn.start(utterance.audio(at))
            if turn.send_at_check and not self._tentative:
                # Sent now, beside the judgement: the model's 30–100 ms are off the reply's
                # critical path. Withdrawn (SpeechResumed) if the speaker goes on.
                self._take_verdict()
                self._tentative_end(at, min(at, utterance.offset + self._tail), events)
        if self._take_verdict() and self._turn_verdict is not None:
            if self._turn_verdict.verdict == "complete" and not self._tentative:
                self._tentative_end(at, min(at, utterance.offset + self._tail), events)

    def _take_verdict(self) -> bool:
        """Take the turn model's verdict on the pause if it is ready; True if it was."""
        pending = self._pending
        if pending is None or not pending.done():
            return False
        self._pending = None
        self._turn_verdict = pending.result()
        return True

    def _wait(self) -> int:
        """The quiet that ends the utterance now: with the turn model, the one its verdict
        asks for; the fixed hangover until there is one (a model too slow to answer on a busy
        machine is never worse than fixed timing); an early transcript that asks a question
        shortens it to a sure finished turn's."""
        turn = self._turn
        if turn is None:
            return self._hangover
        wait = self._hangover if self._turn_verdict is None else turn.wait(self._turn_verdict)
        return min(wait, turn.finished) if self._asked else wait

    def _kept_end(self) -> int:
        """Where the utterance's audio ends: where its tentative end's did."""
        utterance = self._utterance
        assert utterance is not None
        return self._end if self._end is not None else utterance.offset + self._tail

    def _tentative_end(self, at: int, end: int, events: list[Event]) -> None:
        utterance = self._utterance
        assert utterance is not None
        if self._end is not None:
            end = min(end, self._end)  # announced again after a withdrawal: the same audio
        self._tentative_at = at
        self._end = end
        audio = utterance.audio(end)
        verdict = self._turn_verdict
        events.append(TentativeEnd(at, utterance.start, utterance.offset, audio, verdict))

    def _cut(self, at: int, events: list[Event]) -> None:
        utterance = self._announce(at, events)
        cut = utterance.quietest(at - self._cut_search)
        rest = utterance.split(cut)
        utterance.offset = cut
        events.append(self._finish(at, cut, "max_length"))
        self._utterance = rest
        self._state = _State.SPEECH
        self._pause_over()
        events.append(SpeechStarted(at, cut, cut))

    def _finish(
        self,
        at: int,
        end: int,
        reason: EndReason = "silence",
        turn: TurnVerdict | None = None,
        asked: bool = False,
    ) -> Event:
        utterance = self._utterance
        assert utterance is not None
        self._state = _State.IDLE
        self._utterance = None
        self._window.clear()
        self._last_end = end
        joined, self._own = self._own is not None, None
        closed = utterance.close(at, end, reason, self._min_voiced, turn, asked)
        if self._rejoin and reason == "silence" and isinstance(closed, SpeechEnded):
            self._ended, self._after, self._joined = utterance, [], joined
        return closed
