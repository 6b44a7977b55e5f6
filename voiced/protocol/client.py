"""Asyncio client of the control socket: greeting check, commands, events, replies."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from voiced.errors import DaemonNotRunningError, ProtocolError
from voiced.protocol.commands import Command, GetStatus
from voiced.protocol.events import PROTOCOL_VERSION, Event, Hello
from voiced.protocol.lines import Overlong, read_line
from voiced.protocol.paths import socket_path
from voiced.protocol.peer import START_HINT, check_server, check_socket_path
from voiced.protocol.reports import Ack, Goodbye, Status
from voiced.protocol.wire import EVENT_TYPES, MAX_LINE_BYTES, decode_event, decode_object, encode

log = logging.getLogger(__name__)

__all__ = ["START_HINT", "ControlClient", "Reply"]

_ids = itertools.count(1)


@dataclass(frozen=True)
class Reply:
    """The daemon's answer to one command: its ack and any events carrying the same id."""

    ack: Ack
    events: tuple[Event, ...] = ()


class ControlClient:
    """One connection to the daemon; build it with :meth:`connect`.

    Iterate it for every event the daemon sends after the greeting (acks included); the
    iteration ends when the connection closes. A line it cannot take (over MAX_LINE_BYTES,
    not JSON, invalid fields) is skipped, and the first one logged: one bad event never
    costs the connection. Event types it does not know are skipped silently.
    """

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, hello: Hello
    ) -> None:
        self.hello = hello
        self.closed_reason = ""
        self.skipped = 0
        """Lines from the daemon that could not be read and were skipped."""
        self._reader, self._writer = reader, writer
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._pending: dict[str, tuple[asyncio.Future[Reply], list[Event]]] = {}
        self._task = asyncio.create_task(self._read(), name="voiced-control-reader")

    @classmethod
    async def connect(cls, path: Path | str | None = None, wait_s: float = 5.0) -> ControlClient:
        """Connect, read the greeting and check the protocol version.

        Args:
            path: The control socket; defaults to :func:`voiced.protocol.paths.socket_path`.
            wait_s: Seconds to wait for the connection and the greeting.

        Raises:
            DaemonNotRunningError: Nothing listens on the socket.
            UnsafeSocketError: The socket, its directory or the server is another user's, or
                the socket or its directory is a symbolic link.
            ProtocolError: The greeting is missing, malformed or of another version.
        """
        where = Path(path) if path is not None else socket_path()
        check_socket_path(where)
        try:
            async with asyncio.timeout(wait_s):
                reader, writer = await asyncio.open_unix_connection(where, limit=MAX_LINE_BYTES)
                try:
                    check_server(writer.get_extra_info("socket"), where)
                except BaseException:
                    writer.close()
                    raise
                line = await read_line(reader)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise DaemonNotRunningError(
                f"no voiced daemon is listening on {where}", START_HINT
            ) from exc
        except (TimeoutError, OSError, ValueError) as exc:
            raise DaemonNotRunningError(
                f"the daemon on {where} did not greet within {wait_s:g} s: {exc or 'timeout'}",
                "check it with `voiced doctor`; restart it if it hangs",
            ) from exc
        try:
            hello = decode_event(line) if isinstance(line, bytes) and line else None
            if not isinstance(hello, Hello):
                raise ProtocolError(f"the daemon on {where} did not start with a greeting")
            if hello.protocol != PROTOCOL_VERSION:
                raise ProtocolError(
                    f"the daemon speaks protocol {hello.protocol}, this client {PROTOCOL_VERSION}",
                    "restart the daemon so both run the same voiced "
                    "(`systemctl --user restart voiced`)",
                )
        except ProtocolError:
            writer.close()
            raise
        return cls(reader, writer, hello)

    async def send(self, command: Command) -> None:
        """Send a command without waiting for its ack.

        Raises:
            DaemonNotRunningError: The connection is closed.
        """
        try:
            self._writer.write(encode(command))
            await self._writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            raise DaemonNotRunningError(f"the daemon closed the connection: {exc}") from exc

    async def request(self, command: Command, wait_s: float = 5.0) -> Reply:
        """Send a command and wait for its ack (and any events answering it).

        Args:
            command: The command; an ``id`` is given to it when it has none.
            wait_s: Seconds to wait for the ack.

        Raises:
            DaemonNotRunningError: The connection closed or the ack did not come in time.
        """
        if not command.id:
            command = type(command).from_dict({**command.to_dict(), "id": f"c{next(_ids)}"})
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[command.id] = (future, [])
        try:
            await self.send(command)
            async with asyncio.timeout(wait_s):
                return await future
        except TimeoutError as exc:
            raise DaemonNotRunningError(
                f"the daemon did not answer {command.type!r} within {wait_s:g} s"
            ) from exc
        finally:
            self._pending.pop(command.id, None)

    async def status(self, wait_s: float = 5.0) -> Status:
        """Ask for and return the daemon's status."""
        reply = await self.request(GetStatus(), wait_s)
        for event in reply.events:
            if isinstance(event, Status):
                return event
        raise ProtocolError("the daemon acknowledged 'status' without sending one")

    async def __aiter__(self) -> AsyncIterator[Event]:
        while (event := await self._queue.get()) is not None:
            yield event

    async def aclose(self) -> None:
        """Close the connection."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    async def __aenter__(self) -> ControlClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _read(self) -> None:
        try:
            while line := await read_line(self._reader):
                if isinstance(line, Overlong):
                    self._skip(f"{line.size:,} bytes, over the {MAX_LINE_BYTES:,}-byte limit")
                elif line.strip() and (event := self._decode(line)) is not None:
                    self._dispatch(event)
            self.closed_reason = self.closed_reason or "the daemon closed the connection"
        except (ConnectionError, ValueError) as exc:
            self.closed_reason = f"connection lost: {exc}"
        finally:
            for future, _ in self._pending.values():
                if not future.done():
                    future.set_exception(DaemonNotRunningError(self.closed_reason or "closed"))
            self._queue.put_nowait(None)

    def _decode(self, line: bytes) -> Event | None:
        """The event on ``line``; None (and the line skipped) when it cannot be read."""
        try:
            data = decode_object(line)
            cls = EVENT_TYPES.get(data["type"])
            if cls is None:  # from a newer daemon: skipped by design
                log.debug("skipping an event of unknown type %r", data["type"])
                return None
            return cls.from_dict(data)
        except ProtocolError as exc:
            self._skip(exc.message)
            return None

    def _skip(self, why: str) -> None:
        self.skipped += 1
        if self.skipped == 1:
            log.warning(
                "skipped a message from the daemon that this client cannot read (%s); "
                "the connection goes on, and further ones are logged at debug level",
                why,
            )
        else:
            log.debug("skipped another unreadable message from the daemon (%s)", why)

    def _dispatch(self, event: Event) -> None:
        if isinstance(event, Goodbye):
            self.closed_reason = f"the daemon said goodbye: {event.reason}"
        reply_to = getattr(event, "id", "")
        if reply_to and reply_to in self._pending:
            future, gathered = self._pending[reply_to]
            if isinstance(event, Ack):
                if not future.done():
                    future.set_result(Reply(event, tuple(gathered)))
            else:
                gathered.append(event)
        self._queue.put_nowait(event)
