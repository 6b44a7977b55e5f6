"""Wake mode's privacy rule, by itself: which utterances count as addressed to voiced."""

from __future__ import annotations

from voiced.pipeline.addressing import Addressing
from voiced.wake.detector import WakeDetection

RATE = 16000


class Clock:
    def __init__(self) -> None:
        self.at = 0

    def __call__(self) -> int:
        return self.at


def detection(end_s: float) -> WakeDetection:
    return WakeDetection(0.97, round((end_s - 0.8) * RATE), round(end_s * RATE), "okay_nabu")


def test_in_wake_mode_nothing_is_addressed_without_the_wake_word() -> None:
    rule = Addressing(Clock(), wait_s=8.0, follow_up_s=30.0)
    assert rule.at_start(0, 10 * RATE) is None


def test_the_other_modes_address_everything_the_microphone_lets_through() -> None:
    rule = Addressing(Clock(), wait_s=8.0, follow_up_s=30.0)
    rule.mode = "always"
    assert rule.at_start(0, RATE) == "always"
    rule.mode = "push_to_talk"
    assert rule.at_start(0, RATE) == "push_to_talk"
    rule.mode, rule.ptt = "wake", True
    assert rule.at_start(0, RATE) == "push_to_talk"


def test_a_detection_addresses_the_utterance_it_ended_in_not_an_earlier_one() -> None:
    rule = Addressing(Clock(), wait_s=8.0, follow_up_s=30.0)
    rule.heard(detection(5.0))
    assert rule.at_start(4 * RATE, round(4.6 * RATE)) == "wake_word"
    assert rule.at_start(6 * RATE, round(6.6 * RATE)) is None


def test_the_wake_word_alone_opens_a_wait_for_one_question() -> None:
    clock = Clock()
    rule = Addressing(clock, wait_s=8.0, follow_up_s=30.0)
    clock.at = 5 * RATE
    rule.alone()
    assert rule.waiting
    assert rule.at_start(12 * RATE, 12 * RATE) == "after_wake_word"
    assert rule.at_start(13 * RATE, 13 * RATE) is None, "one question per wake word"
    rule.alone()
    assert rule.at_start(14 * RATE, 14 * RATE) is None, "the wait has passed"


def test_a_reply_opens_the_follow_up_window_and_forgetting_closes_it() -> None:
    clock = Clock()
    rule = Addressing(clock, wait_s=8.0, follow_up_s=30.0)
    clock.at = 10 * RATE
    rule.replied()
    assert rule.at_start(30 * RATE, 30 * RATE) == "follow_up"
    assert rule.at_start(41 * RATE, 41 * RATE) is None
    rule.replied()
    rule.forget()
    assert rule.at_start(11 * RATE, 11 * RATE) is None
