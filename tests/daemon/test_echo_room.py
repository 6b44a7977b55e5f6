"""voiced cancels its own echo: replay mode's simulated room (``--echo-gain 0.5
--echo-delay-ms 80``) mixes what voiced plays back into the microphone, and the in-process
canceller (``[audio] echo_cancel``) takes it out again, so voiced neither interrupts itself nor
holds its reply, and the user's voice over a reply stops it at once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.audio.speech import speak
from tests.daemon.replaying import LONG_REPLY, RATE, Replayed, replay, settings_for, transcript
from tests.daemon.test_echo_hold import silent_span
from tests.groqsim import ChatReply, GroqSim
from tests.listen.scenes import lay_out
from voiced.audio.room import RoomOptions
from voiced.config import Settings

pytestmark = pytest.mark.realtime

ROOM = RoomOptions(gain=0.5, delay_ms=80.0)
QUESTION = "What time is it?"
FOLLOW_UP = "And what is the weather like tomorrow?"
MEDIUM_REPLY = "It is three o'clock in the afternoon, and the sun is still up for a few more hours."


def with_echo_cancel(settings: Settings, mode: str) -> Settings:
    return replace(settings, audio=replace(settings.audio, echo_cancel=mode))


def holds(run: Replayed) -> list[str]:
    return [e["reason"] for e in run.of("state") if "holding" in e["reason"]]


async def test_in_a_room_every_question_is_answered_and_voiced_never_interrupts_itself(
    groqsim: GroqSim, home: Path
) -> None:
    scene = lay_out("room", [0.8, [speak(QUESTION)], 7.5, [speak(FOLLOW_UP)], 5.5])
    groqsim.enqueue("transcriptions", transcript(QUESTION), transcript(FOLLOW_UP))
    groqsim.enqueue("chat", ChatReply(content=MEDIUM_REPLY, ttft=0.1, tokens_per_s=500))
    groqsim.enqueue("chat", ChatReply(content="Sunny, with a light breeze.", ttft=0.1))
    settings = with_echo_cancel(settings_for(groqsim, home), "auto")
    run = await replay(scene, settings, home, room=ROOM)

    accepted = [e["text"] for e in run.of("transcript", accepted=True)]
    assert accepted == [QUESTION, FOLLOW_UP]
    assert [e["reason"] for e in run.of("speaking_stopped")] == ["done", "done"]
    assert not any(e["interrupted"] for e in run.of("assistant_text"))
    assert not holds(run)
    # voiced heard its whole first reply in the room: the utterances are the two questions.
    assert len(run.of("speech_started")) == 2
    # The echo reduction over each reply is in its turn's timeline.
    for turn in (1, 2):
        erle = run.one("timeline", turn=turn)["echo_erle_db"]
        assert erle is not None and erle >= 20.0


async def test_in_a_room_the_user_over_a_reply_stops_it_within_400_ms_and_is_answered(
    groqsim: GroqSim, home: Path
) -> None:
    over = "Stop and tell me the weather instead."
    scene = lay_out("room_over", [0.8, [speak(QUESTION)], 5.5, [speak(over)], 3.5])
    groqsim.enqueue("transcriptions", transcript(QUESTION), transcript(over), transcript(over))
    groqsim.enqueue("chat", ChatReply(content=LONG_REPLY, ttft=0.1, tokens_per_s=500))
    groqsim.enqueue("chat", ChatReply(content="Sunny.", ttft=0.1))
    settings = with_echo_cancel(settings_for(groqsim, home), "auto")
    run = await replay(scene, settings, home, room=ROOM)
    onset = scene.utterances[1][0]

    first = run.one("speaking_started", turn=1)
    assert first["t"] * RATE < onset, "the user must speak over the reply"
    assert run.one("speaking_stopped", turn=1)["reason"] == "barge_in"
    assert run.one("assistant_text", turn=1)["interrupted"] is True
    # Silent within 400 ms of the user's onset, stopped (not held): it never plays on.
    quiet_from, _ = silent_span(run.output, onset)
    assert quiet_from - onset <= 0.4 * RATE, f"silent {(quiet_from - onset) / RATE:.3f} s after"
    assert not holds(run)
    second = run.one("speaking_started", turn=2)
    assert run.silent(quiet_from, round(second["t"] * RATE))
    assert run.one("transcript", turn=2)["text"] == over
    assert run.one("assistant_text", turn=2)["text"] == "Sunny."
