"""``voiced say``: speak text aloud, or write the speech to a WAV file."""

from __future__ import annotations

import argparse
import asyncio

from voiced.commands.common import settings
from voiced.commands.textin import given_text
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
    loaded = settings()
    from voiced.speak.factory import open_speaker
    from voiced.speak.fileout import WavFileOutput
    from voiced.speak.speaker import Speaker
    from voiced.speak.tts import EspeakTTS

    speech = loaded.speech
    tts = EspeakTTS(
        voice=args.voice or speech.voice,
        rate=speech.rate if args.rate is None else args.rate,
        volume=speech.volume if args.volume is None else args.volume,
    )

    async def to_file() -> None:
        await tts.warm_up()
        output = WavFileOutput()
        await Speaker(tts, output, earcons=False).say(text)
        if not output.samples().size:
            raise InputError("the text holds nothing to say", "give it some words")
        output.save(args.output)

    async def aloud() -> None:
        async with open_speaker(loaded, tts) as speaker:
            result = await speaker.say(text)
        if not result.chunks:
            raise InputError("the text holds nothing to say", "give it some words")

    asyncio.run(to_file() if args.output else aloud())
    return 0
