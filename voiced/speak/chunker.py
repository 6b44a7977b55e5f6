"""Cuts cleaned reply text into chunks to synthesize: the first clause early, then sentences."""

from __future__ import annotations

import re

FIRST_MIN_WORDS = 3
"""Words the first chunk needs before a comma, semicolon, colon or dash may end it."""

MAX_CHARS = 300
"""A chunk without any boundary is cut at the last space before this many characters."""

ABBREVIATIONS = frozenset("dr mr mrs ms mx prof st mt ft vs e.g i.e cf viz".split())
"""Words whose period never ends a sentence (titles before names, "e.g."), lower-case."""

NUMBER_ABBREVIATIONS = frozenset(
    "no nos fig figs vol p pp ch sec approx ca "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
"""Words whose period does not end a sentence when a number follows ("No. 5", "Jan. 3")."""

_TERMINAL = ".!?…"
_CLOSERS = "\"'”’)]"
_CLAUSE = ",;:"
_DASHES = "–—"
_NOT_HERE = -1


class Chunker:
    """Cuts a stream of cleaned text into chunks, deciding only on text that has arrived.

    The first chunk ends at the first clause boundary (``,`` ``;`` ``:`` or a dash, once it
    holds ``first_min_words`` words) or sentence boundary, so speech can start at once; later
    chunks end at sentence boundaries. A line break always ends a chunk. A period does not
    end a sentence after an abbreviation ("Dr.", "e.g."), an initial ("J."), inside a number
    ("3.5") or when a lower-case word follows. Feeding text in pieces of any size gives the
    same chunks as feeding it whole.

    Args:
        first_min_words: Words needed before a clause boundary may end the first chunk.
        max_chars: Length at which a chunk with no boundary is cut at a space.
    """

    def __init__(self, first_min_words: int = FIRST_MIN_WORDS, max_chars: int = MAX_CHARS) -> None:
        self._min_words = first_min_words
        self._max_chars = max_chars
        self._buf = ""
        self._scan = 0  # boundaries before this index have been ruled out
        self._first = True

    def feed(self, text: str) -> list[str]:
        """Add cleaned text; return the chunks it completed (possibly none)."""
        self._buf += text
        return self._cut(final=False)

    def flush(self) -> list[str]:
        """End the stream; return the remaining text as chunks."""
        chunks = self._cut(final=True)
        last, self._buf, self._scan = self._buf, "", 0
        return chunks + _speakable(last)

    def _cut(self, final: bool) -> list[str]:
        chunks: list[str] = []
        while (end := self._find_cut(final)) is not None:
            chunks += _speakable(self._buf[:end])
            self._buf, self._scan = self._buf[end:], 0
            self._first = False
        return chunks

    def _find_cut(self, final: bool) -> int | None:
        """Return where the next chunk ends, or None when that is not known yet."""
        buf = self._buf
        i = self._scan
        while i < min(len(buf), self._max_chars):
            char = buf[i]
            if char == "\n":
                return i + 1
            if char in _TERMINAL or (self._first and _maybe_clause(buf, i)):
                end = self._boundary(i, final)
                if end is None:
                    self._scan = i
                    return None
                if end != _NOT_HERE:
                    return end
            i += 1
        self._scan = i
        if i < self._max_chars:
            return None
        space = buf.rfind(" ", 0, self._max_chars)
        return space if space > 0 else self._max_chars

    def _boundary(self, i: int, final: bool) -> int | None:
        """Where a chunk ending at the mark at ``i`` ends, _NOT_HERE, or None (wait for text)."""
        buf = self._buf
        end = i + 1
        while end < len(buf) and buf[end] in _TERMINAL + _CLOSERS:
            end += 1
        following = buf[end:].lstrip(" \t")
        if not following and not final:
            return None  # the next character decides
        spaced = not following or len(following) < len(buf) - end
        if buf[i] == "-" and not spaced:
            return _NOT_HERE  # -5, well-known
        if buf[i] in _CLAUSE + _DASHES + "-":
            enough = len(buf[:i].split()) >= self._min_words
            return end if enough and (spaced or buf[i] in _DASHES) else _NOT_HERE
        if not spaced:
            return _NOT_HERE  # 3.5, e.g.x, Yahoo!Inc
        if "." in buf[i:end] or "…" in buf[i:end]:
            if following[:1].islower() or _abbreviation(buf[:i], following[:1]):
                return _NOT_HERE
        return end


def _maybe_clause(buf: str, i: int) -> bool:
    """True for a mark that may end a first chunk: , ; : an en or em dash, or a spaced hyphen."""
    char = buf[i]
    return char in _CLAUSE or char in _DASHES or (char == "-" and buf[i - 1 : i] == " ")


def _abbreviation(before: str, after: str) -> bool:
    """True when the word before a period is an abbreviation or an initial."""
    word = re.split(r"[\s(\"']", before)[-1].lower()
    if word in ABBREVIATIONS or (word in NUMBER_ABBREVIATIONS and after.isdigit()):
        return True
    return bool(re.fullmatch(r"(?:[^\W\d_]\.)*[^\W\d_]", word))  # J. / U.S.


def _speakable(text: str) -> list[str]:
    """The chunk as one item, or none when it holds nothing to say."""
    text = text.strip(" \t\n-–—")
    return [text] if any(c.isalnum() for c in text) else []
