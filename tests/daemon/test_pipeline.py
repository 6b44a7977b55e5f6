"""The turn pipeline in replay mode: espeak-ng speech in, groqsim answers, the output audio and
events checked on the input's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.audio.speech import speak
from tests.daemon.replaying import LONG_REPLY, RATE, Replayed, replay, settings_for, transcript
from tests.groqsim import ChatReply, ErrorReply, GroqSim, ToolCall, Transcript
from tests.listen.scenes import lay_out
from voiced.converse.conversation import Conversation
from voiced.daemon.app import Daemon
from voiced.pipeline.assemble import AssembledEngine

pytestmark = pytest.mark.realtime

QUESTION = "What time is it?"
NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def assert_well_formed(run: Replayed) -> None:
    """Every event has a time on the input clock, in order; levels come at most 10 a second."""
    times = [e["t"] for e in run.events]
    assert times == sorted(times)
    levels = [e["t"] for e in run.events if e["type"] == "level"]
    assert levels, "no input levels were reported"
    for earlier, later in zip(levels, levels[1:], strict=False):
        assert later - earlier >= 0.095
    assert run.code == 0


async def test_a_spoken_question_is_answered_aloud_after_the_end_of_speech(
    groqsim: GroqSim, home: Path
) -> None:
    scene = lay_out("time", [1.0, [speak(QUESTION)], 4.5])
    groqsim.enqueue("transcriptions", transcript(QUESTION))
    groqsim.enqueue("chat", ChatReply(tool_calls=[ToolCall("current_time", {})], ttft=0.2))
    groqsim.enqueue("chat", ChatReply(content="It is three o'clock.", ttft=0.2, tokens_per_s=500))
    run = await replay(scene, settings_for(groqsim, home), home)
    assert_well_formed(run)
    speech_end = scene.utterances[0][1]

    assert run.one("transcript", accepted=True)["text"] == QUESTION
    call = run.one("tool_call", name="current_time")
    result = run.one("tool_result", call_id=call["call_id"])
    assert result["ok"] and result["result"]
    assert run.one("assistant_text", turn=1)["text"] == "It is three o'clock."
    assert run.one("speaking_stopped", turn=1)["reason"] == "done"
    states = [e["state"] for e in run.of("state")]
    assert states == ["hearing", "transcribing", "thinking", "speaking", "listening"]

    # Nothing plays before the end of speech; the reply plays after it.
    first = run.loud_at()
    assert first is not None and first > speech_end
    assert run.silent(0, speech_end)
    # The timeline: marks in order, and first audio where the output file has it.
    timeline = run.one("timeline", turn=1)
    assert timeline["speculative"] is True
    assert abs(timeline["speech_end_s"] - speech_end / RATE) < 0.1
    marks = [timeline[k] for k in ("first_token_ms", "first_clause_ms", "first_audio_ms")]
    assert all(m is not None for m in marks) and marks == sorted(marks)
    assert timeline["transcript_ms"] < timeline["end_confirmed_ms"]  # speculation: ready early
    # It started after [daemon] speculate_after_ms (200 ms) of silence, not [listen]'s 250 ms.
    paused = run.one("speech_paused")["at_s"] - speech_end / RATE
    assert 0.17 <= paused <= 0.245, paused
    audio_at = timeline["speech_end_s"] + timeline["first_audio_ms"] / 1000
    assert abs(audio_at - first / RATE) < 0.05
    stt = run.one("usage", kind="stt")
    assert stt["billed_s"] == 10.0 and stt["cost_usd"] == pytest.approx(0.04 * 10 / 3600)


async def test_without_speculation_the_transcript_comes_after_the_confirmed_end(
    groqsim: GroqSim, home: Path
) -> None:
    scene = lay_out("time", [0.8, [speak(QUESTION)], 3.0])
    groqsim.enqueue("transcriptions", transcript(QUESTION))
    groqsim.enqueue("chat", ChatReply(content="Three.", ttft=0.1))
    run = await replay(scene, settings_for(groqsim, home, speculative=False), home)
    timeline = run.one("timeline", turn=1)
    assert timeline["speculative"] is False
    assert timeline["transcript_ms"] >= timeline["end_confirmed_ms"]
    assert len(groqsim.requests_for("transcriptions")) == 1


async def test_speech_that_resumes_discards_the_speculative_work(
    groqsim: GroqSim, home: Path
) -> None:
    first, rest = (
        "Set a timer",
        "for ten minutes please.",
    )  # no comma: its pause would speculate too
    scene = lay_out("timer", [0.8, [speak(first), 0.45, speak(rest)], 3.5])
    full = f"{first} {rest}"
    groqsim.enqueue("transcriptions", Transcript(text=" " + first, delay=0.4))  # still in flight
    groqsim.enqueue("transcriptions", transcript(full))
    groqsim.enqueue("chat", ChatReply(content="Done.", ttft=0.1))
    run = await replay(scene, settings_for(groqsim, home), home)
    assert_well_formed(run)
    assert run.of("speech_paused") and run.of("speech_resumed")
    assert [e["text"] for e in run.of("transcript")] == [full]
    chats = groqsim.requests_for("chat")
    assert len(chats) == 1
    assert chats[0].json["messages"][-1]["content"] == full
    assert run.one("assistant_text", turn=1)["text"] == "Done."


async def test_a_minute_turning_over_between_speculation_and_turn_asks_the_reply_once(
    groqsim: GroqSim, home: Path
) -> None:
    # The system prompt states the time to the minute. The early request is prepared at
    # 11:59:59 and the turn starts at 12:00:00: the turn states its speculation's moment,
    # so its request is the prefetched one and the reply is not asked for twice.
    scene = lay_out("minute", [0.8, [speak(QUESTION)], 3.0])
    groqsim.enqueue("transcriptions", transcript(QUESTION))
    groqsim.enqueue("chat", ChatReply(content="Noon.", ttft=0.1))
    moments = iter([NOON - timedelta(seconds=1), NOON])

    async def turning_clock(daemon: Daemon) -> None:
        engine = daemon.engine
        assert isinstance(engine, AssembledEngine)
        await engine.ready.wait()
        assert engine.pipeline is not None
        conversation = engine.pipeline.parts.turns.answerer
        assert isinstance(conversation, Conversation)
        conversation._now = lambda: next(moments, NOON)

    run = await replay(scene, settings_for(groqsim, home), home, during=turning_clock)
    (chat,) = groqsim.requests_for("chat")
    assert "11:59" in chat.json["messages"][0]["content"]
    assert run.one("assistant_text", turn=1)["text"] == "Noon."
    assert run.one("timeline", turn=1)["speculative"] is True


async def test_speaking_over_the_reply_stops_it_and_starts_a_new_turn(
    groqsim: GroqSim, home: Path
) -> None:
    over = "Stop and tell me the weather instead."  # no comma pause
    scene = lay_out("barge", [0.8, [speak(QUESTION)], 2.6, [speak(over)], 4.0])
    groqsim.enqueue("transcriptions", transcript(QUESTION), transcript(over))
    groqsim.enqueue("chat", ChatReply(content=LONG_REPLY, ttft=0.1, tokens_per_s=500))
    groqsim.enqueue("chat", ChatReply(content="Sunny.", ttft=0.1))
    run = await replay(scene, settings_for(groqsim, home, echo_cancelled=True), home)
    assert_well_formed(run)
    onset = scene.utterances[1][0]

    stopped = run.one("speaking_stopped", turn=1)
    assert stopped["reason"] == "barge_in", [e for e in run.events if e["type"] != "level"]
    assert run.one("assistant_text", turn=1)["interrupted"] is True
    cut_at = round(stopped["t"] * RATE)
    # The reply was playing when the user began, and fell silent soon after.
    assert not run.silent(onset - RATE // 4, onset)
    assert cut_at - onset < RATE  # within a second of the onset (bar 300 ms + detection)
    second = run.one("transcript", turn=2)
    assert second["text"] == over
    assert run.one("assistant_text", turn=2)["text"] == "Sunny."
    assert run.silent(cut_at + RATE // 20, second_reply_start(run))


def second_reply_start(run: Replayed) -> int:
    started = run.one("speaking_started", turn=2)
    return round(started["t"] * RATE)


async def test_half_duplex_ignores_speech_while_voiced_speaks(groqsim: GroqSim, home: Path) -> None:
    scene = lay_out("duplex", [0.8, [speak(QUESTION)], 1.6, [speak("Stop talking.")], 2.0])
    reply = "This reply goes on for a few seconds, long enough to be talked over."
    groqsim.enqueue("transcriptions", transcript(QUESTION))
    groqsim.enqueue("chat", ChatReply(content=reply, ttft=0.1, tokens_per_s=500))
    run = await replay(scene, settings_for(groqsim, home, barge_in=False), home)
    onset = scene.utterances[1][0]
    assert not run.silent(onset, onset + RATE // 4)  # voiced was speaking when the user spoke
    assert run.one("speaking_stopped", turn=1)["reason"] == "done"
    assert run.one("assistant_text", turn=1)["interrupted"] is False
    assert len(run.of("transcript")) == 1
    assert len(groqsim.requests_for("transcriptions")) == 1


async def test_a_failed_request_is_reported_and_spoken_and_the_daemon_goes_on(
    groqsim: GroqSim, home: Path
) -> None:
    scene = lay_out("fail", [0.8, [speak(QUESTION)], 3.5])
    groqsim.enqueue("transcriptions", transcript(QUESTION))
    groqsim.enqueue("chat", ErrorReply.server_error(), ErrorReply.server_error())
    run = await replay(scene, settings_for(groqsim, home), home)
    assert run.code == 0
    error = run.one("error", turn=1)
    assert error["code"] == "server" and error["message"]
    assert run.one("speaking_stopped", turn=1)["reason"] == "error"
    assert run.loud_at(scene.utterances[0][1]) is not None  # "Sorry, that didn't work."
    assert run.of("state")[-1]["state"] == "listening"
