"""Judging transcripts: voiced's own voice, the wake phrase and its follow-up window."""

from __future__ import annotations

from voiced.pipeline.approval import yes_or_no
from voiced.pipeline.judge import (
    ECHO_MAX_CHUNKS,
    ECHO_MAX_WORDS,
    ECHO_WINDOW_S,
    EchoGuard,
    WakePhrase,
)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_transcript_of_what_voiced_just_said_is_an_echo() -> None:
    clock = FakeClock()
    guard = EchoGuard(clock)
    guard.said("The weather tomorrow will be sunny,")
    guard.said("with a high of twenty degrees.")
    assert guard.is_echo("will be sunny with a high")
    assert guard.is_echo("Sunny, with a high of twenty degrees!")
    assert not guard.is_echo("what about the weekend")
    assert not guard.is_echo("sunny")  # one word is never enough to call it an echo


def test_what_voiced_said_is_forgotten_after_a_while() -> None:
    clock = FakeClock()
    guard = EchoGuard(clock)
    guard.said("It is three o'clock.")
    clock.now += 60
    assert not guard.is_echo("it is three o'clock")


def test_the_user_repeating_a_few_of_voiceds_words_in_a_new_request_is_not_an_echo() -> None:
    guard = EchoGuard(FakeClock())
    guard.said("I set a timer for ten minutes.")
    assert not guard.is_echo("cancel the timer and set an alarm for seven tomorrow")


def test_without_a_wake_phrase_everything_is_admitted() -> None:
    wake = WakePhrase(None, 30)
    assert wake.awake()
    assert wake.admit("what time is it").text == "what time is it"


def test_the_wake_phrase_is_required_then_a_window_follows() -> None:
    clock = FakeClock()
    wake = WakePhrase("hey voiced", 30, clock)
    refused = wake.admit("What time is it?")
    assert refused.text is None and "no wake phrase" in refused.reason
    admitted = wake.admit("Hey, Voiced! What time is it?")
    assert admitted.text == "What time is it?" and admitted.woke
    clock.now += 10
    assert wake.admit("And the date?").text == "And the date?"  # a follow-up in the window
    clock.now += 31
    assert wake.admit("And the weather?").text is None


def test_the_wake_phrase_alone_opens_the_window_and_asks_nothing() -> None:
    wake = WakePhrase("hey voiced", 30, FakeClock())
    alone = wake.admit("Hey voiced.")
    assert alone.text is None and alone.woke
    assert wake.awake()


def test_looking_does_not_open_the_window() -> None:
    wake = WakePhrase("computer", 30, FakeClock())
    assert wake.admit("computer, lights on", commit=False).text == "lights on"
    assert not wake.awake()


def test_the_wake_phrase_may_follow_a_word_or_two_but_not_come_later() -> None:
    wake = WakePhrase("computer", 30, FakeClock())
    assert wake.admit("okay computer lights on", commit=False).text == "lights on"
    assert wake.admit("turn the lights on computer", commit=False).text is None


def test_spoken_yes_and_no() -> None:
    assert yes_or_no("Yes.") is True
    assert yes_or_no("Go ahead!") is True
    assert yes_or_no("No thanks") is False
    assert yes_or_no("yes but open the other one") is None


def test_echo_memory_is_bounded_by_time_even_when_nothing_is_ever_checked() -> None:
    clock = FakeClock()
    guard = EchoGuard(clock)
    for n in range(10_000):  # a day of speech into an echo-cancelled mic: is_echo never runs
        guard.said(f"chunk number {n} of a long answer.")
        clock.now += 1.0
    chunks, words = guard.remembered
    assert chunks <= ECHO_WINDOW_S + 1 and words <= 7 * (ECHO_WINDOW_S + 1)  # 7 words each


def test_echo_memory_is_bounded_by_count_and_words_when_speech_comes_fast() -> None:
    clock = FakeClock()
    guard = EchoGuard(clock)
    for n in range(5_000):  # all at one instant: the time window alone would keep them all
        guard.said(f"fast chunk {n} with several more words in it.")
    guard.said("word " * 100_000)
    chunks, words = guard.remembered
    assert chunks <= ECHO_MAX_CHUNKS and words <= ECHO_MAX_WORDS
    guard.said("The weather tomorrow will be sunny.")
    assert guard.is_echo("the weather tomorrow will be sunny")  # the newest is always kept
