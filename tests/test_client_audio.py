"""Transcription, translation and the models list against the loopback server."""

from __future__ import annotations

import io
import wave

import pytest

from tests.groqsim import GroqSim, Segment, Transcript, Word
from tests.schemas import validate_transcription_form, validate_translation_form
from voiced.errors import InputError
from voiced.groq import GroqClient, TranscriptionRequest


def wav_bytes(seconds: float = 1.0, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * int(seconds * rate))
    return buf.getvalue()


AUDIO = wav_bytes()


def req(**fields: object) -> TranscriptionRequest:
    base: dict[str, object] = {
        "audio": AUDIO,
        "filename": "utterance.wav",
        "model": "whisper-large-v3-turbo",
    }
    return TranscriptionRequest(**{**base, **fields})  # type: ignore[arg-type]


async def test_transcription_upload_is_documented_multipart(
    groqsim: GroqSim, client: GroqClient
) -> None:
    groqsim.enqueue("transcriptions", Transcript(text="Turn on the lights."))
    result = await client.transcribe(
        req(language="en", prompt="Names: Voiced, Groq.", temperature=0.2)
    )
    assert result.text == "Turn on the lights."
    assert result.request_id is not None and result.request_id.startswith("req_")
    sent = groqsim.requests_for("transcriptions")[0]
    assert sent.path == "/openai/v1/audio/transcriptions"
    assert sent.files["file"][0] == "utterance.wav"
    assert sent.files["file"][2] == AUDIO
    assert sent.form == {
        "model": ["whisper-large-v3-turbo"],
        "language": ["en"],
        "prompt": ["Names: Voiced, Groq."],
        "temperature": ["0.2"],
        "response_format": ["json"],
    }
    validate_transcription_form(sent.form, sent.files)


async def test_verbose_json_gives_typed_segments_and_words(
    groqsim: GroqSim, client: GroqClient
) -> None:
    groqsim.enqueue(
        "transcriptions",
        Transcript(
            text="Hello there. Thank you.",
            segments=[
                Segment(0.0, 1.2, " Hello there.", avg_logprob=-0.15, no_speech_prob=0.02),
                Segment(
                    1.2,
                    2.0,
                    " Thank you.",
                    avg_logprob=-0.9,
                    no_speech_prob=0.85,
                    compression_ratio=2.7,
                ),
            ],
            words=[Word("Hello", 0.0, 0.4), Word("there", 0.4, 1.1)],
            duration=2.0,
        ),
    )
    result = await client.transcribe(
        req(response_format="verbose_json", timestamp_granularities=("segment", "word"))
    )
    assert result.language == "English" and result.duration == 2.0
    assert [s.text for s in result.segments] == [" Hello there.", " Thank you."]
    second = result.segments[1]
    assert (second.start, second.end) == (1.2, 2.0)
    assert second.avg_logprob == -0.9 and second.no_speech_prob == 0.85
    assert second.compression_ratio == 2.7
    assert [w.word for w in result.words] == ["Hello", "there"]
    sent = groqsim.requests_for("transcriptions")[0]
    assert sent.form["timestamp_granularities[]"] == ["segment", "word"]
    validate_transcription_form(sent.form, sent.files)


async def test_text_format(groqsim: GroqSim, client: GroqClient) -> None:
    groqsim.enqueue("transcriptions", Transcript(text="Plain words."))
    result = await client.transcribe(req(response_format="text"))
    assert result.text == "Plain words."
    assert result.segments == ()


async def test_translation_goes_to_its_own_endpoint(groqsim: GroqSim, client: GroqClient) -> None:
    groqsim.enqueue("translations", Transcript(text="Good morning."))
    result = await client.transcribe(
        req(
            model="whisper-large-v3",
            translate=True,
            filename="clip.flac",
            timestamp_granularities=("segment",),
        )
    )
    assert result.text == "Good morning."
    sent = groqsim.requests_for("translations")[0]
    assert sent.path == "/openai/v1/audio/translations"
    assert "timestamp_granularities[]" not in sent.form
    assert sent.files["file"][0] == "clip.flac"
    validate_translation_form(sent.form, sent.files)


async def test_prompt_over_896_characters_is_refused_before_sending(
    groqsim: GroqSim, client: GroqClient
) -> None:
    with pytest.raises(InputError, match="897 characters"):
        await client.transcribe(req(prompt="x" * 897))
    assert groqsim.requests == []
    await client.transcribe(req(prompt="x" * 896))
    assert len(groqsim.requests) == 1


@pytest.mark.parametrize("name", ["voice.aiff", "voice", "voice.txt"])
async def test_unsupported_extension_is_refused_before_sending(
    groqsim: GroqSim, client: GroqClient, name: str
) -> None:
    with pytest.raises(InputError, match="unsupported audio type"):
        await client.transcribe(req(filename=name))
    assert groqsim.requests == []


async def test_models_list(groqsim: GroqSim, client: GroqClient) -> None:
    models = await client.list_models()
    ids = [m.id for m in models]
    assert ids == sorted(ids)
    assert "openai/gpt-oss-20b" in ids and "whisper-large-v3" in ids
    chat = next(m for m in models if m.id == "openai/gpt-oss-20b")
    assert chat.context_window == 131072 and chat.active and chat.owned_by
