"""Text a command is given, on its command line or on stdin: UTF-8 or a one-line error."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from voiced.errors import InputError

HINT = "give UTF-8 text (convert: iconv -f LATIN1 -t UTF-8), or check that `locale` names UTF-8"


def given_text(words: Sequence[str]) -> str:
    """The words of the command line joined, or else all of stdin (unless it is a terminal).

    Returns:
        The text, stripped; "" when none was given.

    Raises:
        InputError: The text is not valid UTF-8.
    """
    if words:
        return checked(" ".join(words), "the command line").strip()
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        return ""
    data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
    return utf8(data, "standard input").strip()


def checked(text: str, where: str) -> str:
    """Return ``text`` if it is valid Unicode text; argv's undecodable bytes arrive as lone
    surrogates, which no database or JSON encoder takes.

    Raises:
        InputError: It holds such bytes, naming ``where`` and the character's position.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(
            f"{where} holds bytes that are not UTF-8 text (at character {exc.start + 1})", HINT
        ) from None
    return text


def utf8(data: bytes, where: str) -> str:
    """Decode ``data`` as UTF-8 (a leading byte-order mark is dropped).

    Raises:
        InputError: It is not UTF-8, naming ``where`` and the first bad byte's offset.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{where} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            HINT,
        ) from None


def printable_name(name: str) -> str:
    """A file name as valid UTF-8: undecodable bytes become U+FFFD (for labels, not paths)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
