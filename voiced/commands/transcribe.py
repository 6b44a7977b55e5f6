"""``voiced transcribe`` and ``voiced translate``: one audio file to text."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Literal

from voiced.commands.common import run_with_client, settings
from voiced.errors import InputError
from voiced.groq.client import GroqClient
from voiced.groq.models import AUDIO_EXTENSIONS, Transcription, TranscriptionRequest
from voiced.subtitles import to_srt, to_vtt


def read_audio(path: Path, limit_mb: float) -> bytes:
    """Read an audio file after checking it exists, has an accepted type and fits the limit.

    Raises:
        InputError: The file is missing, unreadable, of an unsupported type or too large.
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
        if not path.is_file():
            raise InputError(f"{path}: not a regular file")
        if size > limit_mb * 1_000_000:
            raise InputError(
                f"{path}: {size / 1e6:.1f} MB is over the {limit_mb:g} MB upload limit",
                f"compress it to 16 kHz mono FLAC: ffmpeg -i {path.name} -ar 16000 -ac 1 "
                f"{path.stem}.flac, or raise [stt] upload_limit_mb on a paid tier",
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None


def run(args: argparse.Namespace) -> int:
    """Transcribe or translate ``args.file`` and print it in ``args.format``."""
    loaded = settings()
    path = Path(args.file)
    audio = read_audio(path, loaded.stt.upload_limit_mb)
    wire_format: Literal["json", "verbose_json", "text"] = (
        "verbose_json" if args.format in ("srt", "vtt", "verbose_json") else args.format
    )
    translate = bool(args.translate)
    default_model = loaded.stt.translation_model if translate else loaded.stt.model
    request = TranscriptionRequest(
        audio=audio,
        filename=path.name,
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
