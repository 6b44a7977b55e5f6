"""A would-be utterance waiting for the second stage: judged, rested on, confirmed or dropped."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE
from voiced.config import ListenSettings
from voiced.listen.confirm import CHECK_MS, MAX_REST_MS, QUIET_RESET_MS, Backoff, SpeechConfirmer
from voiced.listen.events import Dropped
from voiced.listen.utterance import Heard, Utterance
from voiced.listen.vad import loudest_span, mean_level_db

CONFIRM_CONTEXT_MS = 320
"""Audio before the onset the second stage hears first, to settle its state."""
PENDING_LOOKBACK_MS = MAX_REST_MS + CHECK_MS + 1000
"""How long a candidate may wait for the second stage and keep its onset: long enough that
speech starting as Silero begins its longest rest is still held when the next check
confirms it."""
STALE_ONSET_MS = 300
"""An onset more than this before the first chunk Silero judged as speech is moved up to it."""


def samples_in(ms: float) -> int:
    """Samples in ``ms`` milliseconds of audio."""
    return round(ms * SAMPLE_RATE / 1000)


def frames_in(ms: float) -> int:
    """Whole frames nearest to ``ms`` milliseconds of audio, at least one."""
    return max(1, round(ms * SAMPLE_RATE / 1000 / FRAME_SAMPLES))


@dataclass(frozen=True, slots=True)
class Confirmed:
    """The second stage heard speech in the candidate: open the utterance."""

    onset: int
    """Where its speech begins, on the input clock (moved up past a stale first-stage onset)."""


class Candidate:
    """The second stage's side of a candidate, from the first stage's onset to a verdict.

    The first stage opens a candidate; Silero then judges it in checks of ``CHECK_MS`` that
    begin with ``CONFIRM_CONTEXT_MS`` of audio before it. A check that hears no speech makes
    Silero rest (``confirm.Backoff``) so background sound costs little; when a later check
    confirms, everything since the last failed check is judged again to find where speech
    began while Silero rested.

    It reads the Segmenter's start window and history (the same deques, appended to before
    each call) and never changes them. Positions are in samples on the input's clock.

    Args:
        settings: preroll_ms and start_window_ms.
        confirmer: The second stage.
        window: The frames of the start window, oldest first.
        history: The frames held for lookback, oldest first.
    """

    def __init__(
        self,
        settings: ListenSettings,
        confirmer: SpeechConfirmer,
        window: Sequence[Heard],
        history: Sequence[Heard],
    ) -> None:
        self._confirmer = confirmer
        self._window = window
        self._history = history
        self._preroll = samples_in(settings.preroll_ms)
        self._stale = samples_in(STALE_ONSET_MS)
        self._context = samples_in(CONFIRM_CONTEXT_MS)
        self._window_span_frames = frames_in(settings.start_window_ms)
        self._window_span = self._window_span_frames * FRAME_SAMPLES
        self._check = samples_in(CHECK_MS)
        self._quiet_reset = samples_in(QUIET_RESET_MS)
        self._backoff = Backoff()
        self.reset()

    def reset(self) -> None:
        """Forget the candidate and the background: the next one is judged at once."""
        self._onset = 0
        self._since = 0
        self._checking = False
        """Whether the second stage is judging (else it rests)."""
        self._check_end = 0
        self._rejudge_from: int | None = None
        """Where to look for the onset again when a check after a rest confirms speech."""
        self._last_voiced = 0
        self._backoff.reset()

    def hear(self, heard: Heard) -> None:
        """Note a frame heard while no utterance is open: a long quiet ends the background."""
        if heard.voiced:
            self._last_voiced = heard.end
        elif heard.end - self._last_voiced >= self._quiet_reset:
            self._backoff.reset()

    def start(self, onset: int, heard: Heard) -> Confirmed | None:
        """Take a new candidate whose speech the first stage places at ``onset``.

        Silero judges it at once, unless it is resting after background sound this is no
        louder than. Returns ``Confirmed`` if it already heard speech, else None (pending).
        """
        self._onset = onset
        self._checking = False
        self._rejudge_from = None
        if self._backoff.resting(heard.end, self._loudness()):
            self._rejudge_from = onset - self._context
            return None
        return self._start_check(onset - self._context, heard)

    def step(self, heard: Heard) -> Confirmed | Dropped | None:
        """The pending candidate goes on by ``heard``: did this frame confirm or reject it?

        Returns ``Confirmed``, ``Dropped`` once the start window holds no voiced frame, or
        None while it stays pending (judged, given up on for a while, or judged again).
        """
        if not any(f.voiced for f in self._window):
            return self.reject(heard.end)
        self._onset = max(self._onset, self._history[0].start + self._preroll)
        if not self._checking:
            loudness = self._loudness() if heard.voiced else -math.inf
            if not self._backoff.resting(heard.end, loudness):
                return self._start_check(heard.end - FRAME_SAMPLES - self._context, heard, True)
        elif self._confirmer.more(heard.samples):
            return self._confirmed(heard.end)
        elif heard.end >= self._check_end:
            self._fail_check(heard.end)
        return None

    def reject(self, at: int) -> Dropped:
        """Give up on the pending candidate at ``at`` (its window went quiet, or input ended)."""
        if self._checking:
            self._fail_check(at)
            best = self._confirmer.best
            reason = f"the second stage heard no speech (best probability {best:.2f})"
        else:
            reason = "the second stage was resting after background sound it heard no speech in"
        return Dropped(at, self._onset, at, reason, started=False)

    def _start_check(self, since: int, heard: Heard, after_rest: bool = False) -> Confirmed | None:
        """Let the second stage judge the candidate from ``since`` (its context) to now."""
        since = max(since, self._history[0].start)
        self._since = since
        self._checking = True
        self._check_end = heard.end + self._check
        context = Utterance(since, since, self._heard_since(since))
        # After a rest the model keeps the state this background left in it: fresh starts
        # inside music now and then scored it as speech.
        judge = self._confirmer.resume if after_rest else self._confirmer.begin
        if judge(context.audio(heard.end)):
            return self._confirmed(heard.end)
        return None

    def _fail_check(self, at: int) -> None:
        """The check heard no speech: the second stage rests; what it judged was not speech."""
        judged = self._heard_since(self._since - self._window_span)
        self._backoff.failed(
            at, loudest_span([f.level_db for f in judged], self._window_span_frames)
        )
        self._checking = False
        self._rejudge_from = at - self._context

    def _confirmed(self, at: int) -> Confirmed:
        """Speech: after a rest, first find where it began; the background episode is over."""
        first = self._first_speech()
        if self._rejudge_from is not None:
            since = max(self._rejudge_from, self._history[0].start)
            if since < self._since:
                # Speech may have begun while Silero rested: judge everything since the last
                # failed check once more, from the start, to find its first speech.
                self._since = since
                self._confirmer.begin(Utterance(since, since, self._heard_since(since)).audio(at))
                again = self._first_speech()
                first = again if again is not None else first
        self._backoff.reset()
        onset = self._onset
        if first is not None:
            # After a long wait (music, noise) the first stage's onset is stale: start
            # shortly before the first chunk the second stage heard as speech.
            onset = max(onset, first - self._stale)
        return Confirmed(onset)

    def _first_speech(self) -> int | None:
        """Where the second stage first heard speech in its current run, on the input clock."""
        first = self._confirmer.first_speech
        return None if first is None else self._since + first

    def _loudness(self) -> float:
        """Level of the start window's audio (its mean power), dBFS."""
        return mean_level_db([f.level_db for f in self._window])

    def _heard_since(self, since: int) -> list[Heard]:
        return [f for f in self._history if f.end > since]
