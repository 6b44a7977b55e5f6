"""Groq's voice through the real client and the loopback server, and espeak-ng taking over when
it fails: a reply's chunks, one request each, the fallback said once."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import socket
import wave
from collections.abc import AsyncIterator

import numpy as np
import pytest
import soxr

from tests.audio.signals import best_alignment
from tests.conftest import make_client
from tests.groqsim import ErrorReply, GroqSim, Speech
from tests.groqsim.voice import speech_wav
from voiced.audio.playback import Clip
from voiced.errors import SpeechSynthesisError
from voiced.groq import GroqClient
from voiced.speak.fallback import FallbackNotice, FallbackTTS
from voiced.speak.fileout import WavFileOutput
from voiced.speak.groqtts import GroqTTS, decode_speech, split_input
from voiced.speak.speaker import Speaker
from voiced.speak.tts import EspeakTTS

MODEL = "canopylabs/orpheus-v1-english"
REPLY = "Lima is the capital of Peru, on the coast. About ten million people live there. It is old."
CHUNKS = ["Lima is the capital of Peru,", "on the coast.", "About ten million people live there."]
CHUNKS.append("It is old.")


class CountingEspeak(EspeakTTS):
    """espeak-ng that notes what it was asked to say."""

    def __init__(self) -> None:
        super().__init__()
        self.said: list[str] = []

    async def render(self, text: str) -> Clip:
        self.said.append(text)
        return await super().render(text)


class Voices:
    """Groq's voice with espeak-ng behind it, and what each was asked to say."""

    def __init__(self, client: GroqClient, first_byte_s: float = 1.5, clock: float = 0.0) -> None:
        self.espeak = CountingEspeak()
        self.groq = GroqTTS(client, MODEL, "troy", first_byte_s)
        self.notices: list[FallbackNotice] = []
        self.now = clock
        self.tts = FallbackTTS(
            self.groq, self.espeak, MODEL, first_byte_s, self.notices.append, lambda: self.now
        )

    async def say(self, text: str = REPLY) -> WavFileOutput:
        output = WavFileOutput()
        await Speaker(self.tts, output, earcons=False).say(text)
        return output


@pytest.fixture
async def voices(client: GroqClient) -> AsyncIterator[Voices]:
    yield Voices(client)


def as_played(wav: bytes) -> np.ndarray:
    """The simulator's WAV as the player gets it: 22050 Hz."""
    with wave.open(io.BytesIO(wav), "rb") as read:
        rate = read.getframerate()
        samples = np.frombuffer(read.readframes(read.getnframes()), "<i2")
    return soxr.resample(samples.astype(np.float32) / 32768, rate, 22050)


async def test_each_chunk_is_one_request_and_the_reply_is_groqs_audio_at_22050_hz(
    groqsim: GroqSim, voices: Voices
) -> None:
    output = await voices.say()

    requests = groqsim.requests_for("speech")
    assert [r.json["input"] for r in requests] == CHUNKS
    assert {r.json["voice"] for r in requests} == {"troy"}
    assert voices.espeak.said == [] and voices.notices == []
    heard = output.samples()
    assert output.rate == 22050
    for chunk in CHUNKS:
        lag, correlation = best_alignment(heard, as_played(speech_wav(chunk, "troy", 48000)))
        assert correlation >= 0.95, (chunk, correlation)


async def test_a_chunk_over_200_characters_goes_in_pieces_cut_at_a_clause(
    groqsim: GroqSim, voices: Voices
) -> None:
    long = ("This sentence keeps on going and going, " * 7).strip().rstrip(",") + "."
    assert 200 < len(long) <= 300  # one chunk for the chunker
    clip = await voices.groq.render(long)
    inputs = [r.json["input"] for r in groqsim.requests_for("speech")]
    assert len(inputs) == 2 and all(len(i) <= 200 for i in inputs)
    assert inputs[0].endswith(",") and " ".join(inputs) == long
    assert clip.rate == 22050 and clip.seconds > 8


def test_split_input_prefers_sentence_ends_then_clauses_then_spaces() -> None:
    sentences = "First one here. " + "x" * 150 + " end. Tail, " + "y" * 30
    assert split_input(sentences, 180)[0] == "First one here. " + "x" * 150 + " end."
    clauses = "a, " + "b" * 190 + ", c d e f g h"
    assert split_input(clauses, 200)[0] == "a, " + "b" * 190 + ","
    words = " ".join(["word"] * 60)
    assert all(len(p) <= 200 for p in split_input(words)) and " ".join(split_input(words)) == words
    assert split_input("z" * 450) == ["z" * 200, "z" * 200, "z" * 50]
    assert split_input("Short.") == ["Short."]


def test_decode_refuses_bytes_that_are_not_a_wav_file() -> None:
    with pytest.raises(SpeechSynthesisError, match="not a WAV file"):
        decode_speech([b'{"error": "oops"}'], 22050)


