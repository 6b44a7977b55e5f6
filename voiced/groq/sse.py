"""An incremental Server-Sent Events decoder: bytes in, events out."""

from __future__ import annotations

from typing import NamedTuple


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
    """

    __slots__ = ("_tail", "_event", "_data")

    def __init__(self) -> None:
        self._tail = b""
        self._event = ""
        self._data: list[bytes] = []

    @property
    def idle(self) -> bool:
        """True between events: no partial line or data is pending."""
        return not self._tail and not self._data

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """Decode a chunk and return the events it completed.

        Args:
            chunk: The next bytes of the stream.

        Returns:
            Every event whose terminating blank line is now in, in order.
        """
        if (
            chunk[:6] == b"data: "
            and chunk[-2:] == b"\n\n"
            and not self._tail
            and not self._data
            and chunk.find(b"\n", 6, -2) < 0
        ):
            # The common case on a live stream: one whole event per network read.
            return [SseEvent("", chunk[6:-2])]
        lines = (self._tail + chunk).split(b"\n")
        self._tail = lines.pop()
        events: list[SseEvent] = []
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if self._data:
                    events.append(SseEvent(self._event, b"\n".join(self._data)))
                self._event = ""
                self._data = []
                continue
            name, _, value = line.partition(b":")
            if value.startswith(b" "):
                value = value[1:]
            if name == b"data":
                self._data.append(value)
            elif name == b"event":
                self._event = value.decode("utf-8", "replace")
        return events

    def close(self) -> list[SseEvent]:
        """End the stream: dispatch an event left without its final blank line."""
        events = self.feed(b"\n\n") if self._tail or self._data else []
        self._tail = b""
        return events
