"""The wake-word detector on real espeak-ng speech, through the segmenter's quiet gate."""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio.speech import RATE, music, pink, speak
from tests.listen.harness import frames
from tests.wake.clips import (
    MALE_VOICES,
    MORE_MALE_VOICES,
    OTHER_SPEECH,
    RATES,
    Clip,
    lay_out,
    listen,
    model,
    one_breath,
    over_pink,
    word,
    word_pause_question,
)
from voiced.audio.frames import Frame
from voiced.wake.detector import WakeDetector

VOICES = MALE_VOICES + MORE_MALE_VOICES


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("voice", VOICES)
def test_a_one_breath_question_wakes_it_once(voice: str, rate: int) -> None:
    clip = one_breath("okay_nabu", voice, rate)
    heard = listen(clip)
    assert len(heard.detections) == 1, heard
    found = heard.detections[0]
    start, end = clip.words[0]
    assert found.score > 0.85 and found.word == "okay_nabu"
    assert start - 0.5 * RATE <= found.start <= start + 0.2 * RATE
    assert start + 0.3 * RATE < found.end < end


@pytest.mark.parametrize("voice", ["en-us", "en-gb-x-rp", "en+m3", "en-029"])
def test_the_word_then_a_pause_is_detected_before_the_question(voice: str) -> None:
    clip = word_pause_question("okay_nabu", voice, 175)
    heard = listen(clip)
    assert len(heard.detections) == 1, heard
    found = heard.detections[0]
    start, end = clip.words[0]
    question = end + round(1.5 * RATE)
    assert end <= found.end <= end + 0.5 * RATE < question
    assert start - 0.5 * RATE <= found.start <= start + 0.2 * RATE


@pytest.mark.parametrize("voice", ["en-us", "en-gb", "en+m3", "en-gb-x-rp"])
def test_the_word_is_heard_over_pink_noise_10_db_below_it(voice: str) -> None:
    heard = listen(over_pink("okay_nabu", voice, 175))
    assert len(heard.detections) == 1, heard


@pytest.mark.parametrize("voice", ["en-us", "en-gb", "en-us+f3"])
def test_hey_mycroft_is_heard_too(voice: str) -> None:
    heard = listen(word_pause_question("hey_mycroft", voice, 175), "hey_mycroft")
    assert len(heard.detections) == 1 and heard.detections[0].word == "hey_mycroft"


@pytest.mark.slow
@pytest.mark.parametrize("voice", ["en-us", "en-gb", "en+m3", "en-us+f3", "en-029"])
def test_speech_without_the_wake_word_never_wakes_it(voice: str) -> None:
    parts: list[float | tuple[str, np.ndarray]] = [1.0]
    for text in OTHER_SPEECH:
        parts += [("speech", speak(text, voice, 175)), 1.5]
    clip = lay_out(f"other-{voice}", parts)
    heard = listen(clip)
    assert heard.detections == [], heard
    assert heard.best < 0.85


def test_music_and_noise_never_wake_it() -> None:
    clip = lay_out("beds", [20.0], music(22, 3) + pink(22, 4) * 0.3, snr_db=0.0)
    assert listen(clip).detections == []


def test_the_refractory_period_keeps_one_utterance_from_waking_it_twice() -> None:
    said = word("okay_nabu", "en-us", 175)
    clip = lay_out("twice", [3.0, ("word", said), 0.3, ("word", said), 2.0])
    assert len(listen(clip, refractory_s=2.0).detections) == 1
    # without it, one word already passes the cut-off on several frames in a row
    assert len(listen(clip, refractory_s=0.0).detections) > 2


def test_a_word_after_the_refractory_period_is_detected_again() -> None:
    said = word("okay_nabu", "en-gb", 175)
    clip = lay_out("again", [3.0, ("word", said), 3.0, ("word", said), 2.0])
    found = listen(clip).detections
    assert len(found) == 2
    assert found[1].end - found[0].end > 2 * RATE


def test_a_lower_cutoff_hears_a_voice_the_model_scores_low() -> None:
    clip = one_breath("okay_nabu", "en+f2", 175)
    default = listen(clip)
    assert default.detections == [] and 0.3 < default.best < 0.85
    lowered = listen(clip, cutoff=default.best - 0.05)
    assert len(lowered.detections) == 1


GATE_CLIPS = [
    lambda: one_breath("okay_nabu", "en-us", 175, lead_s=9.0),
    lambda: word_pause_question("okay_nabu", "en-gb", 140),
    lambda: over_pink("okay_nabu", "en+m3", 210),
    lambda: one_breath("okay_nabu", "en-us+f3", 175, lead_s=9.0),
    lambda: lay_out(
        "speech-then-word",
        [8.0, ("speech", speak(OTHER_SPEECH[0], "en-us", 175)), 6.0]
        + [("word", speak("Okay Nabu, what time is it?", "en-us", 175)), 2.0],
    ),
    lambda: lay_out(
        "word-speech-word",
        [8.0, ("word", word("okay_nabu", "en-gb-x-rp", 175)), 7.0]
        + [("speech", speak(OTHER_SPEECH[2], "en-gb-x-rp", 175)), 5.0]
        + [("word", word("okay_nabu", "en-gb-x-rp", 175)), 2.0],
    ),
]


@pytest.mark.parametrize("make", GATE_CLIPS)
@pytest.mark.parametrize("model_name", ["okay_nabu", "hey_mycroft"])
def test_the_quiet_gate_changes_no_detection_and_no_score(make: object, model_name: str) -> None:
    assert callable(make)
    clip: Clip = make()
    gated = listen(clip, model_name, gated=True)
    ungated = listen(clip, model_name, gated=False)
    assert gated.detections == ungated.detections
    # wherever the ungated model heard something, the gated one heard exactly the same
    heard = [i for i, p in enumerate(ungated.trace) if p > 0.05]
    assert [gated.trace[i] for i in heard] == [ungated.trace[i] for i in heard]
    # while it cost less: the model skipped the quiet frames more than 2 s before speech
    assert ungated.inferred == ungated.heard
    assert gated.inferred < ungated.inferred


def test_the_model_does_not_run_on_a_quiet_room() -> None:
    heard = listen(lay_out("room", [20.0]))
    assert heard.heard == round(20.0 * RATE) // 480
    assert heard.inferred == 0


def test_reset_starts_a_new_stream_that_scores_as_a_fresh_detector() -> None:
    clip = one_breath("okay_nabu", "en-us", 175)
    used = WakeDetector(model("okay_nabu"))
    for frame in frames(clip.audio[: 4 * RATE]):
        used.feed(frame)
    used.reset()
    fresh = WakeDetector(model("okay_nabu"))
    for frame in frames(clip.audio):
        assert used.feed(frame) == fresh.feed(frame)
        assert used.probability == fresh.probability


def test_a_frame_that_overlaps_the_previous_one_is_refused() -> None:
    detector = WakeDetector(model("okay_nabu"))
    silence = np.zeros(480, np.int16)
    detector.feed(Frame(silence, 4800))
    with pytest.raises(ValueError, match="overlaps"):
        detector.feed(Frame(silence, 4800))
    with pytest.raises(ValueError, match="480 int16"):
        detector.feed(Frame(np.zeros(160, np.int16), 5280))
