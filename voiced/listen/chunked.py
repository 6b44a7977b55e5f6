"""Long files: upload the pieces concurrently and merge their transcripts in order."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, TextIO

from voiced.audio.frames import SAMPLE_RATE
from voiced.config import ListenSettings, SttSettings
from voiced.errors import VoicedError
from voiced.groq.models import Transcription, TranscriptionRequest, TranscriptionSegment, Word
from voiced.listen.longfile import Chunk, file_chunks, max_chunk_samples


class Transcriber(Protocol):
    """What turns one upload into a transcript (``GroqClient`` is one)."""

    async def transcribe(self, request: TranscriptionRequest) -> Transcription:
        """Transcribe or translate one upload."""
        ...


class Progress:
    """Pieces done out of the total as a one-line bar on stderr, only on a terminal.

    Args:
        total: Number of pieces; None while a stream is still being cut (the bar then shows
            only the pieces done, until :meth:`expect` tells the total).
        stream: Where to draw; defaults to stderr. Nothing is drawn unless it is a terminal.
    """

    WIDTH = 30

    def __init__(self, total: int | None, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        self._shown = bool(self._stream is not None and self._stream.isatty())
        self._draw()

    def advance(self) -> None:
        """Count one more piece done and redraw."""
        self.done += 1
        self._draw()

    def expect(self, total: int) -> None:
        """Learn the number of pieces once the whole file is cut, and redraw."""
        if total != self.total:
            self.total = total
            self._draw()

    def _draw(self) -> None:
        if not self._shown:
            return
        if self.total is None:
            self._stream.write(f"\r{self.done} pieces done, cutting the rest")
        else:
            filled = self.WIDTH * self.done // max(self.total, 1)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self._stream.write(f"\r[{bar}] {self.done}/{self.total} pieces")
            if self.done == self.total:
                self._stream.write("\n")
        self._stream.flush()


class _Feed:
    """Reads the next piece in one worker thread and hands it over without keeping it.

    One thread cuts every piece, so its allocations stay in one malloc arena (a thread pool
    spreads them over several, each keeping freed pieces resident). The piece comes back
    through ``take``, not as the future's result: asyncio's chained futures form a reference
    cycle that would keep each piece's FLAC alive until the garbage collector runs.
    """

    def __init__(self, chunks: Iterable[Chunk]) -> None:
        self._pieces = iter(chunks)
        self._ready: list[Chunk] = []
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="voiced-cut")

    async def cut_next(self) -> bool:
        """Read the next piece in the worker thread; False at the end."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._read)

    def take(self) -> Chunk | None:
        """The piece ``cut_next`` read, handed over once."""
        return self._ready.pop() if self._ready else None

    def _read(self) -> bool:
        chunk = next(self._pieces, None)
        if chunk is None:
            return False
        self._ready.append(chunk)
        return True

    async def aclose(self) -> None:
        """Close the pieces' generator (in the worker thread, after any read) and the thread."""
        close = getattr(self._pieces, "close", None)
        try:
            if close is not None:
                await asyncio.get_running_loop().run_in_executor(self._thread, close)
        finally:
            self._thread.shutdown(wait=False)


async def transcribe_chunks(
    client: Transcriber,
    chunks: Iterable[Chunk],
    template: TranscriptionRequest,
    max_concurrent: int,
    progress: Progress | None = None,
) -> Transcription:
    """Send every piece (at most ``max_concurrent`` at a time) and merge the results in order.

    ``chunks`` is read (in a worker thread) only when a request may start, and each piece's
    FLAC is dropped once it is sent: with a generator that cuts pieces as it decodes
    (``longfile.file_chunks``), at most ``max_concurrent`` pieces are in memory, whatever the
    file's length. A generator is closed when this returns or fails.

    Args:
        client: Sends one request; retries on 429 and other transient errors are its job.
        chunks: The pieces, in order, with their FLAC bytes.
        template: The request to send for each piece; its audio and file name are replaced.
        max_concurrent: Largest number of requests in flight at once.
        progress: Told each time a piece is done, and the total once it is known.

    Raises:
        VoicedError: Reading the pieces failed, or a piece failed after the client's retries;
            the other requests are cancelled.
    """
    gate = asyncio.Semaphore(max_concurrent)
    stem = template.filename.rsplit(".", 1)[0] or "audio"
    feed = _Feed(chunks)
    done: list[tuple[Chunk, asyncio.Task[Transcription]]] = []

    async def one(chunk: Chunk) -> Transcription:
        request = dataclasses.replace(
            template,
            audio=chunk.flac,
            filename=f"{stem}-part{chunk.index + 1:03d}-{chunk.start_s:.2f}s.flac",
        )
        del chunk
        try:
            result = await client.transcribe(request)
        finally:
            del request
            # httpx's response and connection-pool objects form reference cycles that hold
            # the upload's FLAC: free it now, not whenever the collector next runs. Objects
            # older than this call are frozen (below), so this scans only the new ones.
            gc.collect()
            gate.release()
        if progress is not None:
            progress.advance()
        return result

    def start(group: asyncio.TaskGroup) -> bool:
        chunk = feed.take()
        if chunk is None:
            return False
        # Keep where the piece lies, not its audio.
        done.append((dataclasses.replace(chunk, flac=b""), group.create_task(one(chunk))))
        return True

    gc.freeze()  # a full collection per piece then costs ~1 ms, not one pass over everything
    try:
        async with asyncio.TaskGroup() as group:
            while True:
                await gate.acquire()
                if not await feed.cut_next() or not start(group):
                    break
            if progress is not None:
                progress.expect(len(done))
    except BaseExceptionGroup as failed:
        raise _first(failed) from None
    finally:
        gc.unfreeze()
        await feed.aclose()
    return merge([(chunk, task.result()) for chunk, task in done])


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error to show for a failed group: a VoicedError if there is one, else the first."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        error = pending.pop(0)
        if isinstance(error, BaseExceptionGroup):
            pending = [*error.exceptions, *pending]
        else:
            leaves.append(error)
    return next((e for e in leaves if isinstance(e, VoicedError)), leaves[0])


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
    """Transcribe a long file as a stream: decode, cut at silences, upload, merge.

    Each piece is uploaded as soon as it is cut; decoding, finding speech and encoding run
    in a worker thread. Peak memory does not grow with the file's length.

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
    progress = Progress(None, progress_stream)
    pieces = file_chunks(path, limit, listen)
    return await transcribe_chunks(client, pieces, template, stt.max_concurrent_uploads, progress)
