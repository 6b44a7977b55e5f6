"""``voiced voices``: list the voices espeak-ng offers, or those of the Groq speech model."""

from __future__ import annotations

import argparse
import sys

from voiced.commands.common import settings
from voiced.config import ORPHEUS_VOICES, SpeechSettings
from voiced.errors import InputError, SpeechSynthesisError

MODEL_LANGUAGES = {
    "canopylabs/orpheus-v1-english": "en",
    "canopylabs/orpheus-arabic-saudi": "ar-sa",
}
"""The language each Orpheus model speaks."""


def run(args: argparse.Namespace) -> int:
    """Print one line per voice: id, name and languages; the configured one is starred."""
    speech = settings().speech
    if (args.engine or speech.engine) == "groq":
        return groq_voices(speech, args.language)
    from voiced.speak.tts import EspeakTTS, find_voice

    configured = speech.voice
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


def groq_voices(speech: SpeechSettings, language: str | None) -> int:
    """Print the voices of [speech] groq_model; [speech] groq_voice is starred.

    Groq has no endpoint that lists voices: these are the ones its documentation names.

    Raises:
        InputError: The model's voices are not known, or it does not speak ``language``.
    """
    model = speech.groq_model
    voices = ORPHEUS_VOICES.get(model)
    if voices is None:
        known = ", ".join(ORPHEUS_VOICES)
        raise InputError(
            f"voiced does not know the voices of {model}",
            f"set [speech] groq_voice from the model's documentation, or use one of {known}",
        )
    spoken = MODEL_LANGUAGES.get(model, "")
    if language and not spoken.startswith(language.casefold()):
        raise InputError(
            f"{model} does not speak {language!r} (it speaks {spoken})",
            "set [speech] groq_model to another model: " + ", ".join(ORPHEUS_VOICES),
        )
    width = max(len(v) for v in (*voices, "VOICE"))
    print(f"  {'VOICE':<{width}}  {'MODEL':<{len(model)}}  LANGUAGE")
    for voice in voices:
        mark = "*" if voice == speech.groq_voice else " "
        print(f"{mark} {voice:<{width}}  {model}  {spoken}")
    return 0
