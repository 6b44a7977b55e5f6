"""``voiced say``: speak text aloud, or write the speech to a WAV file."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging

from voiced import logs
from voiced.commands.common import settings
from voiced.commands.textin import given_text
from voiced.config import ORPHEUS_VOICES, Settings, SpeechEngine
from voiced.errors import InputError


def run(args: argparse.Namespace) -> int:
    """Speak ``args.text`` (or stdin) on the speaker, or write it to ``args.output``."""
    text = given_text(args.text)
    if not text:
        raise InputError("nothing to say", 'try: voiced say "hello there"')
    if args.rate is not None and not 80 <= args.rate <= 450:
        raise InputError(f"--rate {args.rate} is out of range", "use 80–450 words per minute")
    if args.volume is not None and not 0.0 <= args.volume <= 1.0:
        raise InputError(f"--volume {args.volume} is out of range", "use 0.0–1.0")
    loaded = with_options(settings(), args)
    from voiced.speak.factory import Voice, groq_client, open_speaker, tts_from_settings
    from voiced.speak.fileout import WavFileOutput
    from voiced.speak.speaker import Speaker

    if loaded.speech.engine == "groq" and not args.verbose:
        warn_on_stderr("voiced.speak.fallback")

    async def to_file() -> None:
        if loaded.speech.engine == "groq":
            async with groq_client(loaded) as client:
                await write(tts_from_settings(loaded, client))
        else:
            await write(tts_from_settings(loaded))

    async def write(tts: Voice) -> None:
        await tts.warm_up()
        output = WavFileOutput()
        await Speaker(tts, output, earcons=False).say(text)
        if not output.samples().size:
            raise InputError("the text holds nothing to say", "give it some words")
        output.save(args.output)

    async def aloud() -> None:
        async with open_speaker(loaded) as speaker:
            result = await speaker.say(text)
        if not result.chunks:
            raise InputError("the text holds nothing to say", "give it some words")

    asyncio.run(to_file() if args.output else aloud())
    return 0


def with_options(loaded: Settings, args: argparse.Namespace) -> Settings:
    """[speech] with --engine, --voice, --rate and --volume applied (--voice names a voice of
    the engine that speaks).

    Raises:
        InputError: --voice is not a voice of the Groq model.
    """
    speech = loaded.speech
    engine: SpeechEngine = args.engine or speech.engine
    voice, groq_voice = speech.voice, speech.groq_voice
    if args.voice and engine == "groq":
        known = ORPHEUS_VOICES.get(speech.groq_model)
        if known is not None and args.voice not in known:
            raise InputError(
                f"{speech.groq_model} has no voice {args.voice!r}",
                f"use one of {', '.join(known)} (`voiced voices --engine groq`)",
            )
        groq_voice = args.voice
    elif args.voice:
        voice = args.voice
    speech = dataclasses.replace(
        speech,
        engine=engine,
        voice=voice,
        groq_voice=groq_voice,
        rate=speech.rate if args.rate is None else args.rate,
        volume=speech.volume if args.volume is None else args.volume,
    )
    return dataclasses.replace(loaded, speech=speech)


def warn_on_stderr(logger: str) -> None:
    """Print the warnings of ``logger`` as ``voiced: warning: …`` lines (keys redacted)."""
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("voiced: warning: %(message)s"))
    handler.addFilter(logs.redaction())
    target = logging.getLogger(logger)
    target.addHandler(handler)
    target.propagate = False
