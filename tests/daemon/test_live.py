"""End to end through the sound server: a question played into the virtual microphone, the
answer heard on the virtual speaker and shown in an attached TUI, and speech over the answer
stopping it (barge-in)."""

from __future__ import annotations

import asyncio
import logging
import time
import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.audio.pulse import PulseServer, SpeakerRecording
from tests.audio.speech import speak
from tests.daemon.helpers import next_of
from tests.daemon.replaying import settings_for, transcript
from tests.daemon.test_doctor import pactl
from tests.groqsim import ChatReply, GroqSim, ToolCall
from tests.listen.scenes import lay_out
from tests.running import RunningDaemon
from tests.tui.conftest import SIZE, attached, until
from tests.tui.screen import screen_text
from voiced.daemon.app import Daemon
from voiced.pipeline.assemble import engine_factory
from voiced.protocol import (
    AssistantText,
    ControlClient,
    Event,
    LogRecord,
    SpeakingStarted,
    SpeakingStopped,
    StateChanged,
    Timeline,
    Transcript,
)
from voiced.tui.app import VoicedApp
from voiced.tui.widgets.timeline import LatencyTimeline

LOUD = 300
RATE = 22050  # the speaker recording's rate


async def live_daemon(
    groqsim: GroqSim, home: Path, sock: Path, echo_cancel: str = "auto", block_ms: int = 60
) -> tuple[RunningDaemon, ControlClient]:
    settings = settings_for(groqsim, home)
    audio = replace(settings.audio, echo_cancel=echo_cancel, capture_block_ms=block_ms)
    settings = replace(settings, audio=audio)
    daemon = Daemon(settings, socket=sock, engine=engine_factory(settings, None))
    running = await RunningDaemon.serving(daemon)
    client = await running.connect()
    opened = await next_of(client, LogRecord, lambda e: e.message.startswith("listening on"), 20)
    assert "listening on" in opened.message
    await asyncio.sleep(0.3)  # let the stream settle before speech arrives
    return running, client


def loud(samples: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.abs(samples.astype(np.int32)) > LOUD)


def arrival(mic: SpeakerRecording, heard: np.ndarray, wav: Path, after: float) -> float:
    """time.monotonic() at which the first loud sample of ``wav`` (played into the microphone
    at ``after``) reached it: where the file's waveform lines up with what the microphone
    recorded (it stands out by cross-correlation, however loud voiced's echo beside it)."""
    with wave.open(str(wav)) as w:
        assert w.getframerate() == mic.rate
        sent = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    begin = max(0, mic.index_at(after))
    span = heard[begin : begin + sent.size + mic.rate].astype(np.float64)
    size = span.size + sent.size
    lags = np.fft.irfft(np.fft.rfft(span, size) * np.conj(np.fft.rfft(sent, size)), size)
    lag = int(np.argmax(lags[: span.size - sent.size + 1]))
    return mic.time_of(begin + lag + int(loud(sent)[0]))


async def test_a_question_into_the_microphone_is_answered_on_the_speaker(
    pulse: PulseServer, groqsim: GroqSim, home: Path, sock: Path
) -> None:
    wav = lay_out("live_q", [0.3, [speak("What time is it?")], 0.5]).wav(home)
    groqsim.enqueue("transcriptions", transcript("What time is it?"))
    groqsim.enqueue("chat", ChatReply(tool_calls=[ToolCall("current_time", {})], ttft=0.1))
    groqsim.enqueue("chat", ChatReply(content="It is three o'clock.", ttft=0.1))
    running, client = await live_daemon(groqsim, home, sock)
    speaker = pulse.record_speaker()
    app = VoicedApp(sock)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await attached(pilot)
            player = pulse.play_to_mic(wav)
            stopped = await next_of(client, SpeakingStopped, within=30)
            timeline = await next_of(client, Timeline, within=5)
            await asyncio.sleep(0.3)
            recorded = speaker.stop()
            await asyncio.to_thread(player.wait, 10)
            # The TUI shows the turn: the question, the tool call, the reply, its latencies.
            await until(pilot, lambda: "three o'clock" in screen_text(app), "the reply")
            await until(pilot, lambda: app.query_one(LatencyTimeline).milestones, "the timeline")
            shown = screen_text(app)
            marks = dict(app.query_one(LatencyTimeline).milestones)
    finally:
        await client.aclose()
        await running.stop()
    assert stopped.reason == "done"
    assert all(
        getattr(timeline, f"{m}_ms") is not None
        for m in ("transcript", "first_token", "first_clause", "first_audio")
    )
    heard = loud(recorded)
    assert heard.size > RATE // 2, "the reply was not heard on the speaker"
    assert "What time is it?" in shown and "current_time" in shown
    assert "It is three o'clock." in shown
    assert timeline.first_audio_ms in marks.values()


