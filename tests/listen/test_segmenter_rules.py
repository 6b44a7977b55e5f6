"""The segmenter's rules: maximum length, minimum voiced audio, the clock, and its two stages."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.audio.speech import RATE, speak
from tests.listen.harness import count, ended, frames, run
from tests.listen.scenes import (
    LIGHTS,
    REMIND,
    WEATHER,
    lay_out,
    non_speech_scenes,
    speech_over_music,
    speech_scenes,
)
from voiced.audio.frames import FRAME_SAMPLES, Frame
from voiced.config import ListenSettings
from voiced.listen import (
    Dropped,
    Event,
    Level,
    Segmenter,
    SpeechEnded,
    SpeechResumed,
    SpeechStarted,
)
from voiced.listen.confirm import SileroConfirmer, SileroModel

DEFAULTS = ListenSettings()


def test_a_long_utterance_is_cut_at_a_quiet_point_and_goes_on() -> None:
    phrases = [speak(t) for t in (LIGHTS, WEATHER, REMIND)] * 3
    talk: list[np.ndarray | float] = []
    for phrase in phrases:
        talk += [phrase, 0.45]
    scene = lay_out("monologue", [1.0, talk[:-1], 1.5])
    # Fixed timing: the turn model would end each finished sentence at its 450 ms pause.
    settings = replace(DEFAULTS, max_utterance_s=6.0, cut_search_s=3.0, turn_model=False)

    events = run(Segmenter(settings), scene.audio)
    found = ended(events)

    assert len(found) >= 3
    assert [u.reason for u in found] == ["max_length"] * (len(found) - 1) + ["silence"]
    for before, after in zip(found, found[1:], strict=False):
        assert after.start == before.end, "the next part starts where the cut was made"
        cut = before.end
        assert not scene.speech[cut - 160 : cut + 160].any(), f"cut at {cut} is inside a word"
    assert all(u.end - u.start <= 6 * RATE for u in found)
    joined = np.concatenate([u.audio for u in found])
    np.testing.assert_array_equal(joined, scene.audio[found[0].start : found[-1].end])
    starts = [e for e in events if isinstance(e, SpeechStarted)]
    assert [s.start for s in starts[1:]] == [u.end for u in found[:-1]]


def _click_of_speech(ms: int) -> np.ndarray:
    word = speak(WEATHER)
    middle = word.size // 3
    return word[middle : middle + ms * RATE // 1000]


def test_an_utterance_with_too_little_voiced_audio_is_dropped_as_a_click() -> None:
    scene = lay_out("blip", [1.0, [_click_of_speech(200)], 1.5])
    settings = replace(DEFAULTS, confirm_speech=False)

    events = [e for e in run(Segmenter(settings), scene.audio) if not isinstance(e, Level)]

    assert isinstance(events[0], SpeechStarted)
    assert isinstance(events[-1], Dropped) and events[-1].started
    assert "too little voiced audio" in events[-1].reason
    assert not ended(events)


def test_the_same_blip_passes_when_the_minimum_is_lower() -> None:
    scene = lay_out("blip", [1.0, [_click_of_speech(200)], 1.5])
    settings = replace(DEFAULTS, confirm_speech=False, min_voiced_ms=150)

    assert len(ended(run(Segmenter(settings), scene.audio))) == 1


@pytest.mark.slow
def test_the_second_stage_turns_away_what_webrtcvad_and_the_energy_gate_let_through() -> None:
    scenes = non_speech_scenes()
    first_stage_only = replace(DEFAULTS, confirm_speech=False)

    without = sum(
        count(run(Segmenter(first_stage_only), s.audio)).utterances for s in scenes.values()
    )
    with_it = [count(run(Segmenter(DEFAULTS), s.audio)) for s in scenes.values()]

    assert without > 0, "the fixtures no longer show what the second stage is for"
    assert sum(c.utterances for c in with_it) == 0
    assert sum(c.unconfirmed for c in with_it) > 0


def test_with_confirm_end_speech_over_music_ends_when_the_speaker_stops() -> None:
    scene = speech_over_music()
    # Fixed timing: 700 ms after the words (with the turn model an espeak-ng sentence it hears
    # as unfinished waits 2 s; tests/listen/test_real_voices.py has speech over music with it).
    settings = replace(DEFAULTS, confirm_end=True, turn_model=False)

    found = ended(run(Segmenter(settings), scene.audio))

    assert len(found) == 2
    for utterance, (onset, offset) in zip(found, scene.utterances, strict=True):
        assert utterance.start <= onset and utterance.reason == "silence"
        assert scene.held(utterance.start, utterance.end, onset, offset) >= 0.999 * (
            scene.speech_energy(onset, offset)
        )
        assert utterance.onset >= onset - 500 * RATE // 1000, "the music before was taken in"
        assert utterance.at <= offset + 2 * RATE, "the music after kept the utterance open"


def test_end_of_input_closes_the_open_utterance() -> None:
    scene = speech_scenes()["us_160"]
    onset, offset = scene.utterances[1]
    cut = (onset + offset) // 2 // FRAME_SAMPLES * FRAME_SAMPLES

    events = run(Segmenter(DEFAULTS), scene.audio[:cut])
    last = ended(events)[-1]

    assert last.reason == "end_of_input"
    assert last.start <= onset and last.end <= cut
    assert isinstance(events[-1], SpeechEnded)


def test_a_jump_in_the_clock_ends_the_utterance_before_it() -> None:
    scene = speech_scenes()["us_160"]
    onset, offset = scene.utterances[0]
    cut = (onset + offset) // 2 // FRAME_SAMPLES * FRAME_SAMPLES
    segmenter = Segmenter(DEFAULTS)
    events: list[Event] = []
    for frame in frames(scene.audio[:cut]):
        events += segmenter.feed(frame)
    for frame in frames(scene.audio[cut:], start=cut + 10 * RATE):
        events += segmenter.feed(frame)
    events += segmenter.flush()

    found = ended(events)
    assert found[0].reason == "end_of_input" and found[0].end <= cut
    later_onset = scene.utterances[1][0] + 10 * RATE
    assert found[-1].start <= later_onset <= found[-1].onset + 200 * RATE // 1000


def test_frames_that_overlap_or_are_malformed_are_refused() -> None:
    segmenter = Segmenter(DEFAULTS)
    silence = np.zeros(FRAME_SAMPLES, dtype=np.int16)
    segmenter.feed(Frame(silence, 0))

    with pytest.raises(ValueError, match="overlaps"):
        segmenter.feed(Frame(silence, 100))
    with pytest.raises(ValueError, match="int16"):
        segmenter.feed(Frame(silence.astype(np.float32), FRAME_SAMPLES))
    with pytest.raises(ValueError, match="int16"):
        segmenter.feed(Frame(silence[:100], FRAME_SAMPLES))


class _Forced:
    """The real Silero model, with the next chunks' probabilities forced to given values."""

    def __init__(self) -> None:
        self._model = SileroModel()
        self._forced: list[float] = []

    def force(self, probabilities: list[float]) -> None:
        self._forced = list(probabilities)

    def reset(self) -> None:
        self._model.reset()

    def probability(self, chunk: np.ndarray) -> float:
        p = self._model.probability(chunk)
        return self._forced.pop(0) if self._forced else p


