"""An incremental Server-Sent Events decoder: bytes in, events out."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched event: its ``event:`` name ("" when absent) and joined ``data:`` lines."""

    event: str
    data: str


class SseDecoder:
    """Decode an SSE byte stream in whatever pieces the network delivers it.

    Lines may end in LF or CRLF and may be split anywhere across chunks; ``:`` comments,
    ``id:`` and ``retry:`` fields are ignored; several ``data:`` lines join with newlines.
    """

    __slots__ = ("_tail", "_event", "_data")

    def __init__(self) -> None:
        self._tail = b""
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """Decode a chunk and return the events it completed.

        Args:
            chunk: The next bytes of the stream.

        Returns:
            Every event whose terminating blank line is now in, in order.
        """
        lines = (self._tail + chunk).split(b"\n")
        self._tail = lines.pop()
        events: list[SseEvent] = []
        for raw in lines:
            line = raw.decode("utf-8", "replace")
            if line.endswith("\r"):
                line = line[:-1]
            if not line:
                if self._data:
                    events.append(SseEvent(self._event, "\n".join(self._data)))
                self._event = ""
                self._data = []
                continue
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if name == "data":
                self._data.append(value)
            elif name == "event":
                self._event = value
        return events

    def close(self) -> list[SseEvent]:
        """End the stream: dispatch an event left without its final blank line."""
        events = self.feed(b"\n\n") if self._tail or self._data else []
        self._tail = b""
        return events
