"""Background sound Silero keeps turning away is judged in short checks with growing rests,
and speech that starts during a rest is still found whole."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.audio.speech import RATE
from tests.listen.harness import count, counted, ended, frames, run
from tests.listen.scenes import long_background, music_with_a_gap, speech_late_in_music
from voiced.config import ListenSettings
from voiced.listen import Event, SpeechStarted
from voiced.listen.confirm import FIRST_REST_MS, MAX_REST_MS, RISE_DB, Backoff

DEFAULTS = ListenSettings()
MS = RATE // 1000


def test_each_failed_check_doubles_the_rest_up_to_the_cap() -> None:
    backoff = Backoff()
    at = 0
    rests = []
    for _ in range(5):
        backoff.failed(at, -30.0)
        rest = next(t for t in range(at, at + 10 * RATE, 10 * MS) if not backoff.resting(t, -60))
        rests.append((rest - at) // MS)
        at = rest

    assert rests == [FIRST_REST_MS, 2 * FIRST_REST_MS, MAX_REST_MS, MAX_REST_MS, MAX_REST_MS]


def test_a_clear_rise_over_the_rejected_sound_ends_the_rest_and_a_reset_forgets_it() -> None:
    backoff = Backoff()
    backoff.failed(0, -30.0)

    assert backoff.resting(RATE // 2, -30.0 + RISE_DB - 0.5)
    assert not backoff.resting(RATE // 2, -30.0 + RISE_DB)
    backoff.reset()
    assert not backoff.resting(RATE // 2, -60.0) and backoff.failures == 0


def test_a_check_woken_by_a_clear_rise_that_hears_no_speech_is_followed_by_one_more() -> None:
    # A speaker's first word over music may leave Silero unsure (a real "Please" scored 0.59,
    # 0.44, 0.41, 0.22): resting then, at the words' own level, lost the rest of the sentence.
    backoff = Backoff()
    backoff.failed(0, -33.0)  # the music
    backoff.failed(RATE // 2, -17.0)  # woken by the first word, at once judged again

    assert not backoff.resting(RATE // 2, -17.0) and backoff.failures == 1
    backoff.failed(RATE, -17.0)  # heard no speech at that level twice: rest as before
    assert backoff.resting(RATE + 2 * FIRST_REST_MS * MS - MS, -17.0)
    assert not backoff.resting(RATE + 2 * FIRST_REST_MS * MS, -17.0)


@pytest.mark.parametrize("name", ["music", "keyboard"])
def test_silero_judges_under_a_fifth_of_long_background_sound(name: str) -> None:
    scene = long_background(name)
    segmenter, model = counted(DEFAULTS)

    events = run(segmenter, scene.audio)

    assert model.share(scene.audio.size) < 0.2, "Silero judged too much of the background"
    assert count(events).utterances == 0


def _hear(settings: ListenSettings, audio: np.ndarray, onset: int) -> tuple[list[Event], float]:
    """Run audio through a counting segmenter; also return the share judged before ``onset``."""
    segmenter, model = counted(settings)
    events: list[Event] = []
    before = 1.0
    for frame in frames(audio):
        if frame.start <= onset < frame.start + frame.samples.size:
            before = model.share(frame.start)
        events += segmenter.feed(frame)
    return events + segmenter.flush(), before


@pytest.mark.parametrize("confirm_end", [False, True])
def test_speech_louder_than_the_music_ends_the_rest_at_once(confirm_end: bool) -> None:
    scene = speech_late_in_music(10, 6.5)
    onset, offset = scene.utterances[0]

    events, before = _hear(replace(DEFAULTS, confirm_end=confirm_end), scene.audio, onset)

    assert before < 0.4, "Silero should have been resting over the music before the speech"
    started = [e for e in events if isinstance(e, SpeechStarted)]
    found = ended(events)
    assert len(started) == len(found) == 1
    assert started[0].at <= onset + 300 * MS, "the rise in level should have woken Silero"
    utterance = found[0]
    assert utterance.start <= onset <= utterance.onset + 300 * MS
    held = scene.held(utterance.start, utterance.end, onset, offset)
    assert held >= 0.999 * scene.speech_energy(onset, offset)


def test_speech_as_loud_as_the_music_is_found_whole_by_a_later_check() -> None:
    scene = speech_late_in_music(0, 6.3)
    onset, offset = scene.utterances[0]

    events, before = _hear(DEFAULTS, scene.audio, onset)

    assert before < 0.4, "Silero should have been resting over the music before the speech"
    started = [e for e in events if isinstance(e, SpeechStarted)]
    assert len(started) == 1
    assert started[0].at >= onset + 2 * RATE, "the scene should test a check after a long rest"
    utterance = ended(events)[0]
    assert utterance.start <= onset, "re-judging the recent past should find the onset"
    assert onset - 500 * MS <= utterance.onset <= onset + 200 * MS
    held = scene.held(utterance.start, utterance.end, onset, offset)
    assert held >= 0.999 * scene.speech_energy(onset, offset)


@pytest.mark.parametrize(("gap_s", "judged_at_once"), [(1.0, False), (2.5, True)])
def test_the_rests_end_after_real_silence(gap_s: float, judged_at_once: bool) -> None:
    scene = music_with_a_gap(gap_s)
    resumes = int((10 + gap_s) * RATE)
    segmenter, model = counted(DEFAULTS)
    judged: dict[int, int] = {}
    for frame in frames(scene.audio):
        segmenter.feed(frame)
        judged[frame.start] = model.chunks
    first = min(t for t in judged if t >= resumes)
    later = max(t for t in judged if t < resumes + RATE)

    assert (judged[later] > judged[first]) is judged_at_once


def test_a_check_after_a_rest_does_not_hear_the_music_cold() -> None:
    # Restarting Silero from a reset state inside this music once scored it as speech.
    scene = music_with_a_gap(0.6)

    events = run(counted(DEFAULTS)[0], scene.audio)

    assert not [e for e in events if isinstance(e, SpeechStarted)]
