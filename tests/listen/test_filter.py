"""The transcript filter: doubtful segments and invented phrases never pass as user speech."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
import soundfile  # type: ignore[import-untyped, unused-ignore]

from tests.audio.recordings import prompt
from tests.groqsim import GroqSim, Segment, Transcript
from tests.listen.harness import ended, run
from tests.listen.realscenes import prompt_scene
from tests.listen.scenes import speech_scenes
from voiced.config import ListenSettings
from voiced.groq import GroqClient, TranscriptionRequest
from voiced.groq.models import Transcription, TranscriptionSegment
from voiced.listen import Segmenter
from voiced.listen.filter import Accepted, Rejected, TranscriptFilter, normalise

SETTINGS = ListenSettings()
LOUD, QUIET = -22.0, -52.0


def seg(
    text: str,
    no_speech: float = 0.02,
    logprob: float = -0.2,
    compression: float = 1.2,
    start: float = 0.0,
) -> TranscriptionSegment:
    return TranscriptionSegment(
        id=0,
        start=start,
        end=start + 1.0,
        text=text,
        avg_logprob=logprob,
        no_speech_prob=no_speech,
        compression_ratio=compression,
    )


def transcript(*segments: TranscriptionSegment) -> Transcription:
    return Transcription(text="".join(s.text for s in segments), segments=segments)


def judge(t: Transcription, seconds: float = 4.0, level: float = LOUD) -> Accepted | Rejected:
    return TranscriptFilter(SETTINGS).judge(t, seconds, level)


def test_thank_you_with_high_no_speech_prob_on_a_short_quiet_utterance_is_rejected() -> None:
    verdict = judge(transcript(seg(" Thank you.", no_speech=0.85, logprob=-0.7)), 0.8, QUIET)

    assert isinstance(verdict, Rejected)
    assert verdict.text == "Thank you."
    assert "no_speech_prob 0.85 > 0.6 with avg_logprob -0.70 < -0.5" in verdict.reason


def test_thank_you_in_a_long_loud_confident_utterance_is_accepted() -> None:
    verdict = judge(transcript(seg(" Thank you.", no_speech=0.01, logprob=-0.15)), 4.0, LOUD)

    assert verdict == Accepted("Thank you.")


def test_a_confident_thank_you_is_still_rejected_when_the_utterance_is_short() -> None:
    verdict = judge(transcript(seg(" Thank you.", no_speech=0.1, logprob=-0.3)), 0.9, LOUD)

    assert isinstance(verdict, Rejected)
    assert "phrase Whisper invents" in verdict.reason and "short utterance (0.9 s" in verdict.reason


def test_a_phantom_phrase_in_a_quiet_utterance_is_rejected_and_repeats_count() -> None:
    verdict = judge(transcript(seg(" Thanks for watching! Thank you.")), 5.0, QUIET)

    assert isinstance(verdict, Rejected)
    assert "quiet utterance (-52 dBFS < -40 dBFS)" in verdict.reason


def test_a_sentence_that_merely_contains_a_phantom_phrase_is_accepted() -> None:
    verdict = judge(transcript(seg(" Thank you, turn it off.")), 1.0, QUIET)

    assert verdict == Accepted("Thank you, turn it off.")


@pytest.mark.parametrize(
    ("segment", "reason"),
    [
        (seg(" Hello.", no_speech=0.95, logprob=-0.1), "no_speech_prob 0.95 > 0.9"),
        (seg(" Hello.", no_speech=0.7, logprob=-0.6), "avg_logprob -0.60 < -0.5"),
        (seg(" Hello.", logprob=-1.3), "avg_logprob -1.30 < -1"),
        (seg(" Go go go go go go.", compression=2.9), "compression_ratio 2.90 > 2.4"),
    ],
    ids=["no-speech-alone", "no-speech-with-low-logprob", "logprob", "compression"],
)
def test_each_threshold_rejects_a_segment(segment: TranscriptionSegment, reason: str) -> None:
    verdict = judge(transcript(segment))

    assert isinstance(verdict, Rejected)
    assert reason in verdict.reason


def test_just_inside_each_threshold_is_accepted() -> None:
    edge = seg(" Hello there.", no_speech=0.9, logprob=-0.49, compression=2.4)

    assert judge(transcript(edge)) == Accepted("Hello there.")


def test_thresholds_come_from_the_settings() -> None:
    strict = TranscriptFilter(replace(SETTINGS, min_avg_logprob=-0.3))
    verdict = strict.judge(transcript(seg(" Hello there.", logprob=-0.4)), 4.0, LOUD)

    assert isinstance(verdict, Rejected) and "avg_logprob -0.40 < -0.3" in verdict.reason


def test_a_doubtful_trailing_segment_is_left_out_and_said_so() -> None:
    verdict = judge(
        transcript(
            seg(" Turn on the lights."),
            seg(" Thank you.", no_speech=0.92, logprob=-0.4, start=1.0),
        )
    )

    assert isinstance(verdict, Accepted)
    assert verdict.text == "Turn on the lights."
    assert verdict.dropped == ("'Thank you.': no_speech_prob 0.92 > 0.9",)


def test_an_empty_transcript_is_rejected() -> None:
    verdict = judge(Transcription(text=" ... "))

    assert verdict == Rejected("empty transcript", "...")


def test_phantoms_match_without_case_or_punctuation() -> None:
    assert normalise("THANK you!!") == normalise("Thank you.") == ("thank", "you")
    verdict = judge(Transcription(text="thank YOU"), 1.0, LOUD)
    assert isinstance(verdict, Rejected)


async def test_a_segmented_utterance_goes_up_as_flac_and_a_scripted_thank_you_is_rejected(
    groqsim: GroqSim, client: GroqClient
) -> None:
    utterance = ended(run(Segmenter(SETTINGS), speech_scenes()["us_160"].audio))[0]
    groqsim.enqueue(
        "transcriptions",
        Transcript(
            text=" Thank you.",
            segments=[Segment(0.0, 1.1, " Thank you.", avg_logprob=-0.8, no_speech_prob=0.88)],
            duration=utterance.duration,
        ),
    )
    filename, data = utterance.encode("flac")
    result = await client.transcribe(
        TranscriptionRequest(
            audio=data,
            filename=filename,
            model="whisper-large-v3-turbo",
            response_format="verbose_json",
        )
    )

    verdict = TranscriptFilter(SETTINGS).judge_utterance(result, utterance)

    assert isinstance(verdict, Rejected)
    assert "no_speech_prob 0.88 > 0.6" in verdict.reason
    sent_name, _, sent = groqsim.requests_for("transcriptions")[0].files["file"]
    assert sent_name == filename and filename.endswith(".flac")
    decoded, rate = soundfile.read(io.BytesIO(sent), dtype="int16")
    assert rate == 16000
    np.testing.assert_array_equal(decoded, utterance.audio)


def test_a_clear_thank_you_in_a_short_loud_utterance_is_kept() -> None:
    # Whisper is sure of it (a real "thank you" scores no_speech_prob below 0.02): people
    # thank assistants.
    verdict = judge(transcript(seg(" Thank you.", no_speech=0.01, logprob=-0.15)), 0.7, LOUD)

    assert verdict == Accepted("Thank you.")


@pytest.mark.parametrize(
    ("segment", "seconds", "reason"),
    [
        (seg(" Thank you.", no_speech=0.3), 0.7, "no_speech_prob 0.30 > 0.06"),
        (seg(" Thank you.", logprob=-0.7), 0.7, "avg_logprob -0.70 < -0.5"),
        (seg(" Thank you."), 0.25, "its speech lasts 0.25 s < 0.4 s"),
    ],
    ids=["no-speech", "logprob", "too-short"],
)
def test_a_short_thank_you_is_rejected_when_its_metadata_or_length_doubts_it(
    segment: TranscriptionSegment, seconds: float, reason: str
) -> None:
    verdict = judge(transcript(segment), seconds, LOUD)

    assert isinstance(verdict, Rejected)
    assert "phrase Whisper invents" in verdict.reason and reason in verdict.reason


def test_without_whisper_metadata_a_short_thank_you_is_still_rejected() -> None:
    verdict = judge(Transcription(text=" Thank you."), 0.7, LOUD)

    assert isinstance(verdict, Rejected) and "short utterance (0.7 s" in verdict.reason


async def test_a_real_voice_saying_thank_you_is_segmented_uploaded_and_kept(
    groqsim: GroqSim, client: GroqClient
) -> None:
    # Allison Smith's recorded "Thank you." (0.7 s, normal loudness), as Whisper hears a
    # clear one: the phantom filter once threw this away.
    said = prompt("auth-thankyou")
    scene = prompt_scene("thanks", [said], "clean")
    utterance = ended(run(Segmenter(SETTINGS), scene.audio))[0]
    groqsim.enqueue(
        "transcriptions",
        Transcript(
            text=" Thank you.",
            segments=[Segment(0.0, 0.7, " Thank you.", avg_logprob=-0.12, no_speech_prob=0.004)],
            duration=utterance.duration,
        ),
    )
    filename, data = utterance.encode("flac")
    result = await client.transcribe(
        TranscriptionRequest(
            audio=data,
            filename=filename,
            model="whisper-large-v3-turbo",
            response_format="verbose_json",
        )
    )

    verdict = TranscriptFilter(SETTINGS).judge_utterance(result, utterance)

    assert said.text == "Thank you." and 0.5 < utterance.speech_duration < 1.0
    assert verdict == Accepted("Thank you.")