async def test_speaking_over_the_answer_stops_it_on_the_speaker(
    pulse: PulseServer, groqsim: GroqSim, home: Path, sock: Path
) -> None:
    question = lay_out("live_q2", [0.3, [speak("Tell me a long story.")], 0.5]).wav(home)
    over = lay_out("live_over", [0.1, [speak("Stop, that is enough, thank you very much.")], 0.5])
    long_reply = " ".join(["This story goes on and on, sentence after sentence."] * 8)
    groqsim.enqueue("transcriptions", transcript("Tell me a long story."))
    groqsim.enqueue("transcriptions", transcript("Stop, that is enough, thank you very much."))
    groqsim.enqueue("chat", ChatReply(content=long_reply, ttft=0.1, tokens_per_s=500))
    groqsim.enqueue("chat", ChatReply(content="Okay.", ttft=0.1))
    running, client = await live_daemon(groqsim, home, sock, echo_cancel="off")
    speaker = pulse.record_speaker()
    began = time.monotonic()
    try:
        await asyncio.to_thread(pulse.play_to_mic(question).wait, 10)
        await next_of(client, SpeakingStarted, within=30)
        await asyncio.sleep(1.5)
        interrupter = pulse.play_to_mic(over.wav(home))
        # This microphone is not echo-cancelled: the reply is held at once, and stopped
        # when the transcript shows it was the user, not voiced's own echo.
        await next_of(client, StateChanged, lambda e: "holding" in e.reason, within=20)
        held_at = time.monotonic() - began
        stopped = await next_of(client, SpeakingStopped, within=20)
        await asyncio.to_thread(interrupter.wait, 10)
        second = await next_of(client, SpeakingStarted, within=20)
        second_at = time.monotonic() - began
        await next_of(client, SpeakingStopped, within=20)
        recorded = speaker.stop()
    finally:
        await client.aclose()
        await running.stop()
    assert stopped.reason == "barge_in" and second.turn == 2
    # Between the hold (plus a generous margin) and the second reply, the speaker is silent.
    quiet = recorded[round((held_at + 0.3) * RATE) : round((second_at - 0.1) * RATE)]
    assert quiet.size > RATE // 2 and loud(quiet).size == 0


