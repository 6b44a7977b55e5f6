"""The early transcript in the segmenter: a question the turn model held open ends early."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from tests.audio.speech import RATE, Scene
from tests.listen.harness import frames
from tests.listen.realscenes import espeak_halves, prompt_scene, with_pause
from tests.listen.test_turn import SILERO_LAG, Scripted
from voiced.audio.frames import FRAME_SAMPLES
from voiced.config import ListenSettings
from voiced.listen import Event, Level, Segmenter, SpeechEnded, SpeechResumed, TentativeEnd
from voiced.listen.turn import asks, sounds_unfinished

DEFAULTS = ListenSettings()
MS = RATE // 1000
COMPLETE = DEFAULTS.turn_complete_ms * MS
INCOMPLETE = DEFAULTS.turn_incomplete_ms * MS
QUESTION = " What is the weather like in Paris tomorrow morning?"

Say = Callable[[TentativeEnd], "tuple[TentativeEnd, str] | None"]
"""What transcript comes back for a tentative end, and for which pause it is told (None:
none comes back)."""


def hear(
    scene: Scene,
    p: float,
    say: Say,
    delay_ms: int = 300,
    settings: ListenSettings = DEFAULTS,
) -> list[Event]:
    """Feed ``scene`` to a segmenter whose turn model says ``p``, telling it each tentative
    end's transcript (as ``say`` has it) ``delay_ms`` after that end, as the daemon's
    speculative upload would; return the events but levels."""
    segmenter = Segmenter(settings, turn_model=Scripted(p))
    due: list[tuple[int, TentativeEnd, str]] = []
    events: list[Event] = []
    for frame in frames(scene.audio):
        for told in [d for d in due if d[0] <= frame.start]:
            due.remove(told)
            segmenter.transcribed(told[1], told[2])
        for event in segmenter.feed(frame):
            if isinstance(event, TentativeEnd) and (said := say(event)) is not None:
                due.append((event.at + delay_ms * MS, *said))
            if not isinstance(event, Level):
                events.append(event)
    return events + segmenter.flush()


def finals(scene: Scene, p: float) -> list[TentativeEnd]:
    """Each utterance's last tentative end, heard without transcripts (the pause that ends
    it; the segmenter is deterministic, so a second run has the same ones)."""
    events = hear(scene, p, lambda pause: None)
    return [
        e
        for e, after in zip(events, events[1:], strict=False)
        if isinstance(e, TentativeEnd) and isinstance(after, SpeechEnded)
    ]


def question_scene() -> Scene:
    first, rest = espeak_halves()[1]  # "What is the weather like in" "Paris tomorrow morning?"
    return prompt_scene("asked", [np.concatenate([first, rest])], "clean")


def at_its_end(text: str, scene: Scene, p: float) -> Say:
    """``text`` for the final pause of each utterance, nothing for the others."""
    last = {e.at for e in finals(scene, p)}
    return lambda pause: (pause, text) if pause.at in last else None


def test_a_question_the_model_holds_open_ends_after_turn_complete_ms_once_its_transcript_asks() -> (
    None
):
    scene = question_scene()
    (onset, offset) = scene.utterances[0]
    events = hear(scene, 0.01, at_its_end(QUESTION, scene, 0.01))
    (done,) = [e for e in events if isinstance(e, SpeechEnded)]
    last = [e for e in events if isinstance(e, TentativeEnd)][-1]

    assert done.turn is not None and done.turn.verdict == "incomplete"
    assert done.asked
    assert done.offset + COMPLETE <= done.at <= offset + COMPLETE + SILERO_LAG
    np.testing.assert_array_equal(done.audio, last.audio)  # its early transcript is its own
    assert done.start <= onset and done.end >= offset


@pytest.mark.parametrize("p", [0.35, 0.7], ids=["unsure", "finished-less-sure"])
def test_a_question_the_model_is_unsure_of_ends_after_turn_complete_ms_too(p: float) -> None:
    scene = question_scene()
    (_, offset) = scene.utterances[0]
    (done,) = [
        e for e in hear(scene, p, at_its_end(QUESTION, scene, p)) if isinstance(e, SpeechEnded)
    ]

    assert done.asked
    assert done.offset + COMPLETE <= done.at <= offset + COMPLETE + SILERO_LAG


def test_a_transcript_that_comes_after_turn_complete_ms_ends_the_question_at_the_next_frame() -> (
    None
):
    scene = question_scene()
    (_, offset) = scene.utterances[0]
    last = finals(scene, 0.01)[-1]
    events = hear(scene, 0.01, at_its_end(QUESTION, scene, 0.01), delay_ms=700)
    (done,) = [e for e in events if isinstance(e, SpeechEnded)]
    told = last.at + 700 * MS

    assert done.asked
    assert told <= done.at <= told + 2 * FRAME_SAMPLES, "at once: the quiet it asks for has passed"
    assert done.at < offset + INCOMPLETE


@pytest.mark.parametrize(
    "text",
    [" Turn off the lights in the kitchen.", " I was wondering whether", " Is it...", ""],
    ids=["statement", "unfinished", "ellipsis", "nothing"],
)
def test_a_transcript_that_asks_nothing_leaves_the_models_wait(text: str) -> None:
    scene = question_scene()
    (_, offset) = scene.utterances[0]
    (done,) = [
        e for e in hear(scene, 0.01, at_its_end(text, scene, 0.01)) if isinstance(e, SpeechEnded)
    ]

    assert not done.asked
    assert done.offset + INCOMPLETE <= done.at <= offset + INCOMPLETE + SILERO_LAG


def test_with_turn_text_off_a_question_waits_as_the_model_says() -> None:
    scene = question_scene()
    (_, offset) = scene.utterances[0]
    settings = replace(DEFAULTS, turn_text=False)
    events = hear(scene, 0.01, at_its_end(QUESTION, scene, 0.01), settings=settings)
    (done,) = [e for e in events if isinstance(e, SpeechEnded)]

    assert not done.asked
    assert done.offset + INCOMPLETE <= done.at <= offset + INCOMPLETE + SILERO_LAG


def test_a_question_mark_that_comes_after_the_speaker_went_on_ends_nothing() -> None:
    first, rest = espeak_halves()[1]
    scene = prompt_scene("went_on", [with_pause(first, rest, 0.6)], "clean")
    (onset, offset) = scene.utterances[0]
    last = finals(scene, 0.01)[-1]
    # The thinking pause's transcript comes back asking, but 0.9 s late: the speaker went on.

    def late(pause: TentativeEnd) -> tuple[TentativeEnd, str] | None:
        return (pause, " What is the weather like?") if pause.at != last.at else None

    events = hear(scene, 0.01, late, delay_ms=900)
    (done,) = [e for e in events if isinstance(e, SpeechEnded)]

    assert SpeechResumed in [type(e) for e in events]
    assert done.start <= onset and done.end >= offset, "the pause did not split it"
    assert not done.asked
    assert done.offset + INCOMPLETE <= done.at <= offset + INCOMPLETE + SILERO_LAG


def test_the_transcript_of_an_earlier_pause_never_ends_a_later_one() -> None:
    first, rest = espeak_halves()[1]
    scene = prompt_scene("later", [with_pause(first, rest, 0.6)], "clean")
    (onset, offset) = scene.utterances[0]
    pauses = [e for e in hear(scene, 0.01, lambda pause: None) if isinstance(e, TentativeEnd)]
    thinking = [p for p in pauses if p.at < offset - 200 * MS][-1]
    last = pauses[-1]
    # Told at the end's pause, but about the thinking pause (whose upload came back late).
    events = hear(scene, 0.01, lambda pause: (thinking, QUESTION) if pause.at == last.at else None)
    (done,) = [e for e in events if isinstance(e, SpeechEnded)]

    assert not done.asked
    assert done.start <= onset and done.end >= offset
    assert done.offset + INCOMPLETE <= done.at <= offset + INCOMPLETE + SILERO_LAG


def test_the_transcript_of_another_utterance_never_ends_this_one() -> None:
    asked = question_scene().audio
    scene = prompt_scene("two", [asked, asked], "clean")
    first, second = finals(scene, 0.01)
    # The first one's transcript is told again while the second one pauses at its end.
    events = hear(scene, 0.01, lambda pause: (first, QUESTION) if pause.at == second.at else None)
    done = [e for e in events if isinstance(e, SpeechEnded)]
    (_, offset) = scene.utterances[1]

    assert len(done) == 2 and not any(e.asked for e in done)
    assert done[1].offset + INCOMPLETE <= done[1].at <= offset + INCOMPLETE + SILERO_LAG


@pytest.mark.parametrize(
    ("text", "question"),
    [
        (" What time is it?", True),
        ("What time is it? ", True),
        (' He asked, "what time is it?"', True),
        ("今何時ですか？", True),
        (" What time is it.", False),
        (" What time is it?...", False),
        (" Is it? No, it is not.", False),
        (" ?!", False),
        ("", False),
        (" Who did you talk to?", True),
        (" Can you tell me about the?", False),
        (" I was wondering whether?", False),
        (" Is it this or?", False),
    ],
)
def test_a_transcript_asks_only_when_it_ends_in_a_question_mark(text: str, question: bool) -> None:
    assert asks(text) is question


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (" What time is it?", None),
        (" Please try again.", None),
        (" Turn the lights on.", None),  # a particle ends a command
        (" Do you know what day it is?", None),
        ("今何時ですか？", None),
        (" Change to.", 'ends in "to"'),  # Whisper's full stop after half a sentence
        (" Can you tell me about the?", 'ends in "the"'),
        (' Please enter your "', 'ends in "your"'),
        (" I was wondering whether,", 'ends in "whether"'),
        (" Which folder should I save the message to?", 'ends in "to"'),  # a cost: held
        (" Please enter the number", "has no final mark"),
        (" So I was thinking...", "trails off"),
        (" So I was thinking…", "trails off"),
        ("", None),
    ],
)
def test_a_transcript_sounds_unfinished_by_its_last_word_or_a_missing_final_mark(
    text: str, why: str | None
) -> None:
    assert sounds_unfinished(text) == why
