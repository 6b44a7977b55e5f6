"""The daemon's state machine: seven states and the only moves allowed between them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import get_args

from voiced.protocol.events import State, StateChanged

log = logging.getLogger(__name__)

STATES: tuple[State, ...] = get_args(State)

_ANY: frozenset[State] = frozenset(STATES)
TRANSITIONS: dict[State, frozenset[State]] = {
    # Idle: speech opens an utterance, a typed message goes straight to thinking.
    "listening": frozenset({"hearing", "thinking", "muted", "error"}),
    # An utterance is open: it ends (transcribing), is dropped (listening) or muted.
    # Speech over a held reply that proves to be voiced's own echo lets it play on (speaking).
    "hearing": frozenset({"listening", "transcribing", "thinking", "speaking", "muted", "error"}),
    # Speech to text: accepted (thinking), rejected (listening), or speech resumed (hearing);
    # a held reply plays on (speaking).
    "transcribing": frozenset({"listening", "hearing", "thinking", "speaking", "muted", "error"}),
    # The model answers: audio starts (speaking), a silent end or a cancel (listening),
    # the user talks over it (hearing).
    "thinking": frozenset({"listening", "hearing", "speaking", "muted", "error"}),
    # Playing the reply: done (listening), barge-in (hearing), a tool round (thinking).
    "speaking": frozenset({"listening", "hearing", "thinking", "muted", "error"}),
    # Microphone off: unmute (listening); a typed message is still answered (thinking).
    "muted": frozenset({"listening", "thinking", "speaking", "error"}),
    # A fault (microphone lost): recovered (listening), or muted by the user.
    "error": _ANY - {"error"},
}
"""For each state, the states it may move to. Moving to the same state is a no-op."""


class InvalidTransition(RuntimeError):
    """A bug: the daemon tried a move the state machine does not allow."""


Listener = Callable[[StateChanged], None]


class StateMachine:
    """Holds the current state and tells a listener about every change.

    Args:
        listener: Called with a ``StateChanged`` event after each change (the bus's publish).
        initial: The state to start in.
    """

    def __init__(self, listener: Listener | None = None, initial: State = "listening") -> None:
        self._state: State = initial
        self._listener = listener

    @property
    def state(self) -> State:
        """The current state."""
        return self._state

    def can(self, target: State) -> bool:
        """Whether the move to ``target`` is allowed from the current state."""
        return target == self._state or target in TRANSITIONS[self._state]

    def to(self, target: State, reason: str = "") -> bool:
        """Move to ``target``.

        Args:
            target: The next state.
            reason: Why, for the event (e.g. "muted by a client").

        Returns:
            True when the state changed, False when it already was ``target``.

        Raises:
            InvalidTransition: The move is not in :data:`TRANSITIONS`.
        """
        previous = self._state
        if target == previous:
            return False
        if target not in TRANSITIONS[previous]:
            raise InvalidTransition(f"no move from {previous!r} to {target!r} ({reason})")
        self._state = target
        log.debug("state %s -> %s %s", previous, target, reason)
        if self._listener is not None:
            self._listener(StateChanged(state=target, previous=previous, reason=reason))
        return True
