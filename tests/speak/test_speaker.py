"""The Speaker and its bookkeeping, with rendered audio collected by WavFileOutput."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from tests.speak.helpers import KeepingTTS
from voiced.audio.playback import Clip, Playback
from voiced.speak.fileout import WavFileOutput
from voiced.speak.speaker import Speaker, SpokenChunk

REPLY = "## Answer\nLima is the capital of **Peru**, on the coast. It has ~10 million people 🎉."


async def trickle(text: str, size: int = 3) -> AsyncIterator[str]:
    for at in range(0, len(text), size):
        yield text[at : at + size]
        await asyncio.sleep(0)


async def test_a_streamed_reply_is_cleaned_chunked_rendered_and_output_in_order() -> None:
    tts, output = KeepingTTS(), WavFileOutput()
    result = await Speaker(tts, output).speak_stream(trickle(REPLY))
    assert tts.texts == [
        "Answer.",  # the first chunk: a line of its own
        "Lima is the capital of Peru, on the coast.",  # later chunks are whole sentences
        "It has about 10 million people.",
    ]
    assert [c.text for c in result.chunks] == tts.texts
    assert [c.status for c in result.chunks] == ["played"] * 3
    assert not result.interrupted
    assert result.spoken_text == result.text == " ".join(tts.texts)
    expected = np.concatenate([clip.samples for clip in tts.clips])
    assert np.array_equal(output.samples(), expected)


async def test_say_writes_a_wav_file_of_the_rendered_speech(tmp_path: Path) -> None:
    tts, output = KeepingTTS(), WavFileOutput()
    await Speaker(tts, output).say("Hello there. This goes to a file.")
    output.save(str(tmp_path / "out.wav"))
    with wave.open(str(tmp_path / "out.wav"), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (22050, 1, 2)
        saved = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert np.array_equal(saved, np.concatenate([c.samples for c in tts.clips]))


async def test_text_with_nothing_to_say_renders_nothing() -> None:
    tts, output = KeepingTTS(), WavFileOutput()
    result = await Speaker(tts, output).say("```\ncode only\n```\n🎉 ---")
    assert tts.texts == ["Code omitted."]
    result = await Speaker(tts, output).say("🎉 *waves*")
    assert result.chunks == () and result.spoken_text == ""


async def test_a_failing_delta_stream_stops_speech_and_propagates() -> None:
    async def broken() -> AsyncIterator[str]:
        yield "Hello there, my friend. "
        raise ConnectionError("stream dropped")

    with pytest.raises(ConnectionError):
        await Speaker(KeepingTTS(), WavFileOutput()).speak_stream(broken())


def test_a_partially_played_chunk_keeps_the_words_heard() -> None:
    text = "one two three four five six seven eight"
    assert SpokenChunk(text, 1000, 800, 0).spoken_text == ""
    assert SpokenChunk(text, 1000, 800, 400).status == "partial"
    assert SpokenChunk(text, 1000, 800, 400).spoken_text == "one two three four"
    assert SpokenChunk(text, 1000, 800, 360).spoken_text == "one two three"  # "four" cut off
    assert SpokenChunk(text, 1000, 800, 850).status == "played"  # only trailing silence lost
    assert SpokenChunk(text, 1000, 800, 850).spoken_text == text


def clip(seconds: float) -> Clip:
    return Clip(np.ones(int(seconds * 22050), dtype=np.int16), 22050)


async def test_a_playback_whose_output_refuses_clips_reports_them_skipped() -> None:
    playback = Playback(lambda item: False)  # as after a stop: the generation moved on
    playback.add(clip(0.1))
    playback.close()
    await asyncio.wait_for(playback.finished(), 1)
    assert playback.cancelled
    assert [r.status for r in playback.reports()] == ["skipped"]
    playback.add(clip(0.1))
    assert [r.status for r in playback.reports()] == ["skipped", "skipped"]


async def test_finished_waits_for_close_and_for_every_clip() -> None:
    queued = []
    playback = Playback(lambda item: queued.append(item) or True)
    playback.add(clip(0.1))
    playback.add(clip(0.2))
    waiter = asyncio.create_task(playback.finished())
    await asyncio.sleep(0.01)
    queued[0].playback.settle(0, queued[0].samples.size)
    playback.close()
    await asyncio.sleep(0.01)
    assert not waiter.done()  # the second clip is still out
    queued[1].cut(None, 22050)  # stopped before it started
    await asyncio.wait_for(waiter, 1)
    assert [r.status for r in playback.reports()] == ["played", "skipped"]
    assert playback.cancelled


@pytest.mark.parametrize("let_go", [True, False], ids=["let-go", "stopped"])
async def test_a_reply_held_before_its_first_audio_is_rendered_but_not_played_until_let_go(
    let_go: bool,
) -> None:
    """``before_first`` (the pipeline's hold on a reply to a question that sounds unfinished):
    the first chunk is rendered meanwhile but none of it goes out; let go, the reply plays
    whole; stopped instead (the turn was withdrawn or cancelled), nothing of it was heard."""
    tts, output = KeepingTTS(), WavFileOutput()
    speaker = Speaker(tts, output)
    reply, waiting, gate = speaker.reply(), asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        waiting.set()
        await gate.wait()

    reply.before_first = hold
    reply.feed("Sure. Here it is, as you asked.")
    await asyncio.wait_for(waiting.wait(), 10)
    assert tts.texts == ["Sure."], "the first chunk is rendered while it waits"
    assert output.samples().size == 0 and not reply.first_chunk_queued.is_set()
    if let_go:
        gate.set()
        result = await reply.finish()
        assert [c.status for c in result.chunks] == ["played", "played"]
        assert np.array_equal(output.samples(), np.concatenate([c.samples for c in tts.clips]))
        return
    speaker.stop()
    reply.cancel()
    result = reply.result()
    assert result.spoken_text == "" and output.samples().size == 0
