"""The control socket: private, greets with the version, serves many clients, survives bad ones."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
from pathlib import Path

import orjson
import pytest

from tests.daemon.helpers import eventually, mode_of, next_of
from tests.running import RunningDaemon
from voiced import __version__
from voiced.config import Settings
from voiced.daemon import Daemon, IdleEngine
from voiced.errors import DaemonNotRunningError, DaemonRunningError, ProtocolError
from voiced.protocol import (
    PROTOCOL_VERSION,
    Ack,
    AssistantDelta,
    AssistantText,
    ConfirmRequest,
    ConfirmResolved,
    ControlClient,
    ErrorReport,
    Goodbye,
    History,
    Transcript,
)
from voiced.protocol.wire import MAX_COMMAND_BYTES


async def test_socket_is_0600_inside_a_0700_directory(start_daemon, sock: Path) -> None:
    await start_daemon()
    assert stat.S_ISSOCK(os.stat(sock).st_mode)
    assert mode_of(sock) == 0o600
    assert mode_of(sock.parent) == 0o700


async def test_an_existing_voiced_directory_is_tightened_to_0700(start_daemon, sock: Path) -> None:
    sock.parent.mkdir(mode=0o755)
    sock.parent.chmod(0o755)
    await start_daemon()
    assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700


async def test_the_greeting_carries_the_protocol_and_voiced_versions(start_daemon) -> None:
    running = await start_daemon()
    async with await running.connect() as client:
        assert client.hello.protocol == PROTOCOL_VERSION
        assert client.hello.version == __version__
        assert client.hello.state == "listening" and client.hello.mode == "wake"
        assert client.hello.wake_word == "Okay Nabu"


async def test_two_clients_receive_the_same_events(start_daemon) -> None:
    running = await start_daemon()
    a, b = await running.connect(), await running.connect()
    sent = [AssistantDelta(turn=3, text=f"word {i} ") for i in range(50)]
    for event in sent:
        running.daemon.publish(event)
    for client in (a, b):
        got = []
        async with asyncio.timeout(5):
            async for event in client:
                if isinstance(event, AssistantDelta):
                    got.append(event)
                    if len(got) == len(sent):
                        break
        assert got == sent
        await client.aclose()


async def test_a_client_that_never_reads_stalls_neither_the_daemon_nor_other_clients(
    start_daemon,
) -> None:
    running = await start_daemon(queue_size=32)
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(str(running.daemon.socket_path))  # and never reads
    good = await running.connect()
    await eventually(lambda: running.daemon.control.clients == 2)
    payload = "x" * 4000
    received: list[AssistantDelta] = []

    async def read_all() -> None:
        async for event in good:
            if isinstance(event, AssistantDelta):
                received.append(event)
                if len(received) == 400:
                    return

    reader = asyncio.create_task(read_all())
    for i in range(400):
        running.daemon.publish(AssistantDelta(turn=1, text=f"{i} {payload}"))
        await asyncio.sleep(0)  # the daemon's loop goes on; publish itself never waits
    async with asyncio.timeout(10):
        await reader
    assert [int(e.text.split()[0]) for e in received] == list(range(400))
    await eventually(lambda: running.daemon.control.clients == 1)
    # The stuck client was cut off: reading now ends in EOF or a reset, not a hang.
    stuck.settimeout(5)
    with pytest.raises(ConnectionResetError):
        while stuck.recv(1 << 16):
            pass
        raise ConnectionResetError("closed")
    stuck.close()
    await good.aclose()


async def test_a_new_client_gets_the_recent_conversation_first(start_daemon) -> None:
    running = await start_daemon()
    daemon = running.daemon
    daemon.publish(Transcript(turn=1, text="what time is it", accepted=True))
    daemon.publish(AssistantText(turn=1, text="It is noon."))
    daemon.publish(Transcript(turn=2, text="thanks for watching", accepted=False, reason="phantom"))
    daemon.publish(Transcript(turn=3, text="and the date", accepted=True))
    daemon.publish(AssistantDelta(turn=3, text="Today is "))
    async with await running.connect() as client:
        first = await anext(aiter(client))
        assert isinstance(first, History)
        assert [(e.turn, e.role, e.text) for e in first.entries] == [
            (1, "user", "what time is it"),
            (1, "assistant", "It is noon."),
            (3, "user", "and the date"),
            (3, "assistant", "Today is "),
        ]


async def test_only_the_configured_number_of_recent_turns_is_replayed(start_daemon) -> None:
    from dataclasses import replace

    settings = Settings()
    settings = replace(settings, daemon=replace(settings.daemon, replay_turns=2))
    running = await start_daemon(settings)
    for turn in range(1, 6):
        running.daemon.publish(Transcript(turn=turn, text=f"q{turn}", accepted=True))
        running.daemon.publish(AssistantText(turn=turn, text=f"a{turn}"))
    async with await running.connect() as client:
        history = await next_of(client, History)
        assert [e.text for e in history.entries] == ["q4", "a4", "q5", "a5"]


async def test_malformed_lines_get_an_error_event_and_the_connection_goes_on(start_daemon) -> None:
    running = await start_daemon()
    reader, writer = await asyncio.open_unix_connection(running.daemon.socket_path)
    await reader.readline()  # hello
    await reader.readline()  # history
    for bad in (b"{not json\n", b'{"type":"launch_rockets"}\n', b'{"type":"ptt","action":1}\n'):
        writer.write(bad)
        reply = await asyncio.wait_for(reader.readline(), 5)
        error = ErrorReport.from_dict(orjson.loads(reply))
        assert error.code == "bad_request" and error.message
    writer.write(b'{"type":"mute","id":"m1"}\n')
    lines = [await asyncio.wait_for(reader.readline(), 5) for _ in range(3)]
    assert any(b'"ack"' in line and b'"ok":true' in line for line in lines)
    assert running.daemon.state.state == "muted"
    writer.close()


async def test_an_oversized_line_closes_only_that_connection(start_daemon) -> None:
    running = await start_daemon()
    other = await running.connect()
    reader, writer = await asyncio.open_unix_connection(running.daemon.socket_path)
    await reader.readline()
    writer.write(b'{"type":"text","text":"' + b"a" * (MAX_COMMAND_BYTES + 10) + b'"}\n')
    seen = b""
    async with asyncio.timeout(5):
        while line := await reader.readline():
            seen += line
    assert b"bad_request" in seen and b"over" in seen
    status = await other.status()
    assert status.clients == 1
    await other.aclose()
    writer.close()


async def test_a_stale_socket_is_replaced_and_a_live_one_is_refused(
    sock: Path, start_daemon
) -> None:
    sock.parent.mkdir(mode=0o700)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(sock))
    dead.close()  # the file stays, nobody listens: a daemon that crashed
    running = await start_daemon()
    async with await running.connect() as client:
        assert client.hello.protocol == PROTOCOL_VERSION
    second = Daemon(Settings(), socket=sock)
    with pytest.raises(DaemonRunningError, match="already running"):
        await second.run(handle_signals=False)


async def test_connecting_with_no_daemon_says_how_to_start_one(sock: Path) -> None:
    with pytest.raises(DaemonNotRunningError, match="no voiced daemon") as info:
        await ControlClient.connect(sock)
    assert "voiced daemon" in info.value.hint


async def test_a_daemon_of_another_protocol_version_is_refused(sock: Path) -> None:
    sock.parent.mkdir(mode=0o700)

    async def old_daemon(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hello = {
            "type": "hello",
            "protocol": 99,
            "version": "9",
            "pid": 1,
            "state": "listening",
            "mode": "always",
            "chat_model": "m",
            "stt_model": "s",
        }
        writer.write(orjson.dumps(hello) + b"\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(old_daemon, path=str(sock))
    async with server:
        with pytest.raises(ProtocolError, match="protocol 99") as info:
            await ControlClient.connect(sock)
        assert "restart the daemon" in info.value.hint


async def test_stopping_says_goodbye_to_every_client(sock: Path) -> None:
    running = await RunningDaemon.serving(Daemon(Settings(), socket=sock))
    client = await running.connect()
    assert await running.stop() == 0
    bye = await next_of(client, Goodbye)
    assert bye.reason == "test over"
    assert sock.name not in os.listdir(sock.parent)
    await client.aclose()


async def test_a_confirmation_answered_by_one_client_is_resolved_for_all(start_daemon) -> None:
    running = await start_daemon()
    engine = running.daemon.engine
    assert isinstance(engine, IdleEngine)
    a, b = await running.connect(), await running.connect()
    running.daemon.publish(
        ConfirmRequest(
            turn=1,
            call_id="call_1",
            name="set_timer",
            arguments='{"minutes": 5}',
            question="Set a timer?",
        )
    )
    await next_of(a, ConfirmRequest)
    from voiced.protocol import Confirm

    reply = await a.request(Confirm(approve=True))
    assert reply.ack.ok
    resolved = await next_of(b, ConfirmResolved)
    assert resolved.call_id == "call_1" and resolved.approved and resolved.by == "user"
    assert engine.answers == [("call_1", True)]
    again = await a.request(Confirm(approve=False, call_id="call_1"))
    assert not again.ack.ok and "no tool is waiting" in again.ack.message
    await a.aclose()
    await b.aclose()


async def test_acks_name_the_command_they_answer(start_daemon) -> None:
    running = await start_daemon()
    async with await running.connect() as client:
        from voiced.protocol import SendText

        reply = await client.request(SendText(text="   "))
        assert isinstance(reply.ack, Ack)
        assert reply.ack.command == "text" and not reply.ack.ok
        assert "empty" in reply.ack.message


async def test_a_follower_reconnects_by_itself_when_the_daemon_restarts(sock: Path) -> None:
    from voiced.protocol import Connected, Disconnected, Follower, Mute

    follower = Follower(sock, retry_s=0.05, max_retry_s=0.2)
    seen: list[object] = []
    connections = asyncio.Event()

    async def follow() -> None:
        async for item in follower:
            seen.append(item)
            if sum(isinstance(s, Connected) for s in seen) == 2:
                connections.set()

    task = asyncio.create_task(follow())
    await eventually(lambda: any(isinstance(s, Disconnected) for s in seen))  # none runs yet
    first = await RunningDaemon.serving(Daemon(Settings(), socket=sock))
    await eventually(lambda: follower.connected)
    await first.stop()
    second = await RunningDaemon.serving(Daemon(Settings(), socket=sock))
    await asyncio.wait_for(connections.wait(), 5)
    await eventually(lambda: follower.connected)
    assert (await follower.request(Mute())).ack.ok
    assert second.daemon.state.state == "muted"
    kinds = [type(s).__name__ for s in seen]
    assert kinds[0] == "Disconnected" and kinds.count("Connected") == 2
    bye = kinds.index("Goodbye")
    assert kinds[bye + 1] == "Disconnected"
    await follower.aclose()
    task.cancel()
    await second.stop()
