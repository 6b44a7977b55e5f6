"""An incremental Server-Sent Events decoder: bytes in, events out, linear and bounded."""

from __future__ import annotations

from typing import NamedTuple

from voiced.errors import StreamError

LINE_LIMIT = 4 * 1024 * 1024
"""Longest line, and largest event, the decoder accepts, in bytes. A whole tool call arrives in
one line; at Groq's largest completion (65,536 tokens, about 260 KB of text, up to twice that
JSON-escaped) it stays well below 4 MiB, while a server that never ends a line is refused."""


class SseEvent(NamedTuple):
    """One dispatched event: its ``event:`` name ("" when absent) and joined ``data:`` lines.

    A NamedTuple because one is made per streamed token and it is the cheapest record.
    """

    event: str
    data: bytes
    """The UTF-8 payload; several ``data:`` lines joined with newlines."""


class SseDecoder:
    """Decode an SSE byte stream in whatever pieces the network delivers it.

    Lines may end in LF or CRLF and may be split anywhere across chunks; ``:`` comments,
    ``id:`` and ``retry:`` fields are ignored; several ``data:`` lines join with newlines.
    A line still open is kept as a list of pieces and joined once, when its end arrives, so
    each byte is copied a bounded number of times however the line is split.

    Args:
        limit: Longest line, and largest event, in bytes (see :data:`LINE_LIMIT`).
    """

    __slots__ = ("_parts", "_pending", "_event", "_data", "_data_size", "limit")

    def __init__(self, limit: int = LINE_LIMIT) -> None:
        self._parts: list[bytes] = []
        self._pending = 0
        self._event = ""
        self._data: list[bytes] = []
        self._data_size = 0
        self.limit = limit

    @property
    def idle(self) -> bool:
        """True between events: no partial line or data is pending."""
        return not self._parts and not self._data

    @property
    def pending(self) -> int:
        """Bytes held of the line not yet ended."""
        return self._pending

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """Decode a chunk and return the events it completed.

        Args:
            chunk: The next bytes of the stream.

        Returns:
            Every event whose terminating blank line is now in, in order.

        Raises:
            StreamError: A line or an event is longer than the limit.
        """
        if (
            chunk[:6] == b"data: "
            and chunk[-2:] == b"\n\n"
            and not self._parts
            and not self._data
            and chunk.find(b"\n", 6, -2) < 0
            and len(chunk) <= self.limit
        ):
            # The common case on a live stream: one whole event per network read.
            return [SseEvent("", chunk[6:-2])]
        if b"\n" not in chunk:
            self._hold(chunk)
            return []
        if self._parts:
            self._parts.append(chunk)
            chunk = b"".join(self._parts)
            self._parts, self._pending = [], 0
        lines = chunk.split(b"\n")
        tail = lines.pop()
        events: list[SseEvent] = []
        for line in lines:
            if len(line) > self.limit:
                self._too_long("line")
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if self._data:
                    events.append(SseEvent(self._event, b"\n".join(self._data)))
                self._event = ""
                self._data = []
                self._data_size = 0
                continue
            name, _, value = line.partition(b":")
            if value.startswith(b" "):
                value = value[1:]
            if name == b"data":
                self._data_size += len(value) + 1
                if self._data_size > self.limit:
                    self._too_long("event")
                self._data.append(value)
            elif name == b"event":
                self._event = value.decode("utf-8", "replace")
        if tail:
            self._hold(tail)
        return events

    def close(self) -> list[SseEvent]:
        """End the stream: dispatch an event left without its final blank line."""
        events = self.feed(b"\n\n") if self._parts or self._data else []
        self._parts, self._pending = [], 0
        return events

    def _hold(self, piece: bytes) -> None:
        self._pending += len(piece)
        if self._pending > self.limit:
            self._too_long("line")
        self._parts.append(piece)

    def _too_long(self, what: str) -> None:
        self._parts, self._pending, self._data, self._data_size = [], 0, [], 0
        raise StreamError(
            f"the server sent a stream {what} longer than {self.limit // 1024 // 1024} MiB",
            "check that base_url points at an OpenAI-compatible API; report it if it persists",
        )