async def test_voiced_hearing_itself_through_the_room_plays_its_reply_to_the_end(
    pulse: PulseServer, groqsim: GroqSim, home: Path, sock: Path
) -> None:
    """A real echo path: the speaker's output is looped into the microphone, so voiced hears
    its whole reply. Without echo cancellation it holds the reply once, finds the transcript
    is its own words, and plays on to the end (no more holds: that would stutter)."""
    sentence = "This story goes on and on, sentence after sentence."
    question = lay_out("live_q3", [0.3, [speak("Tell me a story.")], 0.5]).wav(home)
    groqsim.enqueue("transcriptions", transcript("Tell me a story."))
    groqsim.enqueue("transcriptions", *[transcript(sentence)] * 12)  # the echo, as heard
    groqsim.enqueue("chat", ChatReply(content=" ".join([sentence] * 3), ttft=0.1))
    running, client = await live_daemon(groqsim, home, sock, echo_cancel="off")
    seen: list[Event] = []
    loopback = ""
    try:
        await asyncio.to_thread(pulse.play_to_mic(question).wait, 10)
        await next_of(client, SpeakingStarted, within=30)
        loopback = pactl(
            pulse,
            "load-module",
            "module-loopback",
            "source=vspeaker.monitor",
            "sink=micfeed",
            "latency_msec=40",
        )
        stopped = await next_of(client, SpeakingStopped, within=60, seen=seen)
    finally:
        if loopback:
            pactl(pulse, "unload-module", loopback)
        await client.aclose()
        await running.stop()
    (text,) = [e for e in seen if isinstance(e, AssistantText)]
    assert stopped.reason == "done" and not text.interrupted
    assert text.text == " ".join([sentence] * 3)
    holds = [e for e in seen if isinstance(e, StateChanged) and "holding" in e.reason]
    resumed = [e for e in seen if isinstance(e, StateChanged) and "playing on" in e.reason]
    echoes = [e for e in seen if isinstance(e, Transcript) and "echo" in e.reason]
    assert len(holds) == 1 and len(resumed) == 1 and echoes


async def test_voiced_cancels_its_own_echo_through_the_room_without_the_echo_cancel_module(
    pulse: PulseServer, groqsim: GroqSim, home: Path, sock: Path
) -> None:
    """The same real echo path (the speaker looped into the microphone, no echo-cancel module
    loaded), with voiced's own canceller on (``echo_cancel = "auto"``): the microphone hears
    nothing of voiced, so there is no hold, no transcript of its echo, and the reply plays to
    the end; the timeline carries the echo reduction."""
    sentence = "This story goes on and on, sentence after sentence."
    question = lay_out("live_q4", [0.3, [speak("Tell me a story.")], 0.5]).wav(home)
    groqsim.enqueue("transcriptions", transcript("Tell me a story."))
    groqsim.enqueue("chat", ChatReply(content=" ".join([sentence] * 2), ttft=0.1))
    assert "echo-cancel" not in pactl(pulse, "list", "short", "modules")
    running, client = await live_daemon(groqsim, home, sock)
    seen: list[Event] = []
    loopback = ""
    try:
        loopback = pactl(
            pulse,
            "load-module",
            "module-loopback",
            "source=vspeaker.monitor",
            "sink=micfeed",
            "latency_msec=40",
        )
        await asyncio.to_thread(pulse.play_to_mic(question).wait, 10)
        stopped = await next_of(client, SpeakingStopped, within=60, seen=seen)
        timeline = await next_of(client, Timeline, within=5, seen=seen)
        status = await client.status()
    finally:
        if loopback:
            pactl(pulse, "unload-module", loopback)
        await client.aclose()
        await running.stop()
    (text,) = [e for e in seen if isinstance(e, AssistantText)]
    assert stopped.reason == "done" and not text.interrupted
    assert not [e for e in seen if isinstance(e, StateChanged) and "holding" in e.reason]
    assert not [e for e in seen if isinstance(e, Transcript) and e.turn != 1]
    assert "in-process echo cancellation (WebRTC AEC3)" in status.echo
    assert timeline.echo_erle_db is not None and timeline.echo_erle_db >= 10.0
    assert status.echo_erle_db == timeline.echo_erle_db


