"""Wake mode's privacy rule: which utterances were addressed to voiced, and so may leave.

In wake mode nothing heard is sent anywhere unless the utterance was addressed to voiced:

- the wake word was heard in it (its pre-roll included);
- it began within ``[wake] wait_s`` after the wake word alone;
- it began within ``[daemon] wake_window_s`` after voiced's last reply (a follow-up);
- push-to-talk was held.

Everything else is heard only by the wake word and the segmenter, on this machine. In
"always" and "push_to_talk" modes every utterance the microphone lets through counts as
addressed (as the user chose). Positions are samples on the input's clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Literal

from voiced.audio.frames import SAMPLE_RATE
from voiced.wake.detector import WakeDetection

AddressedBy = Literal["wake_word", "after_wake_word", "follow_up", "push_to_talk", "always"]
"""Why an utterance may be sent: see the module's docstring."""

RECENT = 4
"""Detections remembered for utterances that open after them."""


class Addressing:
    """Keeps the wake word's detections and the windows they open.

    Args:
        now: The input clock's current sample.
        wait_s: After the wake word alone, how long the question may take to begin.
        follow_up_s: After a reply, how long a follow-up needs no wake word.
    """

    def __init__(self, now: Callable[[], int], wait_s: float, follow_up_s: float) -> None:
        self.now, self.wait_s, self.follow_up_s = now, wait_s, follow_up_s
        self.mode: Literal["wake", "always", "push_to_talk"] = "wake"
        self.ptt = False
        """Push-to-talk is held."""
        self._detections: deque[WakeDetection] = deque(maxlen=RECENT)
        self._wait_until = -1
        """After the wake word alone: an utterance beginning before this was asked for."""
        self._follow_until = -1
        """After a reply: an utterance beginning before this is a follow-up."""

    def heard(self, detection: WakeDetection) -> None:
        """The wake word was detected."""
        self._detections.append(detection)

    def at_start(self, start: int, onset: int) -> AddressedBy | None:
        """Whether an utterance that opens now is addressed already, and why.

        Args:
            start: Its first sample (the pre-roll included).
            onset: Where its voice began.
        """
        if self.mode == "always":
            return "always"
        if self.ptt or self.mode == "push_to_talk":
            return "push_to_talk"
        if self.detection_in(start) is not None:
            return "wake_word"
        if onset <= self._wait_until:
            self._wait_until = -1  # one question per wake word
            return "after_wake_word"
        if onset <= self._follow_until:
            return "follow_up"
        return None

    def detection_in(self, start: int) -> WakeDetection | None:
        """The latest detection that ended at or after ``start`` (within an utterance that
        began there), if any."""
        found = [d for d in self._detections if d.end >= start]
        return found[-1] if found else None

    def alone(self) -> None:
        """The wake word was said alone: wait ``wait_s`` for the question."""
        self._wait_until = self.now() + round(self.wait_s * SAMPLE_RATE)

    @property
    def waiting(self) -> bool:
        """Whether the wake word alone was heard and its question may still begin."""
        return self.now() <= self._wait_until

    def replied(self) -> None:
        """Voiced finished a reply: follow-ups need no wake word for ``follow_up_s``."""
        self._follow_until = self.now() + round(self.follow_up_s * SAMPLE_RATE)

    def forget(self) -> None:
        """Close every window and forget the detections (the user muted or cancelled)."""
        self._detections.clear()
        self._wait_until = self._follow_until = -1
