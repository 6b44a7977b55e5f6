"""Voiced never says its own wake word, so hearing the word can never be its own echo."""

from __future__ import annotations

import re

from voiced.listen.filter import normalise

SAID_INSTEAD = "the wake word"


def unsay_wake_word(text: str, phrase: str) -> str:
    """``text`` with the wake phrase, and its last word wherever it stands alone, replaced.

    Args:
        text: What voiced is about to say (a chunk: whole words).
        phrase: The wake word's phrase, e.g. "Okay Nabu".
    """
    words = normalise(phrase)
    if not words:
        return text
    *lead, last = words
    leading = "".join(rf"(?:{re.escape(w)}[\W_]+)?" for w in lead)
    pattern = re.compile(rf"\b{leading}{re.escape(last)}\b", re.IGNORECASE)
    return pattern.sub(SAID_INSTEAD, text)
