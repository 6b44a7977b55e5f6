"""Wake mode in replay: nothing leaves the machine until the wake word is heard on it.

The loopback server's request log is the proof: every transcription and chat request voiced
made is in it. Speech is espeak-ng's; the wake word is okay_nabu's "Okay Nabu", heard by the
real detector.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.audio.speech import speak
from tests.daemon.replaying import LONG_REPLY, RATE, Replayed, replay, settings_for, transcript
from tests.groqsim import ChatReply, GroqSim
from tests.listen.scenes import lay_out
from voiced.audio.frames import FRAME_SAMPLES, Frame
from voiced.config import Settings
from voiced.wake.detector import WakeDetector

pytestmark = pytest.mark.realtime

CHATTER = "I think we should paint the kitchen green this year."
TV = "The news at nine: rain is expected across the north tomorrow."
QUESTION = "What time is it?"


def wake_settings(sim: GroqSim, home: Path, **wake: Any) -> Settings:
    """Wake mode, with ``[wake]`` overrides."""
    settings = settings_for(sim, home, mode="wake")
    return replace(settings, wake=replace(settings.wake, **wake))


def sent(sim: GroqSim) -> tuple[int, int]:
    """(transcription requests, chat requests) the server received."""
    return len(sim.requests_for("transcriptions")), len(sim.requests_for("chat"))


def last_question(sim: GroqSim, index: int = -1) -> str:
    """The user message of a chat request, as the model saw it."""
    messages = sim.requests_for("chat")[index].json["messages"]
    return str([m for m in messages if m["role"] == "user"][-1]["content"])


def heard_wake_words(run: Replayed) -> list[dict[str, Any]]:
    return run.of("wake_detected")


async def test_speech_without_the_wake_word_is_never_sent(groqsim: GroqSim, home: Path) -> None:
    scene = lay_out("room", [0.8, [speak(CHATTER)], 1.2, [speak(TV, voice="en-gb")], 2.0])
    run = await replay(scene, wake_settings(groqsim, home), home)
    assert run.code == 0
    assert len(run.of("speech_started")) == 2, "both were heard, on this machine"
    assert sent(groqsim) == (0, 0), "not one request: no audio, no transcript left"
    assert not run.of("transcript") and not run.of("assistant_text")
    assert not heard_wake_words(run)
    notes = [e["message"] for e in run.of("log") if "not addressed" in e["message"]]
    assert len(notes) == 2


async def test_a_one_breath_question_is_answered_without_the_wake_word(
    groqsim: GroqSim, home: Path
) -> None:
    spoken = f"Okay Nabu, {QUESTION.lower()}"
    scene = lay_out("one-breath", [1.0, [speak(spoken)], 3.5])
    groqsim.enqueue("transcriptions", transcript(spoken))
    groqsim.enqueue("chat", ChatReply(content="It is noon.", ttft=0.1))
    run = await replay(scene, wake_settings(groqsim, home), home)
    woke = run.one("wake_detected")
    assert woke["word"] == "okay_nabu" and woke["score"] > 0.85
    speech_start, speech_end = (s / RATE for s in scene.utterances[0])
    assert speech_start < woke["at_s"] < speech_end, "heard while the question went on"
    assert sent(groqsim) == (1, 1)
    assert last_question(groqsim) == QUESTION.lower(), "the wake word is not the model's"
    assert run.one("transcript", accepted=True)["text"] == QUESTION.lower()
    assert run.one("speaking_stopped", turn=1)["reason"] == "done"
    assert run.one("timeline", turn=1)["speculative"] is True, "speculation was allowed"


async def test_speech_before_the_wake_word_in_the_same_breath_is_taken_off(
    groqsim: GroqSim, home: Path
) -> None:
    spoken = f"Right then. Okay Nabu, {QUESTION.lower()}"
    scene = lay_out("lead-in", [1.0, [speak(spoken)], 3.5])
    groqsim.enqueue("transcriptions", transcript(spoken))
    groqsim.enqueue("chat", ChatReply(content="It is noon.", ttft=0.1))
    await replay(scene, wake_settings(groqsim, home), home)
    assert last_question(groqsim) == QUESTION.lower()


async def test_the_wake_word_then_a_pause_plays_the_earcon_and_answers_the_question(
    groqsim: GroqSim, home: Path
) -> None:
    scene = lay_out("pause", [1.0, [speak("Okay Nabu.")], 1.5, [speak(QUESTION)], 3.5])
    groqsim.enqueue("transcriptions", transcript(QUESTION))
    groqsim.enqueue("chat", ChatReply(content="It is noon.", ttft=0.1))
    settings = wake_settings(groqsim, home)
    settings = replace(settings, speech=replace(settings.speech, earcons=True))
    run = await replay(scene, settings, home)
    assert len(heard_wake_words(run)) == 1
    alone = run.one("transcript", accepted=False)
    assert alone["reason"] == "the wake word alone: listening"
    assert sent(groqsim) == (1, 1), "the wake word alone was decided here, not uploaded"
    assert last_question(groqsim) == QUESTION
    # The listening earcon plays between the wake word and the question.
    wake_end, question_start = scene.utterances[0][1], scene.utterances[1][0]
    earcon = run.loud_at(wake_end)
    assert earcon is not None and earcon < question_start
    assert run.one("speaking_stopped", turn=1)["reason"] == "done"


async def test_the_wake_word_alone_times_out_quietly_and_later_speech_is_not_sent(
    groqsim: GroqSim, home: Path
) -> None:
    scene = lay_out("timeout", [1.0, [speak("Okay Nabu.")], 3.5, [speak(QUESTION)], 2.0])
    settings = wake_settings(groqsim, home, wait_s=2.0)
    settings = replace(settings, speech=replace(settings.speech, earcons=True))
    run = await replay(scene, settings, home)
    assert len(heard_wake_words(run)) == 1
    assert sent(groqsim) == (0, 0), "the question came after the wait: nothing was sent"
    earcon_end = run.loud_at(scene.utterances[0][1])
    assert earcon_end is not None
    # Quietly: after the earcon nothing more plays.
    assert run.silent(earcon_end + RATE // 2, run.output.size)


async def test_a_follow_up_inside_the_window_needs_no_wake_word_and_one_after_it_is_not_sent(
    groqsim: GroqSim, home: Path
) -> None:
    first = f"Okay Nabu, {QUESTION.lower()}"
    follow = "And what is the date?"
    late = "And the weather?"
    scene = lay_out(
        "follow-up", [1.0, [speak(first)], 3.0, [speak(follow)], 6.5, [speak(late)], 2.0]
    )
    groqsim.enqueue("transcriptions", transcript(first))
    groqsim.enqueue("chat", ChatReply(content="Noon.", ttft=0.1))
    groqsim.enqueue("transcriptions", transcript(follow))
    groqsim.enqueue("chat", ChatReply(content="The third.", ttft=0.1))
    settings = settings_for(groqsim, home, mode="wake", wake_window_s=3.0)
    run = await replay(scene, settings, home)
    assert sent(groqsim) == (2, 2), "the late one came after the window closed"
    assert last_question(groqsim, 0) == QUESTION.lower()
    assert last_question(groqsim, 1) == follow
    assert len(heard_wake_words(run)) == 1


async def test_the_wake_word_over_a_reply_stops_it_at_once_and_asks_anew(
    groqsim: GroqSim, home: Path
) -> None:
    interrupt = "Okay Nabu, stop talking."
    scene = lay_out(
        "over", [1.0, [speak(f"Okay Nabu, {QUESTION.lower()}")], 3.2, [speak(interrupt)], 4.0]
    )
    groqsim.enqueue("transcriptions", transcript(f"Okay Nabu, {QUESTION.lower()}"))
    groqsim.enqueue("chat", ChatReply(content=LONG_REPLY, ttft=0.1))
    groqsim.enqueue("transcriptions", transcript(interrupt))
    groqsim.enqueue("chat", ChatReply(content="Sorry.", ttft=0.1))
    # No echo cancellation: plain speech over the reply would only hold it for 700 ms and wait
    # for its transcript; the wake word stops it as soon as it is heard.
    run = await replay(scene, wake_settings(groqsim, home), home)
    stopped = run.one("speaking_stopped", turn=1)
    assert stopped["reason"] == "barge_in"
    woke = [w for w in heard_wake_words(run) if w["at_s"] > scene.utterances[1][0] / RATE]
    assert len(woke) == 1
    silent_from = int((woke[0]["at_s"] + 0.1) * RATE)
    assert run.silent(silent_from, scene.utterances[1][1]), "silent within 100 ms"
    assert last_question(groqsim) == "stop talking."


async def test_voiced_never_says_its_own_wake_word(groqsim: GroqSim, home: Path) -> None:
    reply = "To wake me, just say: Okay Nabu. Okay Nabu is my name."
    scene = lay_out("own", [1.0, [speak(f"Okay Nabu, {QUESTION.lower()}")], 9.0])
    groqsim.enqueue("transcriptions", transcript(f"Okay Nabu, {QUESTION.lower()}"))
    groqsim.enqueue("chat", ChatReply(content=reply, ttft=0.1))
    settings = wake_settings(groqsim, home)
    run = await replay(scene, settings, home)
    assert run.one("assistant_text", turn=1)["text"] == reply, "the text is shown as written"
    spoken = run.output[scene.utterances[0][1] :]
    assert not _detections(spoken, settings), "what voiced played holds no wake word"
    # The same sentence as espeak-ng says it unaltered does wake the detector.
    plain = np.concatenate([np.zeros(RATE // 2), speak(reply, speed=175), np.zeros(RATE)])
    assert _detections(np.round(plain * 32767).astype(np.int16), settings)


def _detections(audio: np.ndarray, settings: Settings) -> list[float]:
    detector = WakeDetector.from_settings(settings.wake)
    found: list[float] = []
    for i in range(0, audio.size - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        frame = Frame(audio[i : i + FRAME_SAMPLES].astype(np.int16), i)
        found += [d.score for d in detector.feed(frame, None)]
    return found
