"""Speech over a reply on a microphone without echo cancellation: it may be voiced's own voice.

The reply is held (silent at once, nothing lost) until the utterance's transcript says whose
voice it was: voiced's own words, noise or a dropped utterance let the reply play on from the
start of the cut word; anything else stops it as a barge-in. A reply heard back once is not
held again (holding on every echo would make it stutter): later speech over it is judged by
its transcript while it plays on.
"""

from __future__ import annotations

import logging

from voiced.pipeline.states import PipelineState
from voiced.pipeline.turns import TurnRunner

log = logging.getLogger(__name__)


class SpeechOverReply:
    """Tracks the utterance that spoke over the reply until its transcript is judged.

    Args:
        states: Moves the daemon's state (held, playing on).
        turns: Holds and releases the reply.
    """

    def __init__(self, states: PipelineState, turns: TurnRunner) -> None:
        self.states, self.turns = states, turns
        self._over: int | None = None
        """The utterance that spoke over the reply, until its transcript says whose it was."""
        self._echoed_turn: int | None = None
        """The turn whose reply was heard back by the microphone (not held again)."""

    def began(self, utterance: int, turn: int) -> None:
        """Utterance ``utterance`` has spoken over the reply of ``turn`` long enough to count."""
        self._over = utterance
        if self._echoed_turn == turn:
            log.info("speech over the reply, which echoes: it plays on until the transcript")
        elif self.turns.hold():  # the user hears it stop at once
            log.info("speech over the reply: holding it until the transcript says whose it is")
            self.states.held()

    def concerns(self, utterance: int | None) -> bool:
        """Whether ``utterance`` is the one that spoke over the reply."""
        return utterance is not None and utterance == self._over

    def was_the_user(self) -> None:
        """Its transcript is a question: the caller stops the reply as a barge-in."""
        self._over = None

    def was_not_the_user(self, turn: int, why: str) -> None:
        """Its transcript is not a question (voiced's own words, noise) or it was dropped: the
        reply plays on, and is not held again."""
        self._echoed_turn = turn
        self.play_on(why)

    def play_on(self, why: str) -> None:
        """Let a held reply play on (also when the microphone closes)."""
        self._over = None
        if not self.turns.release():
            return
        log.info("playing the held reply on: %s", why)
        if self.turns.active:
            self.states.played_on(why)
