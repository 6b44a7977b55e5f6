"""Hostile answers to Groq's voice: whatever the speech endpoint sends (an HTML page with a 200,
audio that never ends, a flood of bytes, a WAV cut inside its header), the request ends within
its bounds and espeak-ng says the reply, with one warning; nothing raises past the fallback."""

from __future__ import annotations

import logging
import time

import pytest

from tests.groqsim import Endless, GroqSim, Raw
from voiced.errors import ApiError, ConnectionFailedError, SpeechSynthesisError
from voiced.groq import GroqClient
from voiced.speak.fallback import FallbackNotice, FallbackTTS
from voiced.speak.fileout import WavFileOutput
from voiced.speak.groqtts import GroqTTS
from voiced.speak.speaker import Speaker
from voiced.speak.tts import EspeakTTS

MODEL = "canopylabs/orpheus-v1-english"
HTML = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>"
RIFF_HEAD = b"RIFF\xff\xff\xff\xffWAVEfmt "  # a WAV header that stops inside its fmt chunk

HOSTILE = {
    "an HTML page with 200": (Raw(HTML, content_type="text/html"), SpeechSynthesisError),
    "a WAV cut inside its header": (Raw(RIFF_HEAD, content_type="audio/wav"), SpeechSynthesisError),
    "audio that trickles for ever": (
        Endless(piece=b"\x00\x01", interval=0.05, prefix=RIFF_HEAD, content_type="audio/wav"),
        ConnectionFailedError,
    ),
    "a flood of audio": (Endless(piece=b"\x00" * 65536, interval=0.0), ApiError),
    "an empty 200": (Raw(b"", content_type="audio/wav"), ApiError),
}


@pytest.mark.parametrize("reply", HOSTILE, ids=list(HOSTILE))
async def test_a_hostile_speech_answer_ends_in_bounds_and_espeak_says_the_reply(
    groqsim: GroqSim, client: GroqClient, caplog: pytest.LogCaptureFixture, reply: str
) -> None:
    answer, error = HOSTILE[reply]
    groq = GroqTTS(client, MODEL, "troy", first_byte_s=1.0, total_s=2.0)
    groqsim.enqueue("speech", answer)
    began = time.monotonic()
    with pytest.raises(error):
        await groq.render("Hello there.")
    assert time.monotonic() - began < 3.0

    notices: list[FallbackNotice] = []
    groqsim.enqueue("speech", answer)
    voice = FallbackTTS(groq, EspeakTTS(), MODEL, 1.0, notices.append)
    output = WavFileOutput()
    with caplog.at_level(logging.WARNING, "voiced.speak.fallback"):
        result = await Speaker(voice, output, earcons=False).say("Hello there. How are you?")
    assert [c.status for c in result.chunks] == ["played", "played"]
    assert output.samples().size > 22050
    assert len(notices) == 1 and len(caplog.records) == 1
    assert len(groqsim.requests_for("speech")) == 2  # one each time; the rest went to espeak-ng
