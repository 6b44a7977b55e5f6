"""Reading lines with a bound: an over-long line is read and dropped piecewise, never kept."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass(frozen=True)
class Overlong:
    """Stands for a line longer than the reader's limit, which was skipped."""

    size: int
    """Bytes skipped, the newline included."""


async def read_line(reader: asyncio.StreamReader) -> bytes | Overlong:
    """Return the next line, newline included; ``b""`` at the end of the stream.

    A line longer than the reader's limit is consumed in pieces of at most that limit and
    dropped (memory stays bounded by the limit), and :class:`Overlong` is returned for it: the
    caller can go on with the next line. A last line without a newline is returned as it is.

    Raises:
        ConnectionError: The connection broke.
    """
    try:
        return await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:
        return exc.partial
    except asyncio.LimitOverrunError as exc:
        return Overlong(await _discard(reader, exc.consumed))


async def _discard(reader: asyncio.StreamReader, buffered: int) -> int:
    """Drop the rest of an over-long line; return how many bytes it had."""
    skipped = 0
    while True:
        try:
            # What is buffered: the line up to the limit, or up to its (too distant) newline.
            skipped += len(await reader.readexactly(buffered))
            return skipped + len(await reader.readuntil(b"\n"))
        except asyncio.IncompleteReadError as exc:
            return skipped + len(exc.partial)
        except asyncio.LimitOverrunError as exc:
            buffered = exc.consumed
