"""``voiced transcribe`` and ``voiced translate``: one audio file to text."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
from pathlib import Path
from typing import Literal

from voiced.commands.common import run_with_client, settings
from voiced.commands.textin import printable_name
from voiced.config import SttSettings
from voiced.errors import InputError
from voiced.groq.client import GroqClient
from voiced.groq.models import AUDIO_EXTENSIONS, Transcription, TranscriptionRequest
from voiced.subtitles import to_srt, to_vtt


def check_audio(path: Path) -> int:
    """Check that ``path`` exists, is a regular file and has an accepted type.

    Returns:
        Its size in bytes.

    Raises:
        InputError: The file is missing, unreadable or of an unsupported type.
    """
    extension = path.suffix.lower().lstrip(".")
    if extension not in AUDIO_EXTENSIONS:
        raise InputError(
            f"{path}: unsupported file type {path.suffix or '(no extension)'}",
            f"use one of {', '.join(AUDIO_EXTENSIONS)} (convert with: ffmpeg -i {path.name} "
            f"-ar 16000 -ac 1 {path.stem}.flac)",
        )
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{path}: no such file", "check the path") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied", "check the file's permissions") from None
    if not path.is_file():
        raise InputError(f"{path}: not a regular file", "give the path of an audio file")
    return size


def read_audio(path: Path) -> bytes:
    """Read a checked audio file whole.

    Raises:
        InputError: The file cannot be read.
    """
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})", "check the file") from None


def needs_splitting(path: Path, size: int, stt: SttSettings) -> bool:
    """Whether the file is over the upload limit or longer than ``[stt] chunk_max_s``."""
    if size > stt.upload_limit_mb * 1_000_000:
        return True
    length = duration_of(path)
    return length is not None and length > stt.chunk_max_s


def duration_of(path: Path) -> float | None:
    """Length of an audio file in seconds from its header (libsndfile, else ffprobe)."""
    import soundfile  # type: ignore[import-untyped, unused-ignore]

    try:
        return float(soundfile.info(str(path)).duration)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError):
        pass
    if not shutil.which("ffprobe"):
        return None
    command = ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0"]
    probe = subprocess.run([*command, str(path)], capture_output=True, text=True, check=False)
    try:
        return float(probe.stdout.strip())
    except ValueError:
        return None


def run(args: argparse.Namespace) -> int:
    """Transcribe or translate ``args.file`` and print it in ``args.format``."""
    loaded = settings()
    path = Path(args.file)
    size = check_audio(path)
    wire_format: Literal["json", "verbose_json", "text"] = (
        "verbose_json" if args.format in ("srt", "vtt", "verbose_json") else args.format
    )
    translate = bool(args.translate)
    default_model = loaded.stt.translation_model if translate else loaded.stt.model
    request = TranscriptionRequest(
        audio=b"",
        filename=printable_name(path.name),  # a label only: valid UTF-8 whatever the name
        model=args.model or default_model,
        language=None if translate else (getattr(args, "language", None) or loaded.stt.language),
        prompt=args.prompt if args.prompt is not None else loaded.stt.prompt,
        temperature=args.temperature,
        response_format=wire_format,
        timestamp_granularities=("segment",)
        if wire_format == "verbose_json" and not translate
        else (),
        translate=translate,
    )

    if needs_splitting(path, size, loaded.stt):

        async def work(client: GroqClient) -> Transcription:
            from voiced.listen.chunked import transcribe_file

            return await transcribe_file(client, path, request, loaded.stt, loaded.listen)

    else:
        request = dataclasses.replace(request, audio=read_audio(path))

        async def work(client: GroqClient) -> Transcription:
            return await client.transcribe(request)

    result = run_with_client(loaded, work)
    print(render(result, args.format), end="")
    return 0


def render(result: Transcription, fmt: str) -> str:
    """Format a transcription as text, json, verbose_json, srt or vtt."""
    if fmt == "srt":
        return to_srt(result.segments)
    if fmt == "vtt":
        return to_vtt(result.segments)
    if fmt == "json":
        return json.dumps({"text": result.text}, ensure_ascii=False) + "\n"
    if fmt == "verbose_json":
        return json.dumps(dataclasses.asdict(result), ensure_ascii=False, indent=2) + "\n"
    return result.text + "\n"
