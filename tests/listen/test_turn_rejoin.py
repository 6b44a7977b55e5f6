"""A thinking pause taken for the end: speech that goes on soon after rejoins the utterance."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.audio.speech import RATE, Scene
from tests.listen.harness import answered, frames, run
from tests.listen.realscenes import background, espeak_halves, with_pause
from tests.listen.scenes import lay_out
from tests.listen.test_turn import Scripted
from voiced.config import ListenSettings
from voiced.listen import Event, Segmenter, SpeechEnded, SpeechStarted

DEFAULTS = ListenSettings()
SURE = 0.95
"""A turn model sure every pause ends the turn: each thinking pause is taken for the end."""


def paused(pause_s: float, music_db: float | None = None) -> Scene:
    """ "I was wondering whether … you could turn on the kitchen lights." with a pause, in
    silence or over music on hold ``music_db`` below the speech."""
    first, rest = espeak_halves()[0]
    parts: list[object] = [0.8, [with_pause(first, rest, pause_s)], 2.5]
    if music_db is None:
        return lay_out("pause", parts)  # type: ignore[arg-type]
    seconds = 0.8 + (first.size + rest.size) / RATE + pause_s + 3.5
    bed = background("music", seconds, 1)
    return lay_out("pause", parts, bed, music_db)  # type: ignore[arg-type]


def events(scene: Scene, settings: ListenSettings = DEFAULTS) -> list[Event]:
    return run(Segmenter(settings, turn_model=Scripted(SURE)), scene.audio)


def test_speech_that_goes_on_within_turn_rejoin_ms_of_an_early_end_rejoins_it_whole() -> None:
    scene = paused(0.9)
    heard = events(scene)
    ends = [e for e in heard if isinstance(e, SpeechEnded)]
    starts = [e for e in heard if isinstance(e, SpeechStarted)]

    assert len(ends) == len(starts) == 2
    early, whole = ends
    assert early.reason == "silence" and early.turn is not None
    assert early.turn.verdict == "complete"  # ended on the model's word, in the pause
    (onset, offset) = scene.utterances[0]
    assert early.offset < offset - 0.9 * RATE
    assert starts[1].joined == early.start and starts[1].onset > early.end
    # One utterance again: from the first part's start, every sample up to its end.
    assert whole.start == early.start and whole.onset == early.onset
    assert whole.offset >= offset - 0.01 * RATE
    np.testing.assert_array_equal(whole.audio, scene.audio[whole.start : whole.end])
    assert answered(heard) == [whole]


def test_speech_after_a_longer_pause_than_turn_rejoin_ms_is_a_new_utterance() -> None:
    heard = events(paused(1.3))
    ends = [e for e in heard if isinstance(e, SpeechEnded)]

    assert len(ends) == 2
    assert all(e.joined is None for e in heard if isinstance(e, SpeechStarted))
    assert answered(heard) == ends


def test_a_pause_filled_with_music_is_never_rejoined() -> None:
    # Music under the words that Silero is now and then sure of would otherwise rejoin an
    # utterance and hold it open into the next one (tests/listen/test_real_voices.py).
    heard = events(paused(0.9, music_db=15.0))

    assert all(e.joined is None for e in heard if isinstance(e, SpeechStarted))


def test_with_turn_rejoin_ms_0_an_early_end_stands() -> None:
    heard = events(paused(0.9), replace(DEFAULTS, turn_rejoin_ms=0))

    assert all(e.joined is None for e in heard if isinstance(e, SpeechStarted))
    assert len(answered(heard)) == 2


def test_without_the_turn_model_nothing_rejoins() -> None:
    fixed = replace(DEFAULTS, turn_model=False)
    heard = run(Segmenter(fixed), paused(0.9).audio)

    assert all(e.joined is None for e in heard if isinstance(e, SpeechStarted))
    assert len(answered(heard)) == 2


def test_a_rejoin_detached_is_a_new_utterance_from_its_own_start() -> None:
    scene = paused(0.9)
    segmenter = Segmenter(DEFAULTS, turn_model=Scripted(SURE))
    heard: list[Event] = []
    for frame in frames(scene.audio):
        new = segmenter.feed(frame)
        if any(isinstance(e, SpeechStarted) and e.joined is not None for e in new):
            segmenter.detach()  # in the daemon: the first part's reply was heard
        heard += new
    heard += segmenter.flush()
    early, second = (e for e in heard if isinstance(e, SpeechEnded))
    rejoin = next(e for e in heard if isinstance(e, SpeechStarted) and e.joined is not None)

    assert second.start == rejoin.start > early.end and second.onset == rejoin.onset
    np.testing.assert_array_equal(second.audio, scene.audio[second.start : second.end])


def test_detach_changes_nothing_of_an_utterance_that_is_no_rejoin() -> None:
    scene = paused(1.3)
    segmenter = Segmenter(DEFAULTS, turn_model=Scripted(SURE))
    heard: list[Event] = []
    for frame in frames(scene.audio):
        new = segmenter.feed(frame)
        if any(isinstance(e, SpeechStarted) for e in new):
            segmenter.detach()
        heard += new
    heard += segmenter.flush()

    expected = events(scene)
    assert [(type(e), e.at) for e in heard] == [(type(e), e.at) for e in expected]


@pytest.mark.parametrize(
    ("pause_s", "rejoins"), [(0.9, True), (1.0, True), (1.02, False), (1.3, False)]
)
def test_an_early_end_is_rejoinable_until_speech_can_no_longer_rejoin_it(
    pause_s: float, rejoins: bool
) -> None:
    """``rejoinable`` (which holds the reply to a question that sounds unfinished) stays true
    from the early end until the speech that rejoins it opens, or, when none does, until
    ``turn_rejoin_ms`` of silence has passed; then it stays false. Speech that begins inside
    the window opens after it (here 30–130 ms after): the reply is held until then."""
    scene = paused(pause_s)
    segmenter = Segmenter(DEFAULTS, turn_model=Scripted(SURE))
    early: SpeechEnded | None = None
    said: list[tuple[int, bool]] = []  # (frame end, rejoinable) from the early end on
    joined_at: int | None = None
    for frame in frames(scene.audio):
        for event in segmenter.feed(frame):
            if isinstance(event, SpeechEnded) and early is None:
                early = event
            if isinstance(event, SpeechStarted) and event.joined is not None:
                joined_at = event.at
        if early is not None:
            said.append((frame.start + frame.samples.size, segmenter.rejoinable(early.start)))
    assert early is not None

    first_false = next(i for i, (_, ok) in enumerate(said) if not ok)
    assert not any(ok for _, ok in said[first_false:]), "once false, it stays false"
    released_at = said[first_false][0]
    window = early.offset + ms(DEFAULTS.turn_rejoin_ms)
    assert (joined_at is not None) is rejoins
    if joined_at is not None:
        assert released_at == joined_at > window, "held until the speech rejoined it"
    else:
        assert window < released_at <= window + ms(30), "let go as the window closed"


def ms(value: float) -> int:
    return round(value * RATE / 1000)
