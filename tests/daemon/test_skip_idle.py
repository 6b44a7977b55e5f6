"""Replay mode's ``--skip-idle``: quiet while voiced is idle is not waited through, and the
output and events are still those of a replay in real time, on the input's clock."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.audio.speech import speak
from tests.daemon.replaying import RATE, replay, settings_for, transcript
from tests.groqsim import ChatReply, GroqSim
from tests.listen.scenes import lay_out

pytestmark = pytest.mark.realtime

QUESTION = "What time is it?"


async def test_quiet_after_the_last_turn_is_not_waited_for_and_the_outputs_span_the_input(
    groqsim: GroqSim, home: Path
) -> None:
    scene = lay_out("tail", [0.8, [speak(QUESTION)], 20.0])
    groqsim.enqueue("transcriptions", transcript(QUESTION))
    groqsim.enqueue("chat", ChatReply(content="It is three o'clock.", ttft=0.1))
    began = time.monotonic()
    run = await replay(scene, settings_for(groqsim, home), home)
    took = time.monotonic() - began

    duration = scene.audio.size / RATE
    assert took < duration - 10, f"{took:.1f} s for {duration:.1f} s of input"
    # The outputs are those of a replay in real time: the whole input, on its clock.
    assert run.code == 0
    assert run.output.size >= scene.audio.size
    levels = [e["t"] for e in run.of("level")]
    assert levels[-1] > duration - 0.2 and max(levels) <= duration + 0.1
    assert all(
        0.095 <= later - earlier < 0.2 for earlier, later in zip(levels, levels[1:], strict=False)
    )
    first = run.loud_at()
    assert first is not None and first > scene.utterances[0][1]
    assert run.one("speaking_stopped", turn=1)["reason"] == "done"
    assert run.silent(first + 3 * RATE, run.output.size)


async def test_the_echo_window_counts_the_skipped_quiet_on_the_input_clock(
    groqsim: GroqSim, home: Path
) -> None:
    reply = "The forecast for tomorrow is sunny and warm, with a light breeze from the west."
    again = "the forecast for tomorrow is sunny and warm"
    # The same words again 20 s later (more than the 15 s echo window on the input's clock,
    # though a second or so of wall time once the quiet between is skipped): the user's.
    scene = lay_out("later", [0.8, [speak("What is the weather?")], 20.0, [speak(again)], 3.0])
    groqsim.enqueue("transcriptions", transcript("What is the weather?"), transcript(again))
    groqsim.enqueue("chat", ChatReply(content=reply, ttft=0.1))
    groqsim.enqueue("chat", ChatReply(content="Yes, sunny and warm.", ttft=0.1))
    began = time.monotonic()
    # Without speculation: the scripted chat queue holds one reply per turn, and a prefetch
    # started at a pause (load-dependent) would take the second turn's reply.
    settings = settings_for(groqsim, home, echo_cancelled=False, speculative=False)
    run = await replay(scene, settings, home)

    assert time.monotonic() - began < scene.audio.size / RATE - 10
    heard = run.of("transcript")
    assert [h["accepted"] for h in heard] == [True, True], heard
    assert run.one("assistant_text", turn=2)["text"] == "Yes, sunny and warm."
