"""A reply held while its speaker may go on: half a sentence is not answered aloud."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from voiced.audio.frames import SAMPLE_RATE
from voiced.listen.events import SpeechEnded
from voiced.listen.segmenter import Segmenter
from voiced.listen.turn import sounds_unfinished


class ReplyHold:
    """The first audio of the turn answering one utterance, held until speech can no longer
    rejoin that utterance (``Segmenter.rejoinable``): if its speaker goes on, the turn is
    withdrawn before a word of it is heard, echo cancellation or not.

    The turn's request and speech go on meanwhile; only playback waits (``wait`` is the
    reply's ``SpokenReply.before_first``).

    Args:
        number: The utterance the turn answers.
        start: Its first sample (how the segmenter knows it).
        why: Why its transcript sounds unfinished ('ends in "to"'), for the log.
        now: The input clock, in samples.
    """

    def __init__(self, number: int, start: int, why: str, now: Callable[[], int]) -> None:
        self.number, self.start, self.why = number, start, why
        self._now = now
        self._open = asyncio.Event()
        self._ready: int | None = None
        """When the reply's first audio was ready and began to wait (input-clock sample)."""

    async def wait(self) -> None:
        """Return once the hold is released (at once after it)."""
        if self._ready is None:
            self._ready = self._now()
        await self._open.wait()

    def release(self) -> int:
        """Let the reply play.

        Returns:
            How long its first audio waited, in ms (0 when none was ready yet).
        """
        self._open.set()
        if self._ready is None:
            return 0
        return round((self._now() - self._ready) * 1000 / SAMPLE_RATE)


def hold_for(
    ended: SpeechEnded, number: int | None, text: str, segmenter: Segmenter, now: Callable[[], int]
) -> ReplyHold | None:
    """The hold for the turn about to answer ``text``, the transcript of the utterance
    ``ended``; None when its reply may play at once.

    It is held while speech may still rejoin the utterance (the turn model ended it before
    ``turn_rejoin_ms`` of silence: finished, or unsure after the hangover) and the transcript
    sounds unfinished (``sounds_unfinished``).
    """
    if number is None or not segmenter.rejoinable(ended.start):
        return None
    why = sounds_unfinished(text)
    return None if why is None else ReplyHold(number, ended.start, why, now)