def _scored_after_the_words(after_ms: int, scores: list[float]) -> list[tuple[int, int]]:
    """Speech over music (fixed timing), with Silero's chunks from ``after_ms`` past each
    utterance's last word scored ``scores``; returns (upload end, last word) per utterance."""
    scene = speech_over_music()
    settings = replace(DEFAULTS, turn_model=False)
    model = _Forced()
    segmenter = Segmenter(settings, confirmer=SileroConfirmer(settings, model))
    marks = {offset + after_ms * RATE // 1000 for _, offset in scene.utterances}
    events: list[Event] = []
    for frame in frames(scene.audio):
        if any(frame.start <= mark < frame.start + FRAME_SAMPLES for mark in marks):
            model.force(scores)
        events += segmenter.feed(frame)
    found = ended(events + segmenter.flush())
    assert len(found) == len(scene.utterances)
    return [(u.end, offset) for u, (_, offset) in zip(found, scene.utterances, strict=True)]


MUSIC_SCORED = [0.89, 0.84, 0.70, 0.55, 0.63, 0.44, 0.36]
"""How Silero scored music on hold 240 ms after a real prompt's last word, at 10 dB
(bench/turn_segments.py); three chunks in a row at 0.5 resumed the utterance on h-music3."""


@pytest.mark.parametrize(
    "scores", [[0.9], [0.9, 0.9], MUSIC_SCORED], ids=["one", "two", "a run up to 0.89"]
)
def test_music_scored_below_a_strong_chunk_after_a_pause_does_not_move_the_end(
    scores: list[float],
) -> None:
    # Before: any chunk at or above the end threshold (0.35) after a pause resumed the
    # utterance, so its end moved into the music 450 ms after the words.
    for end, offset in _scored_after_the_words(450, scores):
        assert end - offset <= 400 * RATE // 1000, (end - offset) * 1000 // RATE


def test_music_that_goes_on_from_the_words_scored_below_a_strong_chunk_stops_following() -> None:
    # Music straight after the words that Silero scores 0.5-0.9 without a dip (real prompts
    # at 10 dB: 0.88, 0.72, 0.51, 0.78, 0.73, 0.52 ...). Before: the utterance followed it
    # as long as it stayed above the end threshold (here 600 ms).
    for end, offset in _scored_after_the_words(0, [0.8, 0.7] * 10):
        assert end - offset <= 400 * RATE // 1000, (end - offset) * 1000 // RATE


def test_a_strong_chunk_after_a_pause_resumes_the_utterance() -> None:
    # The rule's other side: speech going on after a pause scores 0.95 within five chunks,
    # and the utterance's end follows it.
    for end, offset in _scored_after_the_words(450, [0.7, 0.97, 0.99, 0.99]):
        assert end - offset >= 450 * RATE // 1000, (end - offset) * 1000 // RATE


def test_speech_resuming_after_a_pause_withdraws_the_tentative_end_at_its_first_chunk() -> None:
    # The daemon discards its speculative turn on SpeechResumed: it must come as soon as
    # Silero hears the speech go on (its first chunk above the end threshold), not once it is
    # sure, or the early reply is already asked for (h-music3: 120 ms later, two turns).
    first, rest = speak("Set a timer"), speak("for ten minutes please.")
    scene = lay_out("timer", [0.8, [first, 0.45, rest], 3.5])
    settings = replace(DEFAULTS, tentative_end_ms=200)  # the daemon's speculate_after_ms
    events = run(Segmenter(settings), scene.audio)
    resumed = [e for e in events if isinstance(e, SpeechResumed)]
    onset = round((0.8 + 0.45) * RATE) + first.size
    assert len(ended(events)) == 1
    assert len(resumed) == 1 and resumed[0].at - onset <= 100 * RATE // 1000, resumed
