"""Taking the wake word (and whatever came before it) off an utterance's transcript."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from voiced.groq.models import Transcription
from voiced.listen.filter import normalise

TOKEN = re.compile(r"[\w']+")
SIMILAR = 0.6
"""How alike (difflib's ratio) a transcribed word must be to the wake word's last word:
Whisper writes a made-up name its own way ("Nabu", "Naboo", "Na boo")."""
AFTER_S = 0.1
"""A word that begins this soon after the detection may still be the wake word: the model
decides 0–0.5 s after the word ends, but Whisper's timestamps drift a little."""


def strip_wake_word(transcription: Transcription, phrase: str, detected_s: float) -> str:
    """The transcript with the wake word and everything said before it taken off.

    The last word of the wake phrase is looked for among the words Whisper placed before
    the detection, the latest of them (without word timings, the first in the text), allowing
    for Whisper's spelling of a made-up name and for a name written as two short words.
    Without one the transcript is kept whole: better a stray word before the question than a
    question lost.

    Args:
        transcription: The utterance's transcript (word timestamps, when it has them, are
            seconds from the start of the audio that was sent).
        phrase: The wake word's phrase, e.g. "Okay Nabu".
        detected_s: When the wake word was detected, in seconds from the start of that audio.

    Returns:
        What was said after the wake word ("" when nothing was).
    """
    text = transcription.text.strip()
    key = normalise(phrase)
    if not key:
        return text
    tokens = list(TOKEN.finditer(text))
    words = transcription.words
    limit = len(tokens)
    if words:
        limit = min(limit, sum(1 for w in words if w.start <= detected_s + AFTER_S))
    # With timings, the last likely word before the detection; without, the first one.
    order = range(limit - 1, -1, -1) if words else range(limit)
    for i in order:
        end = _match(tokens, i, key[-1])
        if end is not None:
            return _after(text, tokens[end].end())
    return text  # better a stray word before the question than a question lost


def _word(token: str) -> str:
    return token.lower().replace("'", "")


def _match(tokens: list[re.Match[str]], i: int, wanted: str) -> int | None:
    """Where the wake word's last word ends if it is token ``i`` (or ``i`` and the next,
    written as two short words), else None."""
    single = _likeness(_word(tokens[i].group()), wanted)
    pair = 0.0
    if i + 1 < len(tokens):
        joined = _word(tokens[i].group()) + _word(tokens[i + 1].group())
        if len(joined) <= len(wanted) + 2:
            pair = _likeness(joined, wanted)
    if max(single, pair) < SIMILAR:
        return None
    return i + 1 if pair >= single else i


def _likeness(heard: str, wanted: str) -> float:
    return SequenceMatcher(None, heard, wanted).ratio() if heard else 0.0


def _after(text: str, index: int) -> str:
    return text[index:].lstrip(" ,.;:!?-–—…").strip()
