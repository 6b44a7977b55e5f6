"""Long files: upload the pieces concurrently and merge their transcripts in order."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, TextIO

from voiced.audio.frames import SAMPLE_RATE
from voiced.config import ListenSettings, SttSettings
from voiced.groq.models import Transcription, TranscriptionRequest, TranscriptionSegment, Word
from voiced.listen.longfile import Chunk, load_16k, max_chunk_samples, plan_chunks


class Transcriber(Protocol):
    """What turns one upload into a transcript (``GroqClient`` is one)."""

    async def transcribe(self, request: TranscriptionRequest) -> Transcription:
        """Transcribe or translate one upload."""
        ...


class Progress:
    """Pieces done out of the total as a one-line bar on stderr, only on a terminal.

    Args:
        total: Number of pieces.
        stream: Where to draw; defaults to stderr. Nothing is drawn unless it is a terminal.
    """

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        self._shown = bool(self._stream is not None and self._stream.isatty())
        self._draw()

    def advance(self) -> None:
        """Count one more piece done and redraw."""
        self.done += 1
        self._draw()

    def _draw(self) -> None:
        if self._shown:
            filled = self.WIDTH * self.done // max(self.total, 1)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self._stream.write(f"\r[{bar}] {self.done}/{self.total} pieces")
            if self.done == self.total:
                self._stream.write("\n")
            self._stream.flush()


async def transcribe_chunks(
    client: Transcriber,
    chunks: Sequence[Chunk],
    template: TranscriptionRequest,
    max_concurrent: int,
    progress: Progress | None = None,
) -> Transcription:
    """Send every piece (at most ``max_concurrent`` at a time) and merge the results in order.

    Args:
        client: Sends one request; retries on 429 and other transient errors are its job.
        chunks: The pieces, in order, with their FLAC bytes.
        template: The request to send for each piece; its audio and file name are replaced.
        max_concurrent: Largest number of requests in flight at once.
        progress: Told each time a piece is done.

    Raises:
        VoicedError: A piece failed after the client's retries; the others are cancelled.
    """
    gate = asyncio.Semaphore(max_concurrent)
    stem = template.filename.rsplit(".", 1)[0] or "audio"

    async def one(chunk: Chunk) -> Transcription:
        request = dataclasses.replace(
            template,
            audio=chunk.flac,
            filename=f"{stem}-part{chunk.index + 1:03d}-{chunk.start_s:.2f}s.flac",
        )
        async with gate:
            result = await client.transcribe(request)
        if progress is not None:
            progress.advance()
        return result

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(chunk)) for chunk in chunks]
    return merge([(chunk, task.result()) for chunk, task in zip(chunks, tasks, strict=True)])


def merge(parts: Sequence[tuple[Chunk, Transcription]]) -> Transcription:
    """Join transcripts of consecutive pieces into one for the whole file.

    Text is joined with spaces; segments and words move by their piece's start and segments
    are numbered again from 0, so times only grow and subtitles stay valid.
    """
    texts = [result.text.strip() for _, result in parts if result.text.strip()]
    segments: list[TranscriptionSegment] = []
    words: list[Word] = []
    for chunk, result in parts:
        offset = chunk.start_s
        for seg in result.segments:
            segments.append(
                dataclasses.replace(
                    seg,
                    id=len(segments),
                    start=offset + min(seg.start, chunk.duration),
                    end=offset + min(seg.end, chunk.duration),
                )
            )
        for word in result.words:
            words.append(
                dataclasses.replace(word, start=offset + word.start, end=offset + word.end)
            )
    language = next((r.language for _, r in parts if r.language), None)
    duration = parts[-1][0].end / SAMPLE_RATE if parts else 0.0
    return Transcription(
        text=" ".join(texts),
        language=language,
        duration=duration,
        segments=tuple(segments),
        words=tuple(words),
        request_id=parts[0][1].request_id if parts else None,
    )


async def transcribe_file(
    client: Transcriber,
    path: Path,
    template: TranscriptionRequest,
    stt: SttSettings,
    listen: ListenSettings | None = None,
    progress_stream: TextIO | None = None,
) -> Transcription:
    """Transcribe a long file: decode, cut at silences, upload the pieces, merge.

    Decoding, finding speech and encoding run in a worker thread.

    Args:
        client: Sends each piece.
        path: Any audio file libsndfile or ffmpeg reads.
        template: The request for each piece (model, language, format, …).
        stt: Gives ``chunk_max_s``, ``upload_limit_mb`` and ``max_concurrent_uploads``.
        listen: The segmenter's settings.
        progress_stream: Where the progress bar goes (stderr by default, only on a terminal).

    Raises:
        InputError: The file cannot be decoded.
        VoicedError: A piece failed after the client's retries.
    """
    limit = max_chunk_samples(stt.chunk_max_s, stt.upload_limit_mb)

    def prepare() -> list[Chunk]:
        return plan_chunks(load_16k(path), limit, listen)

    chunks = await asyncio.to_thread(prepare)
    progress = Progress(len(chunks), progress_stream)
    return await transcribe_chunks(client, chunks, template, stt.max_concurrent_uploads, progress)