async def test_with_its_own_echo_cancelled_the_user_over_the_reply_stops_it_at_once(
    pulse: PulseServer,
    groqsim: GroqSim,
    home: Path,
    sock: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The real echo path again, voiced's canceller on: the user's speech over the reply stops
    it, with no hold and no wait for the transcript, and their words are answered. Issue 13
    asks for silence within 400 ms of their onset at the microphone, measured here exactly
    (where the file reached the microphone, against the speaker's recording), and the reply
    must still be playing when they begin (it did not stop itself on its own echo). AEC3 hides
    the first ~140 ms of the user's voice over this full-level echo; the raw microphone's
    double-talk detector dates their speech from where it began (466-554 ms without it: 300 ms
    counted from the segmenter's onset). The far end holds what the speaker plays before it is
    heard and follows it over output underruns (else AEC3's echo leaks stopped or held the
    reply), and the first judgement of the echo imports nothing on the event loop. With the
    defaults the microphone, read in 60 ms blocks while voiced is silent, is read in 30 ms
    blocks from the turn's start (``speaking_block_ms``: a second stream takes it over), so the
    frame that decides reaches the pipeline 0-35 ms after it was heard: 269-348 ms in 17
    runs (always 60 ms blocks: 364-402; always 30: 333-340, in the same hour;
    docs/benchmarks.md)."""
    question = lay_out("live_q5", [0.3, [speak("Tell me a long story.")], 0.5]).wav(home)
    over = lay_out("live_over5", [0.1, [speak("Stop, that is enough, thank you very much.")], 0.5])
    over_wav = over.wav(home)
    long_reply = " ".join(["This story goes on and on, sentence after sentence."] * 6)
    groqsim.enqueue("transcriptions", transcript("Tell me a long story."))
    # Whatever part of the interruption is sent (speculatively, at a pause, or whole), Whisper
    # hears the user's words.
    groqsim.enqueue(
        "transcriptions", *[transcript("Stop, that is enough, thank you very much.")] * 4
    )
    groqsim.enqueue("chat", ChatReply(content=long_reply, ttft=0.1, tokens_per_s=500))
    groqsim.enqueue("chat", ChatReply(content="Okay.", ttft=0.1))
    caplog.set_level(logging.DEBUG, logger="voiced.audio.capture")
    running, client = await live_daemon(groqsim, home, sock)
    seen: list[Event] = []
    loopback = ""
    try:
        loopback = pactl(
            pulse,
            "load-module",
            "module-loopback",
            "source=vspeaker.monitor",
            "sink=micfeed",
            "latency_msec=40",
        )
        speaker = pulse.record_speaker()
        mic = pulse.record_mic()
        await asyncio.to_thread(pulse.play_to_mic(question).wait, 10)
        await next_of(client, SpeakingStarted, within=30, seen=seen)
        await asyncio.sleep(2.0)  # long enough for the canceller to have learnt the room
        interrupted_at = time.monotonic()
        interrupter = pulse.play_to_mic(over_wav)
        try:
            stopped = await next_of(client, SpeakingStopped, within=20, seen=seen)
            await asyncio.to_thread(interrupter.wait, 10)
            second = await next_of(client, SpeakingStarted, within=20, seen=seen)
            second_at = time.monotonic()
            await next_of(client, SpeakingStopped, within=20, seen=seen)
        except TimeoutError:
            story = [e for e in seen if type(e).__name__ not in ("InputLevel", "AssistantDelta")]
            raise AssertionError(f"timed out; the events: {story}") from None
        recorded, heard = speaker.stop(), mic.stop()
    finally:
        if loopback:
            pactl(pulse, "unload-module", loopback)
        await client.aclose()
        await running.stop()
    assert stopped.reason == "barge_in" and second.turn == 2
    assert "the microphone is read in 30 ms blocks" in caplog.text  # from the turn's start
    assert not [e for e in seen if isinstance(e, StateChanged) and "holding" in e.reason]
    (asked,) = [e for e in seen if isinstance(e, Transcript) and e.turn == 2]
    assert asked.text == "Stop, that is enough, thank you very much."
    onset = arrival(mic, heard, over_wav, interrupted_at)
    assert interrupted_at < onset < interrupted_at + 1.0
    # From the onset at the microphone, the reply is silent until the second one begins.
    first, last = speaker.index_at(onset), speaker.index_at(second_at - 0.1)
    still = loud(recorded[first:last])
    assert last - first > RATE and still.size < last - first
    assert still.size, "the reply had stopped before the user spoke (on its own echo)"
    silent_ms = (speaker.time_of(first + int(still[-1])) - onset) * 1000
    print(f"the reply fell silent {silent_ms:.0f} ms after the user's onset at the microphone")
    assert silent_ms <= 400, f"the reply went on {silent_ms:.0f} ms over the user"
