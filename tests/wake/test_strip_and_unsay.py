"""Taking the wake word off a transcript, and keeping it out of what voiced says."""

from __future__ import annotations

import pytest

from voiced.groq.models import Transcription, Word
from voiced.wake.strip import strip_wake_word
from voiced.wake.unsaid import SAID_INSTEAD, unsay_wake_word


def timed(*words: tuple[str, float, float]) -> tuple[Word, ...]:
    return tuple(Word(w, s, e) for w, s, e in words)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Okay Nabu, what time is it?", "what time is it?"),
        ("OK, Naboo. What time is it?", "What time is it?"),
        ("Okay, Na boo, what's the weather?", "what's the weather?"),
        ("Right then. Okay Nabu, set a timer.", "set a timer."),
        ("Okay Nabu.", ""),
        ("Okay nabu what is nabu", "what is nabu"),
    ],
)
def test_the_wake_word_and_what_came_before_it_are_taken_off(text: str, expected: str) -> None:
    assert strip_wake_word(Transcription(text), "Okay Nabu", 1.2) == expected


def test_only_words_heard_before_the_detection_can_be_the_wake_word() -> None:
    words = timed(("Okay", 0.6, 0.9), ("Nabu", 0.9, 1.3), ("ask", 1.5, 1.7), ("Nabu", 1.8, 2.1))
    text = "Okay Nabu, ask Nabu about it."
    assert (
        strip_wake_word(Transcription(text, words=words), "Okay Nabu", 1.5) == "ask Nabu about it."
    )


def test_a_wake_word_whisper_wrote_beyond_recognition_leaves_the_question_whole() -> None:
    words = timed(("Oh", 0.6, 0.8), ("canoe", 0.8, 1.3), ("what", 1.7, 1.9), ("time", 1.9, 2.1))
    text = "Oh canoe, what time?"
    assert strip_wake_word(Transcription(text, words=words), "Okay Nabu", 1.7) == text
    assert strip_wake_word(Transcription(text), "Okay Nabu", 1.7) == text


def test_a_question_that_merely_follows_the_word_loses_none_of_its_words() -> None:
    assert strip_wake_word(Transcription("Okay Nabu what time"), "Okay Nabu", 1.0) == "what time"


@pytest.mark.parametrize(
    ("text", "phrase", "expected"),
    [
        ("Just say Okay Nabu.", "Okay Nabu", f"Just say {SAID_INSTEAD}."),
        ("Say okay, nabu, then ask.", "Okay Nabu", f"Say {SAID_INSTEAD}, then ask."),
        ("Nabu is my name.", "Okay Nabu", f"{SAID_INSTEAD} is my name."),
        ("Alexa, and Alexander.", "Alexa", f"{SAID_INSTEAD}, and Alexander."),
        ("Nothing to change here.", "Hey Mycroft", "Nothing to change here."),
    ],
)
def test_voiced_says_something_else_for_its_wake_word(
    text: str, phrase: str, expected: str
) -> None:
    assert unsay_wake_word(text, phrase) == expected
