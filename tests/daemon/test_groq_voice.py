"""The daemon speaking with Groq's voice in replay mode: the reply's chunks asked of the loopback
server, barge-in as with espeak-ng, and espeak-ng taking over when Groq fails, said once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.audio.speech import speak
from tests.daemon.replaying import LONG_REPLY, RATE, replay, settings_for, transcript
from tests.groqsim import ChatReply, ErrorReply, GroqSim
from tests.listen.scenes import lay_out
from tests.speak.test_groq_voice import MODEL, CountingEspeak
from voiced.config import Settings
from voiced.groq import GroqClient
from voiced.pipeline.speech import CachingTTS
from voiced.speak.fallback import FallbackTTS
from voiced.speak.groqtts import GroqTTS

pytestmark = [pytest.mark.slow, pytest.mark.realtime]

QUESTION = "What time is it?"


def groq_voice(sim: GroqSim, home: Path, **daemon: Any) -> Settings:
    settings = settings_for(sim, home, **daemon)
    return replace(settings, speech=replace(settings.speech, engine="groq"))


async def test_a_reply_is_spoken_by_groq_one_request_per_chunk(
    groqsim: GroqSim, home: Path
) -> None:
    scene = lay_out("groq", [0.8, [speak(QUESTION)], 4.0])
    groqsim.enqueue("transcriptions", transcript(QUESTION))
    reply = "It is three o'clock, more or less. Time for tea."
    groqsim.enqueue("chat", ChatReply(content=reply, ttft=0.1, tokens_per_s=500))
    run = await replay(scene, groq_voice(groqsim, home), home)

    assert run.code == 0
    inputs = [r.json["input"] for r in groqsim.requests_for("speech")]
    assert inputs == ["It is three o'clock,", "more or less.", "Time for tea."]
    assert run.one("speaking_stopped", turn=1)["reason"] == "done"
    assert run.of("error") == []
    first = run.loud_at(scene.utterances[0][1])
    assert first is not None
    timeline = run.one("timeline", turn=1)
    audio_at = timeline["speech_end_s"] + timeline["first_audio_ms"] / 1000
    assert abs(audio_at - first / RATE) < 0.05


async def test_speaking_over_a_groq_reply_stops_it_as_it_stops_espeak(
    groqsim: GroqSim, home: Path
) -> None:
    over = "Stop and tell me the weather instead."
    scene = lay_out("barge", [0.8, [speak(QUESTION)], 2.6, [speak(over)], 4.0])
    groqsim.enqueue("transcriptions", transcript(QUESTION), transcript(over))
    groqsim.enqueue("chat", ChatReply(content=LONG_REPLY, ttft=0.1, tokens_per_s=500))
    groqsim.enqueue("chat", ChatReply(content="Sunny.", ttft=0.1))
    run = await replay(scene, groq_voice(groqsim, home, echo_cancelled=True), home)
    onset = scene.utterances[1][0]

    stopped = run.one("speaking_stopped", turn=1)
    assert stopped["reason"] == "barge_in"
    assert run.one("assistant_text", turn=1)["interrupted"] is True
    cut_at = round(stopped["t"] * RATE)
    assert not run.silent(onset - RATE // 4, onset)  # Groq's voice was playing
    assert cut_at - onset < RATE
    assert run.one("assistant_text", turn=2)["text"] == "Sunny."
    started = round(run.one("speaking_started", turn=2)["t"] * RATE)
    assert run.silent(cut_at + RATE // 20, started)
    assert groqsim.requests_for("speech")[-1].json["input"] == "Sunny."


async def test_a_rate_limited_groq_voice_hands_the_reply_to_espeak_and_says_so_once(
    groqsim: GroqSim, home: Path
) -> None:
    scene = lay_out("limited", [0.8, [speak(QUESTION)], 4.0])
    groqsim.enqueue("transcriptions", transcript(QUESTION))
    reply = "It is three o'clock, more or less. Time for tea."
    groqsim.enqueue("chat", ChatReply(content=reply, ttft=0.1, tokens_per_s=500))
    groqsim.enqueue("speech", ErrorReply.rate_limited(retry_after=20))
    run = await replay(scene, groq_voice(groqsim, home), home)

    assert run.code == 0
    assert len(groqsim.requests_for("speech")) == 1
    notice = run.one("error", code="voice_fallback")
    assert "rate limited" in notice["message"] and "espeak-ng" in notice["message"]
    assert "free tier" in notice["hint"]
    assert run.one("speaking_stopped", turn=1)["reason"] == "done"
    assert run.loud_at(scene.utterances[0][1]) is not None  # espeak-ng said it


async def test_a_reply_whose_first_chunk_fell_back_while_rendered_ahead_stays_with_espeak(
    groqsim: GroqSim, client: GroqClient
) -> None:
    espeak = CountingEspeak()
    voice = FallbackTTS(GroqTTS(client, MODEL, "troy"), espeak, MODEL, 1.5)
    cache = CachingTTS(voice)
    groqsim.enqueue("speech", ErrorReply.terms_required(MODEL))
    cache.prerender("It is three o'clock,")  # the speculative turn, before it is confirmed
    reply = cache.for_reply()
    await reply.render("It is three o'clock,")
    await reply.render("more or less.")
    assert len(groqsim.requests_for("speech")) == 1
    assert espeak.said == ["It is three o'clock,", "more or less."]
    await cache.for_reply().render("The next reply asks Groq again.")
    assert len(groqsim.requests_for("speech")) == 2
