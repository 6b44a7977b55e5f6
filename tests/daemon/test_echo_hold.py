"""Speech over the reply without echo cancellation: the reply is held (silent at once) until
the transcript says whose voice it was; voiced's own echo lets it play on, the user stops it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.audio.speech import speak
from tests.daemon.replaying import LONG_REPLY, RATE, replay, settings_for, transcript
from tests.groqsim import ChatReply, GroqSim
from tests.listen.scenes import lay_out

pytestmark = pytest.mark.realtime

QUESTION = "What time is it?"
ECHO = "sentence after sentence about nothing much at all"
"""What the microphone hears of voiced's own reply (its words, in its order)."""


def silent_span(output: object, start: int, loud: int = 300) -> tuple[int, int]:
    """The first stretch of at least 0.2 s without sound at or after ``start``."""
    import numpy as np

    samples = np.abs(np.asarray(output, dtype=np.int32)[start:]) > loud
    window = int(0.2 * RATE)
    sums = np.concatenate(([0], np.cumsum(samples)))
    quiet = np.flatnonzero(sums[window:] - sums[:-window] == 0)
    assert quiet.size, "the output never falls silent"
    begin = int(quiet[0])
    after = np.flatnonzero(samples[begin:])
    end = begin + int(after[0]) if after.size else samples.size
    return start + begin, start + end


async def test_voiceds_own_echo_holds_the_reply_then_it_plays_on(
    groqsim: GroqSim, home: Path
) -> None:
    scene = lay_out("echo", [0.8, [speak(QUESTION)], 2.6, [speak(ECHO, "en-gb", 170)], 9.0])
    groqsim.enqueue("transcriptions", transcript(QUESTION))
    groqsim.enqueue("transcriptions", *[transcript(ECHO)] * 3)  # speculative and final
    groqsim.enqueue("chat", ChatReply(content=LONG_REPLY, ttft=0.1, tokens_per_s=500))
    run = await replay(scene, settings_for(groqsim, home, echo_cancelled=False), home)
    onset = scene.utterances[1][0]

    # Held: silent soon after the echo began (the 700 ms bar without echo cancellation) ...
    hold_start, hold_end = silent_span(run.output, onset)
    assert hold_start - onset < 1.0 * RATE
    # ... until its transcript was found to be voiced's own words; then the reply played on.
    rejected = run.one("transcript", accepted=False)
    assert rejected["text"] == ECHO and "echo" in rejected["reason"]
    assert hold_end < run.output.size and not run.silent(hold_end, hold_end + RATE // 2)
    assert run.one("speaking_stopped", turn=1)["reason"] == "done"
    assert run.one("assistant_text", turn=1)["interrupted"] is False
    assert not run.of("transcript", accepted=True, turn=2)
    states = [(e["state"], e["reason"]) for e in run.of("state")]
    assert ("hearing", "speech over the reply: holding it") in states
    assert any(state == "speaking" and "playing on" in why for state, why in states)


async def test_the_user_speaking_over_a_held_reply_stops_it_and_is_answered(
    groqsim: GroqSim, home: Path
) -> None:
    over = "Stop and tell me the weather instead."
    scene = lay_out("held", [0.8, [speak(QUESTION)], 2.6, [speak(over)], 4.0])
    groqsim.enqueue("transcriptions", transcript(QUESTION), transcript(over), transcript(over))
    groqsim.enqueue("chat", ChatReply(content=LONG_REPLY, ttft=0.1, tokens_per_s=500))
    groqsim.enqueue("chat", ChatReply(content="Sunny.", ttft=0.1))
    run = await replay(scene, settings_for(groqsim, home, echo_cancelled=False), home)
    onset = scene.utterances[1][0]

    stopped = run.one("speaking_stopped", turn=1)
    assert stopped["reason"] == "barge_in"
    assert run.one("assistant_text", turn=1)["interrupted"] is True
    assert run.one("transcript", turn=2)["text"] == over
    assert run.one("assistant_text", turn=2)["text"] == "Sunny."
    # The reply fell silent soon after the user began and never played on.
    hold_start, _ = silent_span(run.output, onset)
    assert hold_start - onset < 1.0 * RATE
    second = run.one("speaking_started", turn=2)
    assert run.silent(hold_start, round(second["t"] * RATE))
