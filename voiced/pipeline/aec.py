"""Whether speech over a reply is the user's at once: how voiced keeps from hearing itself.

An echo-cancelled microphone never hears voiced; with the in-process canceller
(:mod:`voiced.audio.echo`) it is so while the canceller keeps the echo down (its ERLE). Then
speech over a reply stops it after ``[daemon] barge_in_min_ms``; otherwise the reply is held
until the transcript says whose voice it was (:mod:`~voiced.pipeline.overspeech`). Speech
from which the canceller took out most of what the microphone heard is what is left of voiced's
own echo (the user's voice it leaves alone): that never counts as barge-in. The ERLE of
each reply goes in its timeline event; a reply whose echo stayed loud is said in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from voiced.audio.doubletalk import NearEnd
from voiced.audio.echo import REMOVED_DB, EchoMeter
from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE
from voiced.pipeline.ends import EchoChoice
from voiced.protocol.events import Event
from voiced.protocol.reports import LogRecord

log = logging.getLogger(__name__)

JUDGED_FRAMES = 30
"""A reply is judged poor or good on at least this many frames (0.9 s) that held its echo."""


class EchoState:
    """The echo choice and, with the canceller on, how well it works.

    Args:
        choice: What was decided at the start.
        meter: The canceller's measure, or None when it is off.
        min_erle_db: ``[audio] echo_min_erle_db``.
        publish: Where the log lines for the clients go.
        near_end: The canceller's double-talk detector (dates the user's speech over a
            reply from the raw microphone), or None.
    """

    def __init__(
        self,
        choice: EchoChoice,
        meter: EchoMeter | None,
        min_erle_db: float,
        publish: Callable[[Event], None],
        near_end: NearEnd | None = None,
    ) -> None:
        self.choice, self.meter, self.min_erle_db = choice, meter, min_erle_db
        self.publish, self.near_end = publish, near_end
        self.last_erle_db: float | None = None
        """The echo reduction over the last reply that held enough of its echo."""
        self.poor = False
        """The last judged reply's echo stayed loud (said once, until it is good again)."""

    def cancelled(self) -> bool:
        """Whether the microphone hears none of voiced's voice now (speech is the user's)."""
        if self.choice.external:
            return True
        return self.meter is not None and self.meter.trusted(self.min_erle_db)

    def user_onset(self, onset: int) -> int:
        """When the user began the speech the segmenter found at ``onset`` in the cleaned
        signal: over a loud echo the canceller hides its first ~140 ms, which the raw
        microphone shows above the echo its far end predicts (``onset`` itself otherwise)."""
        return onset if self.near_end is None else self.near_end.onset(onset)

    def residual(self, ms: int) -> bool:
        """Whether the speech heard over the last ``ms`` is voiced's own echo, what is left of
        it: the canceller took out at least ``REMOVED_DB`` of it (the user's voice it would
        not take out)."""
        if self.meter is None:
            return False
        return (
            self.meter.removed_db(max(1, ms * SAMPLE_RATE // 1000 // FRAME_SAMPLES)) >= REMOVED_DB
        )

    def reply_began(self) -> None:
        """A reply's first audio went out: its ERLE counts from here."""
        if self.meter is not None:
            self.meter.begin_reply()

    def reply_ended(self) -> float | None:
        """The reply is over: its ERLE (None without the canceller, or when the microphone
        heard too little of it), judged against the minimum."""
        if self.meter is None:
            return None
        erle = self.meter.reply_db()
        if erle is None:
            return None
        self.last_erle_db = erle
        if self.meter.reply_frames() >= JUDGED_FRAMES:
            self._judge(erle)
        return erle

    def describe(self) -> str:
        """The choice and the last ERLE, on one line (``status``, the TUI, doctor)."""
        text = self.choice.describe()
        if self.last_erle_db is not None:
            text += f"; ERLE {self.last_erle_db:.1f} dB over the last reply"
            if self.poor:
                text += " (poor: speech over a reply is held until its transcript)"
        return text

    def _judge(self, erle: float) -> None:
        if erle < self.min_erle_db and not self.poor:
            self.poor = True
            message = (
                f"echo cancellation is not keeping voiced's voice out of the microphone (ERLE "
                f"{erle:.1f} dB over the last reply, under {self.min_erle_db:g}): does the sound "
                "go out another device than voiced plays to? Speech over a reply is held until "
                "its transcript says whose voice it was"
            )
            log.warning("%s", message)
            self.publish(LogRecord(level="warning", message=message))
        elif erle >= self.min_erle_db and self.poor:
            self.poor = False
            message = f"echo cancellation works again (ERLE {erle:.1f} dB over the last reply)"
            log.info("%s", message)
            self.publish(LogRecord(level="info", message=message))
