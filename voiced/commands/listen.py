"""``voiced listen``: dictation from the microphone (or a file) to stdout, one utterance a line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from voiced.commands.common import run_with_client, settings
from voiced.groq.client import GroqClient

if TYPE_CHECKING:
    from voiced.audio.frames import FrameSource
    from voiced.config import Settings
    from voiced.listen.dictation import Dictated

DIM = "\033[2m"
RESET = "\033[0m"


def run(args: argparse.Namespace) -> int:
    """Listen and print each utterance as it is transcribed, until the input ends or Ctrl-C."""
    loaded = settings()
    printer = Printer(as_json=bool(args.json))

    async def work(client: GroqClient) -> int:
        from voiced.listen.dictation import Dictation
        from voiced.listen.filter import TranscriptFilter
        from voiced.listen.segmenter import Segmenter

        source = _source(args, loaded)
        try:
            # A live microphone must never wait for the turn model (over 100 ms a judgement on
            # a busy small machine); a file is judged inline, so its events never depend on load.
            live = args.input is None
            # Each utterance is printed as it ends: a rejoin would print its first part twice.
            once = replace(loaded.listen, turn_rejoin_ms=0)
            segmenter = await asyncio.to_thread(Segmenter, once, turn_in_background=live)
        except BaseException:
            await source.aclose()
            raise
        judge = TranscriptFilter(loaded.listen)
        early = not (args.input is not None and args.fast)
        dictation = Dictation(source, segmenter, client, judge, loaded.stt, early=early)
        await dictation.run(printer)
        return 0

    return run_with_client(loaded, work)


def _source(args: argparse.Namespace, loaded: Settings) -> FrameSource:
    if args.input is not None:
        from voiced.audio.filesource import FileSource

        return FileSource(args.input, fast=bool(args.fast))
    from voiced.audio.capture import CaptureOptions, MicrophoneCapture

    return MicrophoneCapture(CaptureOptions.from_settings(loaded.audio, device=args.device))


class Printer:
    """Writes records: accepted text to stdout, rejections as a dim note on stderr, or JSON.

    Args:
        as_json: Print every record, rejected ones included, as one JSON object a line.
    """

    def __init__(self, as_json: bool) -> None:
        self._json = as_json

    def __call__(self, record: Dictated) -> None:
        """Print one record and flush, so a pipe sees each utterance as it comes."""
        if self._json:
            print(json.dumps(record.as_json(), ensure_ascii=False), flush=True)
        elif record.rejected is None:
            print(record.text, flush=True)
        else:
            note = f"[rejected: {record.rejected}]"
            if sys.stderr.isatty():
                note = f"{DIM}{note}{RESET}"
            print(note, file=sys.stderr, flush=True)
