"""Streaming speech cleaner: markdown, code, tables, reasoning and links become speakable text."""

from __future__ import annotations

import re

from voiced.speak.inline import InlineStage

CODE_PLACEHOLDER = "Code omitted."
"""Said in place of each fenced code block (the code itself is on screen, not read aloud)."""

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"

# Full line markers, tried on the start of a line once it can no longer grow into another one.
_FENCE = re.compile(r"[ ]{0,3}(`{3,}|~{3,})[^\n]*\n")
_RULE = re.compile(r"[ ]{0,3}([-*_])[ \t]*(?:\1[ \t]*){2,}\n")
_TABLE_SEP = re.compile(r"[ ]{0,3}\|[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*\n")
_MARKERS = (
    ("quote", re.compile(r"[ ]{0,3}>[ \t]?")),
    ("header", re.compile(r"[ ]{0,3}#{1,6}(?:[ \t]+|(?=\n))")),
    ("bullet", re.compile(r"[ \t]*[-*+][ \t]+(?:\[[ xX]\][ \t]+)?")),
    ("bullet", re.compile(r"[ \t]*\d{1,9}[.)][ \t]+")),
    ("table", re.compile(r"[ ]{0,3}\|")),
)
# Everything a line start may still grow into: while it matches, wait for more text.
_UNDECIDED = re.compile(
    r"[ \t]*"
    r"|[ ]{0,3}(?:`{1,2}|~{1,2}|`{3,}[^`\n]*|~{3,}[^\n]*)"
    r"|[ ]{0,3}([-*_])[ \t]*(?:\1[ \t]*)*"
    r"|[ ]{0,3}#{1,6}[ \t]*"
    r"|[ ]{0,3}>[ \t]*"
    r"|[ \t]*[-*+](?:[ \t]+(?:\[(?:[ xX]\]?)?)?)?"
    r"|[ \t]*\d{1,9}(?:[.)][ \t]*)?"
    r"|[ ]{0,3}\|[ \t:|-]*"
)


class SpeechCleaner:
    """Turns a streamed chat reply into text fit to be spoken, delta by delta.

    Feeding a reply in pieces of any size yields the same text as feeding it whole.
    What it does: drops ``<think>`` blocks, replaces each fenced code block with
    ``code_placeholder``, drops header, quote and list markers (each line becomes a
    sentence), reads table rows as comma-separated cells, drops emphasis marks, keeps
    link text, reads URLs as "a link to <domain>", drops emoji, inline HTML tags and
    ``*actions*`` that stand as their own sentence.

    Args:
        code_placeholder: Said in place of a code block; "" drops code blocks silently.
    """

    def __init__(self, code_placeholder: str = CODE_PLACEHOLDER) -> None:
        self._placeholder = code_placeholder
        self._inline = InlineStage()
        self._buf = ""
        self._line_start = True
        self._kind = "text"  # text | table | skip | code
        self._fence = ""  # the opening fence while inside a code block
        self._think = False
        self._cell_pending = False

    def feed(self, delta: str) -> str:
        """Add the next piece of the reply; return the speakable text it completed."""
        self._buf += delta.replace("\r", "")
        return self._run(final=False)

    def flush(self) -> str:
        """End the reply; return whatever text was still held back."""
        return self._run(final=True) + self._inline.flush()

    def _run(self, final: bool) -> str:
        out: list[str] = []
        while self._buf and self._step(out, final):
            pass
        if final:
            self._buf = ""
        return self._inline.feed("".join(out))

    def _step(self, out: list[str], final: bool) -> bool:
        """Consume some of the buffer; return False when more input is needed."""
        buf = self._buf
        if self._think:
            end = buf.find(THINK_CLOSE)
            if end < 0:
                self._buf = buf[len(buf) - _partial_tail(buf, THINK_CLOSE) :]
                return False
            self._buf, self._think = buf[end + len(THINK_CLOSE) :], False
            return True
        if self._line_start:
            return self._line_head(out, final)
        if self._kind in ("skip", "code"):
            end = buf.find("\n")
            self._buf = "" if end < 0 else buf[end + 1 :]
            self._line_start = end >= 0
            return end >= 0
        return self._line_body(out, final)

    def _line_head(self, out: list[str], final: bool) -> bool:
        buf = self._buf
        head = buf[: buf.find("\n") + 1] if "\n" in buf else buf
        if not final and "\n" not in head and _UNDECIDED.fullmatch(head):
            return False
        line = head if head.endswith("\n") else head + "\n"
        if self._kind == "code":
            if _closes(_FENCE.match(line), self._fence, line):
                self._kind = "skip"
            self._line_start = False
            return True
        if fence := _FENCE.match(line):
            self._fence, self._kind, self._line_start = fence.group(1), "code", False
            if self._placeholder:
                out.append(f"\n{self._placeholder}\n")
            return True
        if _RULE.match(line) or _TABLE_SEP.match(line):
            self._kind, self._line_start = "skip", False
            return True
        self._kind = "text"
        for kind, pattern in _MARKERS:
            if marker := pattern.match(buf):
                self._buf = buf[marker.end() :]
                if kind == "table":
                    self._kind, self._cell_pending = "table", False
                    self._line_start = False
                return True  # a quote or list marker may be followed by another marker
        self._line_start = False
        return True

    def _line_body(self, out: list[str], final: bool) -> bool:
        buf = self._buf
        match = re.search(r"[<\n|]" if self._kind == "table" else r"[<\n]", buf)
        end = match.start() if match else len(buf)
        self._text(out, buf[:end])
        if match is None:
            self._buf = ""
            return False
        char = buf[end]
        if char == "\n":
            out.append("\n")
            self._buf, self._line_start, self._kind = buf[end + 1 :], True, "text"
            self._cell_pending = False
        elif char == "|":
            self._cell_pending = True
            self._buf = buf[end + 1 :]
        elif buf.startswith(THINK_OPEN, end) or buf.startswith(THINK_CLOSE, end):
            self._think = buf.startswith(THINK_OPEN, end)
            tag = THINK_OPEN if self._think else THINK_CLOSE
            self._buf = buf[end + len(tag) :]
        elif not final and (THINK_OPEN.startswith(buf[end:]) or THINK_CLOSE.startswith(buf[end:])):
            self._buf = buf[end:]
            return False
        else:
            self._text(out, "<")
            self._buf = buf[end + 1 :]
        return True

    def _text(self, out: list[str], text: str) -> None:
        """Pass line text on; in a table row, a cell boundary becomes a comma before the cell."""
        cell = text.lstrip()
        if self._cell_pending and cell:
            out.extend((text[: len(text) - len(cell)], ", ", cell))
            self._cell_pending = False
        else:
            out.append(text)


def _closes(fence: re.Match[str] | None, opening: str, line: str) -> bool:
    """True when ``line`` is a fence closing the block ``opening`` began."""
    if fence is None:
        return False
    marks, info = fence.group(1), line[fence.end(1) :]
    return marks[0] == opening[0] and len(marks) >= len(opening) and not info.strip()


def _partial_tail(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


def clean_for_speech(text: str, code_placeholder: str = CODE_PLACEHOLDER) -> str:
    """Clean a whole reply at once (see SpeechCleaner)."""
    cleaner = SpeechCleaner(code_placeholder)
    return cleaner.feed(text) + cleaner.flush()
