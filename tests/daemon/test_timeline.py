"""A turn's latency marks: spoken turns on the input clock, typed ones even with no input."""

from __future__ import annotations

from tests.daemon.test_output import Manual, frame_at
from voiced.audio.frames import FRAME_SAMPLES
from voiced.pipeline.clock import InputClock
from voiced.pipeline.timeline import TurnTimeline


def test_a_typed_turn_without_a_microphone_is_timed_on_the_monotonic_clock() -> None:
    """No input has arrived, so the input clock stands at 0: the marks still count."""
    time = Manual()
    clock = InputClock(time)
    timeline = TurnTimeline(1, clock, None, monotonic=time)
    time.now += 0.3
    timeline.mark("first_token")
    time.now += 0.1
    timeline.mark("first_clause")
    time.now += 0.05
    timeline.mark("first_audio")
    event = timeline.event()
    assert (event.first_token_ms, event.first_clause_ms, event.first_audio_ms) == (
        300.0,
        400.0,
        450.0,
    )
    assert event.speech_end_s is None and event.transcript_ms is None


def test_a_typed_turn_with_a_microphone_is_timed_on_the_input_clock() -> None:
    time = Manual()
    clock = InputClock(time)
    clock.observe(frame_at(16000 - FRAME_SAMPLES))  # the input clock reads 1.0 s
    timeline = TurnTimeline(2, clock, None, monotonic=lambda: 0.0)  # not consulted
    time.now += 0.25
    timeline.mark("first_token")
    assert timeline.marks["first_token"] == 16000 + 4000
    assert timeline.event().first_token_ms == 250.0


def test_a_spoken_turn_counts_from_the_end_of_speech() -> None:
    time = Manual()
    clock = InputClock(time)
    clock.observe(frame_at(32000 - FRAME_SAMPLES))  # 2.0 s
    timeline = TurnTimeline(3, clock, origin=24000)  # the voice stopped at 1.5 s
    timeline.mark("transcript")
    assert timeline.event().transcript_ms == 500.0
    assert timeline.event().speech_end_s == 1.5
