"""The state machine allows the moves a turn makes and refuses the rest."""

from __future__ import annotations

import pytest

from voiced.daemon.state import STATES, TRANSITIONS, InvalidTransition, StateMachine
from voiced.protocol import StateChanged


def test_a_spoken_turn_walks_through_every_busy_state_and_reports_each_move() -> None:
    seen: list[StateChanged] = []
    machine = StateMachine(seen.append)
    for state in ("hearing", "transcribing", "thinking", "speaking", "listening"):
        assert machine.to(state, "turn")
    assert [e.state for e in seen] == [
        "hearing",
        "transcribing",
        "thinking",
        "speaking",
        "listening",
    ]
    assert [e.previous for e in seen] == [
        "listening",
        "hearing",
        "transcribing",
        "thinking",
        "speaking",
    ]


def test_moving_to_the_current_state_changes_nothing_and_reports_nothing() -> None:
    seen: list[StateChanged] = []
    machine = StateMachine(seen.append, initial="muted")
    assert machine.to("muted") is False
    assert seen == []


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("listening", "speaking"),
        ("listening", "transcribing"),
        ("muted", "hearing"),
        ("thinking", "transcribing"),
        ("muted", "transcribing"),
    ],
)
def test_impossible_moves_raise_and_leave_the_state_alone(start: str, target: str) -> None:
    machine = StateMachine(initial=start)  # type: ignore[arg-type]
    with pytest.raises(InvalidTransition, match=f"from '{start}' to '{target}'"):
        machine.to(target)  # type: ignore[arg-type]
    assert machine.state == start


def test_every_state_can_fail_and_every_failure_can_recover_or_be_muted() -> None:
    for state in STATES:
        if state != "error":
            assert "error" in TRANSITIONS[state]
    assert {"listening", "muted"} <= TRANSITIONS["error"]


def test_barge_in_moves_from_speaking_straight_to_hearing() -> None:
    machine = StateMachine(initial="speaking")
    assert machine.can("hearing") and machine.to("hearing", "barge-in")