def test_decode_downmixes_resamples_scales_and_trims_the_lead_in() -> None:
    rate = 48000
    tone = (np.sin(np.arange(rate) * 2 * np.pi * 440 / rate) * 16000).astype(np.int16)
    silence = np.zeros(rate // 2, np.int16)
    stereo = np.stack([np.concatenate([silence, tone])] * 2, axis=1)
    data = io.BytesIO()
    with wave.open(data, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(stereo.tobytes())
    clip = decode_speech([data.getvalue()], 22050, volume=0.5)
    assert clip.rate == 22050
    assert abs(clip.seconds - 1.0) < 0.01  # the half second of silence is gone
    assert 7000 < int(np.abs(clip.samples.astype(np.int32)).max()) < 8500


FAULTS = {
    "terms not accepted": (ErrorReply.terms_required(MODEL), "terms"),
    "rate limited": (ErrorReply.rate_limited(retry_after=20), "rate_limit"),
    "slow first byte": (Speech(ttfb=3.0), "first_byte"),
    "dropped connection": (Speech(drop_after=4000), "network"),
}


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
async def test_each_failure_hands_the_rest_of_the_reply_to_espeak_with_one_log_line(
    groqsim: GroqSim, client: GroqClient, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    reply, kind = FAULTS[fault]
    voices = Voices(client, first_byte_s=0.4)
    groqsim.enqueue("speech", reply)
    with caplog.at_level(logging.INFO, "voiced.speak.fallback"):
        output = await voices.say()

    assert len(groqsim.requests_for("speech")) == 1  # the rest was never asked of Groq
    assert voices.espeak.said == CHUNKS  # the failed chunk too: nothing is lost
    assert output.samples().size > 3 * 22050
    assert [n.kind for n in voices.notices] == [kind]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "espeak-ng" in warnings[0].getMessage()


async def test_an_unreachable_server_hands_the_reply_to_espeak(
    groqsim: GroqSim, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    async with make_client(groqsim, max_retries=0) as client:
        client.options = dataclasses.replace(
            client.options, speech_url=f"http://127.0.0.1:{port}/openai/v1"
        )
        voices = Voices(client)
        with caplog.at_level(logging.WARNING, "voiced.speak.fallback"):
            await voices.say()
    assert voices.espeak.said == CHUNKS
    assert [n.kind for n in voices.notices] == ["network"]
    assert "cannot be reached" in voices.notices[0].message
    assert len(caplog.records) == 1


async def test_a_failure_mid_reply_keeps_what_groq_said_and_espeak_says_the_rest(
    groqsim: GroqSim, voices: Voices
) -> None:
    groqsim.enqueue("speech", Speech(), Speech(), ErrorReply.terms_required(MODEL))
    await voices.say()
    assert [r.json["input"] for r in groqsim.requests_for("speech")] == CHUNKS[:3]
    assert voices.espeak.said == CHUNKS[2:]


async def test_the_next_reply_tries_groq_again_and_one_outage_is_announced_once(
    groqsim: GroqSim, voices: Voices, caplog: pytest.LogCaptureFixture
) -> None:
    terms = ErrorReply.terms_required(MODEL)
    groqsim.enqueue("speech", terms, terms)
    with caplog.at_level(logging.WARNING, "voiced.speak.fallback"):
        await voices.say("First reply.")
        await voices.say("Second reply.")
        assert len(groqsim.requests_for("speech")) == 2  # each reply asked Groq first
        assert len(caplog.records) == 1 and len(voices.notices) == 1
        await voices.say("Groq is back.")  # the default reply: it works
        assert voices.espeak.said == ["First reply.", "Second reply."]
        groqsim.enqueue("speech", terms)
        await voices.say("And gone again.")
    assert len(caplog.records) == 2 and [n.kind for n in voices.notices] == ["terms", "terms"]


async def test_after_a_rate_limit_groq_is_not_asked_until_the_limit_resets(
    groqsim: GroqSim, voices: Voices
) -> None:
    groqsim.enqueue("speech", ErrorReply.rate_limited(retry_after=20))
    await voices.say("One.")
    voices.now += 10
    await voices.say("Two.")
    assert len(groqsim.requests_for("speech")) == 1
    voices.now += 11
    await voices.say("Three.")
    assert len(groqsim.requests_for("speech")) == 2
    assert voices.espeak.said == ["One.", "Two."]
    assert "rate limited for 20 s" in voices.notices[0].message


async def test_chunks_rendered_ahead_at_once_still_learn_that_the_first_one_failed(
    groqsim: GroqSim, voices: Voices
) -> None:
    groqsim.enqueue("speech", ErrorReply.rate_limited(retry_after=20))
    reply = voices.tts.for_reply()
    first, second = await asyncio.gather(reply.render(CHUNKS[0]), reply.render(CHUNKS[1]))
    assert len(groqsim.requests_for("speech")) == 1
    assert voices.espeak.said == CHUNKS[:2]  # in order, both by espeak-ng
    assert first.rate == second.rate == 22050
