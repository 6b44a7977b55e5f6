"""Judging a transcript before it starts a turn: voiced hearing itself, and the wake phrase."""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from voiced.listen.filter import normalise

ECHO_WINDOW_S = 15.0
"""How long what voiced said is remembered for the echo check."""
ECHO_MAX_CHUNKS = 64
"""At most this many spoken chunks are remembered, however fast they come."""
ECHO_MAX_WORDS = 600
"""At most this many words are remembered (15 s of speech is about 40), the newest kept: the
echo check compares every heard word with each of them."""
ECHO_SHARE = 0.6
"""A transcript is an echo when a run of this share of its words (at least two) is found, in
order, in what voiced just said."""


class EchoGuard:
    """Remembers what voiced said lately, to spot transcripts of its own voice.

    Memory is bounded by time (``ECHO_WINDOW_S``), chunks (``ECHO_MAX_CHUNKS``) and words
    (``ECHO_MAX_WORDS``), pruned as text is noted: with an echo-cancelled microphone nothing
    is ever checked, and voiced may speak all day.

    Args:
        monotonic: Seconds from a monotonic clock.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._said: deque[tuple[float, tuple[str, ...]]] = deque(maxlen=ECHO_MAX_CHUNKS)
        self._words = 0

    def said(self, text: str) -> None:
        """Note text voiced is saying."""
        words = normalise(text)[-ECHO_MAX_WORDS:]
        if words:
            if len(self._said) == self._said.maxlen:
                self._words -= len(self._said[0][1])
            self._said.append((self._monotonic(), words))
            self._words += len(words)
        self._forget()

    @property
    def remembered(self) -> tuple[int, int]:
        """(chunks, words) remembered now."""
        return len(self._said), self._words

    def _forget(self) -> None:
        cutoff = self._monotonic() - ECHO_WINDOW_S
        while self._said and (self._said[0][0] < cutoff or self._words > ECHO_MAX_WORDS):
            self._words -= len(self._said.popleft()[1])

    def is_echo(self, transcript: str, share: float = ECHO_SHARE) -> bool:
        """Whether ``transcript`` is mostly (``share`` of it, at least two words) a run of
        words voiced just said."""
        self._forget()
        heard = normalise(transcript)
        if len(heard) < 2 or not self._said:
            return False
        said = tuple(word for _, words in self._said for word in words)
        return _longest_run(heard, said) >= max(2, share * len(heard))


def _longest_run(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """Length of the longest run of words found, in the same order, in both."""
    best, previous = 0, [0] * (len(b) + 1)
    for word in a:
        current = [0] * (len(b) + 1)
        for j, other in enumerate(b, start=1):
            if word == other:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


@dataclass(frozen=True)
class Admission:
    """What the wake-phrase rule made of a transcript.

    Attributes:
        text: What to answer (the phrase taken off), or None when nothing is to be answered.
        woke: The wake phrase was heard (alone, when ``text`` is None).
        reason: Why nothing is answered, when ``text`` is None and not ``woke``.
    """

    text: str | None
    woke: bool = False
    reason: str = ""


class WakePhrase:
    """An optional phrase that must open a request, then a window where follow-ups need none.

    Args:
        phrase: The wake phrase, or None to answer everything.
        window_s: Seconds after an answer (or the phrase alone) in which no phrase is needed.
        monotonic: Seconds from a monotonic clock.
    """

    def __init__(
        self,
        phrase: str | None,
        window_s: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.phrase, self.window_s = phrase, window_s
        self._monotonic = monotonic
        self._awake_until = float("-inf")
        words = normalise(phrase or "")
        pattern = r"[\W_]+".join(re.escape(w) for w in words)
        # The phrase within the first two words, e.g. "okay, hey voiced, what time is it".
        self._pattern = re.compile(rf"^[\W_]*(?:\w+[\W_]+){{0,2}}?{pattern}\b[\W_]*", re.I)

    def awake(self) -> bool:
        """Whether a request needs no wake phrase right now."""
        return self.phrase is None or self._monotonic() < self._awake_until

    def wake(self) -> None:
        """Open (or extend) the follow-up window from now."""
        self._awake_until = self._monotonic() + self.window_s

    def admit(self, text: str, commit: bool = True) -> Admission:
        """Apply the rule to a transcript.

        Args:
            text: The transcript.
            commit: Open the window when the phrase is heard (False only looks).
        """
        if self.phrase is None:
            return Admission(text)
        match = self._pattern.match(text)
        if match is None:
            if self.awake():
                return Admission(text)
            return Admission(None, reason=f"no wake phrase ({self.phrase!r})")
        if commit:
            self.wake()
        rest = text[match.end() :].strip()
        return Admission(rest or None, woke=True)
