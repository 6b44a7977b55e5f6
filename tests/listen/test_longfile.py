"""Long files: cut at silences, uploaded concurrently to the loopback server, merged in order."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest
import soundfile

from tests.audio.speech import RATE, ROOM_DB, speak
from tests.conftest import SleepRecorder, make_client
from tests.groqsim import ErrorReply, GroqSim, Segment, Transcript
from tests.listen.scenes import LIGHTS, PLAY, REMIND, WEATHER
from voiced.errors import RequestTooLargeError
from voiced.groq.models import Transcription, TranscriptionRequest
from voiced.listen.chunked import Progress, Transcriber, transcribe_chunks
from voiced.listen.longfile import (
    LOOKAHEAD_S,
    UNDECIDED_S,
    Chunk,
    Cutter,
    cut_points,
    max_chunk_samples,
    plan_chunks,
)
from voiced.subtitles import to_srt

MINUTES = 30
CHUNK_MAX_S = 60.0
LIMIT_MB = 25.0
TEMPLATE = TranscriptionRequest(
    audio=b"",
    filename="long.wav",
    model="whisper-large-v3-turbo",
    response_format="verbose_json",
    timestamp_granularities=("segment",),
)
SCRIPTED = (Segment(0.25, 0.75, "first"), Segment(1.0, 1.5, "second"))


@dataclass(frozen=True)
class LongFile:
    audio: np.ndarray
    speech: tuple[tuple[int, int], ...]
    """True (onset, offset) of every phrase, in samples."""
    chunks: list[Chunk]


def make_long_file(minutes: int = MINUTES, chunk_max_s: float = CHUNK_MAX_S) -> LongFile:
    """Four rendered phrases in room noise with 1.2–3.5 s silences between, cut into pieces."""
    phrases = [speak(text) for text in (LIGHTS, WEATHER, REMIND, PLAY)]
    rng = np.random.default_rng(30)
    total = minutes * 60 * RATE
    audio = rng.standard_normal(total).astype(np.float32) * np.float32(32768 * 10 ** (ROOM_DB / 20))
    speech = []
    at = RATE
    while at + 4 * RATE < total:
        phrase = phrases[len(speech) % len(phrases)]
        audio[at : at + phrase.size] += (phrase * 32768).astype(np.float32)
        speech.append((at, at + phrase.size))
        at += phrase.size + int(rng.uniform(1.2, 3.5) * RATE)
    samples = np.clip(np.rint(audio), -32768, 32767).astype(np.int16)
    chunks = plan_chunks(samples, max_chunk_samples(chunk_max_s, LIMIT_MB))
    return LongFile(samples, tuple(speech), chunks)


@pytest.fixture(scope="module")
def long_file() -> LongFile:
    """30 minutes of speech and silences, cut into pieces of at most a minute."""
    return make_long_file()


@pytest.mark.slow
def test_every_cut_of_a_30_minute_file_falls_in_a_silence(long_file: LongFile) -> None:
    chunks = long_file.chunks
    assert len(chunks) >= MINUTES  # at most a minute each
    assert chunks[0].start == 0 and chunks[-1].end == len(long_file.audio)
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert before.end == after.start
        margin = RATE // 10
        inside = [
            (on, off) for on, off in long_file.speech if on - margin < after.start < off + margin
        ]
        assert not inside, f"cut at {after.start_s:.2f}s is within 100 ms of speech {inside}"
    for chunk in chunks:
        assert chunk.duration <= CHUNK_MAX_S
        assert chunk.duration >= CHUNK_MAX_S / 2 or chunk is chunks[-1]
        decoded, rate = soundfile.read(io.BytesIO(chunk.flac), dtype="int16")
        assert rate == RATE and decoded.ndim == 1
        assert np.array_equal(decoded, long_file.audio[chunk.start : chunk.end])


def test_a_window_without_silence_is_cut_at_its_quietest_frame() -> None:
    audio = np.full(30 * RATE, 3000, dtype=np.int16)
    quiet = 22 * RATE // 480 * 480
    audio[quiet : quiet + 480] = 10
    cuts = cut_points(audio, [range(0, len(audio))], 25 * RATE)
    assert cuts == [quiet + 240]


async def test_merged_transcript_follows_the_input(
    long_file: LongFile, groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    chunks = long_file.chunks
    groqsim.enqueue(
        "transcriptions", *[Transcript("first second", segments=SCRIPTED)] * len(chunks)
    )
    async with make_client(groqsim, sleeps) as client:
        result = await transcribe_chunks(client, chunks, TEMPLATE, max_concurrent=4)

    uploads = [r.files["file"] for r in groqsim.requests_for("transcriptions")]
    assert len(uploads) == len(chunks)
    lengths = set()
    for name, _, data in uploads:
        assert name.endswith(".flac") and data[:4] == b"fLaC"
        assert len(data) < LIMIT_MB * 1_000_000
        info = soundfile.info(io.BytesIO(data))
        assert (info.samplerate, info.channels) == (RATE, 1)
        lengths.add(info.frames)
    assert lengths == {c.end - c.start for c in chunks}

    assert len(result.segments) == 2 * len(chunks)
    for i, chunk in enumerate(chunks):
        for seg, scripted in zip(result.segments[2 * i : 2 * i + 2], SCRIPTED, strict=True):
            assert seg.start == pytest.approx(chunk.start_s + scripted.start)
            assert seg.end == pytest.approx(chunk.start_s + scripted.end)
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts) and [s.id for s in result.segments] == list(range(len(starts)))
    assert result.text == " ".join(["first second"] * len(chunks))
    _check_srt(to_srt(result.segments), len(result.segments))


def _check_srt(srt: str, cues: int) -> None:
    blocks = srt.strip().split("\n\n")
    assert len(blocks) == cues
    stamp = r"(\d\d):(\d\d):(\d\d),(\d\d\d)"
    last = -1.0
    for number, block in enumerate(blocks, start=1):
        lines = block.split("\n")
        assert lines[0] == str(number)
        match = re.fullmatch(f"{stamp} --> {stamp}", lines[1])
        assert match, lines[1]
        h, m, s, ms, h2, m2, s2, ms2 = (int(g) for g in match.groups())
        start, end = h * 3600 + m * 60 + s + ms / 1000, h2 * 3600 + m2 * 60 + s2 + ms2 / 1000
        assert last <= start < end
        last = end


class Instrumented:
    """Passes requests to the real client, counting how many are in flight."""

    def __init__(self, client: Transcriber, gates: Sequence[asyncio.Event] = ()) -> None:
        self.client = client
        self.gates = gates
        self.in_flight = 0
        self.peak = 0
        self.finished: list[str] = []

    async def transcribe(self, request: TranscriptionRequest) -> Transcription:
        index = int(request.filename.split("-part")[1][:3]) - 1
        if self.gates and index + 1 < len(self.gates):
            await self.gates[index + 1].wait()  # the later piece goes first
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            return await self.client.transcribe(request)
        finally:
            self.in_flight -= 1
            self.finished.append(request.filename)
            if self.gates:
                self.gates[index].set()


async def test_uploads_in_flight_never_exceed_the_bound(
    long_file: LongFile, groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    chunks = long_file.chunks[:12]
    groqsim.enqueue("transcriptions", *[Transcript("words", delay=0.2)] * len(chunks))
    async with make_client(groqsim, sleeps) as client:
        counting = Instrumented(client)
        result = await transcribe_chunks(counting, chunks, TEMPLATE, max_concurrent=3)
    assert counting.peak == 3
    assert len(groqsim.requests_for("transcriptions")) == len(chunks)
    assert len(result.segments) == len(chunks)


async def test_order_is_kept_when_later_pieces_finish_first(
    long_file: LongFile, groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    chunks = long_file.chunks[:6]
    # The pieces reach the server last first, so the scripted replies go in that order.
    groqsim.enqueue(
        "transcriptions", *[Transcript(f"part {i}") for i in reversed(range(len(chunks)))]
    )
    async with make_client(groqsim, sleeps) as client:
        gated = Instrumented(client, [asyncio.Event() for _ in chunks])
        result = await transcribe_chunks(gated, chunks, TEMPLATE, max_concurrent=len(chunks))
    assert [int(name.split("-part")[1][:3]) for name in gated.finished] == [6, 5, 4, 3, 2, 1]
    assert result.text == "part 0 part 1 part 2 part 3 part 4 part 5"
    assert [s.text.strip() for s in result.segments] == [f"part {i}" for i in range(6)]
    assert [s.start for s in result.segments] == pytest.approx([c.start_s for c in chunks])


async def test_a_rate_limited_piece_is_retried_and_the_merge_is_complete(
    long_file: LongFile, groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    chunks = long_file.chunks[:4]
    groqsim.enqueue(
        "transcriptions",
        Transcript("words"),
        ErrorReply.rate_limited(retry_after=2.0),
        *[Transcript("words")] * 3,
    )
    async with make_client(groqsim, sleeps) as client:
        result = await transcribe_chunks(client, chunks, TEMPLATE, max_concurrent=2)
    statuses = [r.status for r in groqsim.requests_for("transcriptions")]
    assert sorted(statuses, key=str) == [200, 200, 200, 200, 429]
    assert sleeps.waits == [pytest.approx(2.0, abs=0.5)]
    assert result.text == "words words words words"
    assert [s.start for s in result.segments] == pytest.approx([c.start_s for c in chunks])


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_only_on_a_terminal() -> None:
    shown, hidden = Terminal(), io.StringIO()
    for stream in (shown, hidden):
        progress = Progress(3, stream)
        for _ in range(3):
            progress.advance()
    assert shown.getvalue().count("\r") == 4 and shown.getvalue().endswith("3/3 pieces\n")
    assert "0/3 pieces" in shown.getvalue() and "1/3 pieces" in shown.getvalue()
    assert hidden.getvalue() == ""


@pytest.mark.slow
def test_pieces_are_cut_while_the_recording_is_still_arriving(long_file: LongFile) -> None:
    max_samples = max_chunk_samples(CHUNK_MAX_S, LIMIT_MB)
    cutter = Cutter(max_samples)
    held = max_samples + int((LOOKAHEAD_S + UNDECIDED_S + 1) * RATE)
    pieces: list[Chunk] = []
    for start in range(0, len(long_file.audio), RATE):
        pieces += cutter.push(long_file.audio[start : start + RATE])
        # never more than one piece and the look-ahead waits uncut
        assert start + RATE - (pieces[-1].end if pieces else 0) <= held
    pieces += cutter.finish()
    assert [(c.start, c.end) for c in pieces] == [(c.start, c.end) for c in long_file.chunks]


async def test_a_piece_that_fails_gives_the_clients_error_not_an_exception_group(
    long_file: LongFile, groqsim: GroqSim, sleeps: SleepRecorder
) -> None:
    chunks = long_file.chunks[:4]
    groqsim.enqueue(
        "transcriptions", Transcript("words"), ErrorReply.too_large(), *[Transcript("w")] * 2
    )
    async with make_client(groqsim, sleeps) as client:
        with pytest.raises(RequestTooLargeError):
            await transcribe_chunks(client, chunks, TEMPLATE, max_concurrent=1)
