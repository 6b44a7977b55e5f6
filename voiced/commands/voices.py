"""``voiced voices``: list the voices espeak-ng offers, for [speech] voice."""

from __future__ import annotations

import argparse
import sys

from voiced.commands.common import settings
from voiced.errors import InputError, SpeechSynthesisError


def run(args: argparse.Namespace) -> int:
    """Print one line per voice: id, name and languages; the configured one is starred."""
    from voiced.speak.tts import EspeakTTS, find_voice

    configured = settings().speech.voice
    voices = EspeakTTS().voices()
    chosen = None
    if configured:
        try:
            chosen = find_voice(voices, configured).id
        except SpeechSynthesisError as exc:
            print(f"voiced: [speech] voice: {exc}", file=sys.stderr)
    if args.language:
        wanted = args.language.casefold()
        voices = [v for v in voices if any(x.casefold().startswith(wanted) for x in v.languages)]
        if not voices:
            raise InputError(
                f"no voice speaks {args.language!r}", "run `voiced voices` to see every language"
            )
    id_width = max(len(v.id) for v in voices)
    name_width = max(len(v.name) for v in voices)
    print(f"  {'ID':<{id_width}}  {'NAME':<{name_width}}  LANGUAGES")
    for voice in voices:
        mark = "*" if voice.id == chosen else " "
        languages = " ".join(voice.languages)
        print(f"{mark} {voice.id:<{id_width}}  {voice.name:<{name_width}}  {languages}")
    return 0
