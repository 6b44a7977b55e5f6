"""Time and size limits on a request: its deadline, a stream's time without a token, body sizes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from voiced.errors import ConnectionFailedError

ERROR_BODY_LIMIT = 64 * 1024
"""Bytes of an error body read; the rest is never read (Groq's are under 2 KiB)."""
BODY_LIMIT = 32 * 1024 * 1024
"""Largest whole (non-streamed) reply accepted: a verbose transcription of a 10-minute piece
with word timestamps is about 1 MB, a longest chat reply under 1 MB."""


@dataclass(frozen=True)
class Limits:
    """How long a request may take.

    Attributes:
        deadline_s: From the first byte sent to the last byte of the reply, retries and the
            waits between them included.
        idle_s: Longest a streamed reply may go without a token (content, reasoning or a tool
            call); SSE comments and keep-alives do not count.
    """

    deadline_s: float = 300.0
    idle_s: float = 20.0


def deadline_error(host: str, limit_s: float, request_id: str | None = None) -> Exception:
    """The error for a request that ran past its deadline."""
    ref = f" [request {request_id}]" if request_id else ""
    return ConnectionFailedError(
        f"{host} did not finish its reply within {limit_s:g} s{ref}",
        "try again; if replies are legitimately this slow, raise [network] request_deadline",
    )


def idle_error(limit_s: float, request_id: str | None) -> Exception:
    """The error for a stream that sent no token for too long."""
    return ConnectionFailedError(
        f"the reply stream sent no token for {limit_s:g} s [request {request_id}]",
        "try again; for a slow server (a local model), raise [network] stream_idle_timeout",
    )


class StreamWatch:
    """Ends a stream's reads at the deadline, or once ``idle_s`` pass without a token.

    One timer serves the whole stream and is moved only when it fires, so a token costs a
    clock read (the per-token path stays cheap). The idle clock restarts when the consumer
    comes back for the next token, so only the server's silence counts; the deadline counts
    everything. When a limit passes during a read, the reading task is cancelled and
    :meth:`expired` turns that cancellation into the error; when the deadline passes between
    reads, :attr:`fired` is set and the next read refuses to start.

    Args:
        deadline: ``loop.time()`` by which the whole request must be over.
        limits: The configured limits (for the idle bound and the messages).
    """

    __slots__ = (
        "loop",
        "deadline",
        "limits",
        "last_token",
        "reading",
        "fired",
        "_task",
        "_base",
        "_cancelled",
        "_handle",
    )

    def __init__(self, deadline: float, limits: Limits) -> None:
        self.loop = asyncio.get_running_loop()
        self.deadline = deadline
        self.limits = limits
        self.last_token = self.loop.time()
        """``loop.time()`` of the latest token, or of the consumer coming back for the next."""
        self.reading = False
        """Set by the reader around each read: only a read is ever cancelled."""
        self.fired: str | None = None
        """"deadline" or "idle" once a limit has passed."""
        task = asyncio.current_task()
        assert task is not None, "a stream is read inside a task"
        self._task = task
        self._base = task.cancelling()
        self._cancelled = False
        self._handle = self.loop.call_at(self._due(), self._check)

    def _due(self) -> float:
        return min(self.deadline, self.last_token + self.limits.idle_s)

    def _check(self) -> None:
        now, due = self.loop.time(), self._due()
        if now < self.deadline and not self.reading and now >= due:
            # Idle while the consumer, not the server, has the stream: it restarts the clock
            # when it comes back for the next token.
            due = now + self.limits.idle_s
        if now < due:
            self._handle = self.loop.call_at(due, self._check)
            return
        self.fired = "deadline" if now >= self.deadline else "idle"
        if self.reading:
            self._cancelled = True
            self._task.cancel()

    def error(self, host: str, request_id: str | None) -> Exception:
        """The error for the limit that passed."""
        if self.fired == "deadline":
            return deadline_error(host, self.limits.deadline_s, request_id)
        return idle_error(self.limits.idle_s, request_id)

    def expired(self) -> bool:
        """After a CancelledError from a read: True when this watch caused it (and it is
        then taken back), False when someone else cancelled the task."""
        return self._cancelled and self._task.uncancel() <= self._base

    def close(self) -> None:
        """Stop the timer."""
        self._handle.cancel()
