"""The control server: a 0600 Unix socket speaking JSON lines to any number of clients.

Only processes of the daemon's own user are served (``SO_PEERCRED``); every event is encoded
to fit a client's line limit, and one that cannot be encoded is logged and skipped, so no
event can cost a client its connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from voiced.daemon.bus import EventBus, Subscription
from voiced.daemon.sockfile import bind_private
from voiced.errors import ProtocolError, VoicedError
from voiced.protocol.commands import Command
from voiced.protocol.events import Event, Hello
from voiced.protocol.peer import peer_uid
from voiced.protocol.reports import Ack, ErrorReport, Goodbye
from voiced.protocol.wire import MAX_COMMAND_BYTES, decode_command, encode

log = logging.getLogger(__name__)


class CommandHandler(Protocol):
    """What the server asks of the daemon."""

    def greeting(self) -> Hello:
        """The greeting a new client gets first."""

    def recent(self) -> tuple[Event, ...]:
        """What a new client gets after the greeting: the recent conversation (a
        :class:`History`), then any confirmation still waiting for an answer."""

    async def handle(self, command: Command) -> tuple[Event, ...]:
        """Carry out a command; return any events that answer it (sent to that client only).

        Raises:
            VoicedError: The command was refused; the message goes back in the ack.
        """


class ControlServer:
    """Serves the control socket.

    Args:
        path: Where the socket is created (its directory 0700, the socket 0600).
        bus: Every event published on it goes to every client.
        handler: Answers the greeting and carries out commands.
        queue_size: Events a client may have waiting before it is cut off (levels go first).
    """

    def __init__(
        self, path: Path, bus: EventBus, handler: CommandHandler, queue_size: int | None = None
    ) -> None:
        self.path, self.bus, self.handler = path, bus, handler
        self.queue_size = queue_size
        self._server: asyncio.Server | None = None
        self._clients: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._subs: set[Subscription] = set()
        self._ids = itertools.count(1)

    @property
    def clients(self) -> int:
        """How many clients are connected."""
        return len(self._subs)

    async def start(self) -> None:
        """Create the socket and accept clients.

        Raises:
            DaemonRunningError: Another daemon answers on the socket.
            DaemonError: The socket cannot be created.
        """
        sock = bind_private(self.path)
        self._server = await asyncio.start_unix_server(
            self._serve, sock=sock, limit=MAX_COMMAND_BYTES
        )

    async def stop(self, reason: str = "the daemon is stopping", grace_s: float = 0.5) -> None:
        """Say goodbye to every client, give them ``grace_s`` to receive it, then close."""
        if self._server is not None:
            self._server.close()
        for sub in list(self._subs):
            sub.offer(Goodbye(reason=reason))
            sub.close()
        if self._clients:
            await asyncio.wait(self._clients, timeout=grace_s)
        for writer in list(self._clients.values()):
            writer.transport.abort()  # ends the client's read at once; its task then returns
        if self._clients:
            await asyncio.wait(self._clients, timeout=grace_s)
        self.path.unlink(missing_ok=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._trusted(writer):
            writer.transport.abort()
            return
        task = asyncio.current_task()
        if task is not None:
            self._clients[task] = writer
        name = f"client-{next(self._ids)}"
        sub = self.bus.subscribe(name, self.queue_size, on_overflow=writer.transport.abort)
        self._subs.add(sub)
        log.info("%s connected (%d clients)", name, len(self._subs))
        sender = asyncio.create_task(self._send(sub, writer), name=f"{name}-send")
        try:
            # Written at once after subscribing: later events follow these, none is missed.
            opening = (self.handler.greeting(), *self.handler.recent())
            writer.write(_lines(opening))
            await self._receive(reader, sub)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.bus.unsubscribe(sub)
            self._subs.discard(sub)
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await asyncio.wait_for(sender, 0.5)
            sender.cancel()
            writer.close()
            if task is not None:
                self._clients.pop(task, None)
            log.info("%s disconnected (%d clients)", name, len(self._subs))

    async def _send(self, sub: Subscription, writer: asyncio.StreamWriter) -> None:
        try:
            async for event in sub:
                writer.write(_lines((event,)))
                await writer.drain()
        except ConnectionError:
            pass
        if sub.overflowed:
            writer.transport.abort()
        else:
            writer.close()  # after what is buffered (the goodbye) is sent; ends the reader too

    def _trusted(self, writer: asyncio.StreamWriter) -> bool:
        """Whether the client runs as the daemon's own user (the socket's 0700 directory and
        0600 mode keep others out; this holds even where those are loosened)."""
        try:
            uid = peer_uid(writer.get_extra_info("socket"))
        except OSError as exc:
            log.warning("refused a client whose credentials cannot be read: %s", exc)
            return False
        if uid is None or uid == os.getuid():
            return True
        log.warning("refused a client of another user (uid %d) on the control socket", uid)
        return False

    async def _receive(self, reader: asyncio.StreamReader, sub: Subscription) -> None:
        while not sub.closed:
            try:
                line = await reader.readline()
            except ValueError:
                sub.offer(_bad(f"a line over {MAX_COMMAND_BYTES} bytes; closing the connection"))
                return
            if not line:
                return
            if not line.strip():
                continue
            try:
                command = decode_command(line)
            except ProtocolError as exc:
                sub.offer(_bad(exc.message, exc.hint))
                continue
            for event in await self._run(command):
                sub.offer(event)

    async def _run(self, command: Command) -> tuple[Event, ...]:
        try:
            replies = await self.handler.handle(command)
        except VoicedError as exc:
            return (Ack(id=command.id, command=command.type, ok=False, message=str(exc)),)
        except Exception as exc:
            log.exception("command %s failed", command.type)
            message = f"internal error: {type(exc).__name__}: {exc}"
            return (Ack(id=command.id, command=command.type, ok=False, message=message),)
        return (*replies, Ack(id=command.id, command=command.type, ok=True))


def _lines(events: Iterable[Event]) -> bytes:
    """The events as JSON lines; one that cannot be encoded is logged and left out."""
    out = []
    for event in events:
        try:
            out.append(encode(event))
        except Exception:  # one bad event must never end a client's connection
            log.exception("could not send a %s event; skipped", event.type)
    return b"".join(out)


def _bad(message: str, hint: str = "") -> ErrorReport:
    return ErrorReport(code="bad_request", message=message, hint=hint)
