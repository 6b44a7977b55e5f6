"""Failure class 3: one oversized or unencodable event must not break any control client.

A real daemon (with a 1.2 MB reply in its stored history, or a lone surrogate published) and a
hostile server written here (garbage, over-long lines, a daemon that keeps dropping the
connection) against the real clients: the protocol client behind `voiced status`/`mute`/`ptt`,
the follower and the TUI.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import orjson
import pytest

from tests.daemon.helpers import ROOT, eventually, next_of
from tests.daemon.replaying import replay, settings_for
from tests.groqsim import GroqSim
from tests.listen.scenes import lay_out
from tests.running import RunningDaemon
from tests.tui.conftest import SIZE, attached, until
from tests.tui.screen import screen_text
from voiced.config import Settings
from voiced.converse.history import HistoryStore
from voiced.daemon import Daemon
from voiced.daemon.recent import ENTRY_BYTES
from voiced.pipeline.assemble import AssembledEngine
from voiced.protocol import (
    AssistantText,
    Connected,
    ControlClient,
    Disconnected,
    Follower,
    History,
    Mute,
    StateChanged,
    Transcript,
)
from voiced.protocol.wire import MAX_EVENT_BYTES, MAX_LINE_BYTES
from voiced.tui.app import VoicedApp

HUGE = "All work and no play makes a long reply. " * 30_000
"""1.2 MB of reply: over the clients' 1 MiB line limit on its own."""

HELLO = {
    "type": "hello",
    "protocol": 1,
    "version": "hostile",
    "pid": 1,
    "state": "listening",
    "mode": "always",
    "chat_model": "m",
    "stt_model": "s",
}
GARBAGE = [
    b"{not json\n",
    b"\xff\xfe\xfd not utf-8\n",
    b"[1, 2, 3]\n",
    b'{"type": "state", "state": 42}\n',
    b'{"no": "type"}\n',
    b'{"type": "speech_started", "utterance": 1' + b"0" * 400 + b', "at_s": 1}\n',
    b'{"deep": ' + b"[" * 100_000 + b"\n",
    b"x" * (3 * MAX_LINE_BYTES) + b"\n",
]
"""Lines no client can take, one of each kind (the last one three times the line limit)."""

UNKNOWN = b'{"type": "from_a_newer_daemon", "x": 1}\n{"type": "' + b"[" * 5000 + b'"}\n'
"""Events of types this client does not know: skipped silently, as a newer daemon's."""


@pytest.fixture
async def sock() -> AsyncIterator[Path]:
    """A socket path in a short private directory."""
    path = Path(tempfile.mkdtemp(prefix="vh-"))
    yield path / "voiced" / "control.sock"
    shutil.rmtree(path, ignore_errors=True)


def line(data: dict[str, object]) -> bytes:
    return orjson.dumps(data) + b"\n"


Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def hostile_server(path: Path, serve: Serve) -> asyncio.Server:
    """A plain Unix socket server in this process (so of this user) at ``path``."""
    path.parent.mkdir(mode=0o700, exist_ok=True)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await serve(reader, writer)
        except ConnectionError:
            pass
        finally:
            writer.close()

    return await asyncio.start_unix_server(handle, path=str(path))


async def voiced(*args: str, socket: Path) -> tuple[int, str]:
    """Run the `voiced` command line against ``socket``; return its code and its output."""
    env = {**os.environ, "VOICED_SOCKET": str(socket), "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voiced",
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(30):
        out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


def store_a_huge_reply(data_home: Path) -> None:
    """A conversation in the history database: a 1.2 MB reply, then a short turn."""
    store = HistoryStore(data_home / "voiced" / "history.sqlite3")
    try:
        conversation = store.conversation_for(3600)
        for question, answer in (("tell me everything", HUGE), ("and briefly?", "In short: all.")):
            turn, _ = store.start_turn(conversation, question)
            store.add_message(turn, "assistant", content=answer, status="done")
            store.finish_turn(turn, "done")
    finally:
        store.close()


@pytest.mark.subprocess
async def test_a_huge_stored_reply_leaves_status_mute_and_the_tui_working(
    groqsim: GroqSim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    store_a_huge_reply(tmp_path / "data")
    seen: dict[str, object] = {}

    async def clients(daemon: Daemon) -> None:
        engine = daemon.engine
        assert isinstance(engine, AssembledEngine)
        await engine.ready.wait()
        try:
            async with await ControlClient.connect(daemon.socket_path) as client:
                seen["history"] = await next_of(client, History)
            seen["status"] = await voiced("status", socket=daemon.socket_path)
            seen["mute"] = await voiced("mute", socket=daemon.socket_path)
            app = VoicedApp(daemon.socket_path)
            async with app.run_test(size=SIZE) as pilot:
                await attached(pilot)
                await until(pilot, lambda: "In short: all." in screen_text(app), "the history")
                await pilot.press("m")  # muted already: m unmutes, so the TUI's command works
                await until(pilot, lambda: app.known.mode == "always", "the unmute")
                seen["attempts"] = app.follower.attempts
        finally:
            daemon.stop("the test is over")

    await replay(lay_out("quiet", [30.0]), settings_for(groqsim, tmp_path), tmp_path, clients)
    history = seen["history"]
    assert isinstance(history, History)
    assert [(e.turn, e.role) for e in history.entries] == [
        (-1, "user"),
        (-1, "assistant"),
        (0, "user"),
        (0, "assistant"),
    ]
    cut = history.entries[1].text
    head = cut[: cut.rindex("…")]
    assert HUGE.startswith(head) and len(head) > 10_000
    assert cut == head + f"… [truncated {len(HUGE) - len(head):,} characters]"
    assert history.entries[3].text == "In short: all."
    code, out = seen["status"]  # type: ignore[misc]
    assert code == 0 and "state:" in out, out
    code, out = seen["mute"]  # type: ignore[misc]
    assert code == 0 and "muted" in out, out
    assert seen["attempts"] == 1, "the TUI connected once and stayed connected"


async def test_a_huge_live_reply_is_cut_visibly_and_every_line_fits(sock: Path) -> None:
    running = await RunningDaemon.serving(Daemon(Settings(), socket=sock))
    try:
        for turn in range(1, 11):  # ten turns of 300 kB each: 3 MB of history
            running.daemon.publish(Transcript(turn=turn, text=f"question {turn}", accepted=True))
            running.daemon.publish(AssistantText(turn=turn, text=f"{turn} " + "y" * 300_000))
        reader, writer = await asyncio.open_unix_connection(sock, limit=4 * MAX_LINE_BYTES)
        greeting, history_line = await reader.readline(), await reader.readline()
        writer.close()
        assert orjson.loads(greeting)["type"] == "hello"
        assert len(history_line) <= MAX_EVENT_BYTES
        async with await ControlClient.connect(sock) as client:
            history = await next_of(client, History)
            running.daemon.publish(AssistantText(turn=11, text="z" * 1_200_000))
            live = await next_of(client, AssistantText)
            assert (await client.status()).state == "listening"
    finally:
        await running.stop()
    turns = [e.turn for e in history.entries]
    assert turns == sorted(turns) and turns[-1] == 10, "the newest turns are kept, in order"
    assert len(set(turns)) >= 4 and turns.count(turns[0]) == 2, "whole turns only"
    for entry in history.entries:  # each reply cut to its share, its start kept
        if entry.role == "assistant":
            assert entry.text.startswith(f"{entry.turn} yyy") and entry.text.endswith("ters]")
            assert 16_000 < len(entry.text) <= ENTRY_BYTES
    assert live.text.startswith("zzz") and live.text.endswith("characters]")
    assert len(live.text) < MAX_EVENT_BYTES


async def test_a_lone_surrogate_is_replaced_and_every_client_keeps_working(sock: Path) -> None:
    running = await RunningDaemon.serving(Daemon(Settings(), socket=sock))
    try:
        async with await ControlClient.connect(sock) as first:
            running.daemon.publish(Transcript(turn=1, text="caf\udce9 au lait", accepted=True))
            running.daemon.publish(AssistantText(turn=1, text="half a pair: \ud83d!"))
            running.daemon.publish(AssistantText(turn=2, text="and the next one"))
            said = await next_of(first, Transcript)
            replied = await next_of(first, AssistantText)
            after = await next_of(first, AssistantText)
            assert (await first.status()).state == "listening"
        async with await ControlClient.connect(sock) as late:  # its history holds both
            history = await next_of(late, History)
            assert (await late.request(Mute())).ack.ok
    finally:
        await running.stop()
    assert said.text == "caf\ufffd au lait" and replied.text == "half a pair: \ufffd!"
    assert after.text == "and the next one"
    assert [e.text for e in history.entries][:2] == ["caf\ufffd au lait", "half a pair: \ufffd!"]


@pytest.mark.subprocess
async def test_the_client_skips_lines_it_cannot_take_and_gets_the_next_event(sock: Path) -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(line(HELLO))
        for bad in (*GARBAGE, UNKNOWN):
            writer.write(bad)
            await writer.drain()
        writer.write(line({"type": "state", "state": "hearing"}))
        while command := await reader.readline():  # answer commands, garbage first
            asked = orjson.loads(command)
            writer.write(GARBAGE[-1] + GARBAGE[0])
            status = {"type": "status", "id": asked["id"], "state": "hearing", "mode": "always"}
            status |= {"ptt": False, "chat_model": "m", "stt_model": "s"}
            writer.write(line(status | {"barge_in": True, "speculative": True}))
            writer.write(line({"type": "ack", "id": asked["id"], "command": asked["type"]}))
            writer.write(line({"type": "ack", "id": asked["id"], "command": "x", "ok": True}))
            await writer.drain()

    server = await hostile_server(sock, serve)
    async with server:
        async with await ControlClient.connect(sock) as client:
            state = await next_of(client, StateChanged)
            assert state.state == "hearing"
            assert (await client.status()).state == "hearing"
            assert client.skipped == len(GARBAGE) + 3, "each unreadable line skipped, none lost"
            assert not client.closed_reason
        code, out = await voiced("status", socket=sock)
        assert code == 0 and "state:   hearing" in out, out


async def test_an_endless_line_is_dropped_piecewise_not_buffered(sock: Path) -> None:
    chunk = b"x" * (1 << 20)
    size = 64

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(line(HELLO))
        for _ in range(size):
            writer.write(chunk)
            await writer.drain()
        writer.write(b"\n" + line({"type": "state", "state": "thinking"}))
        await writer.drain()
        await reader.read()

    server = await hostile_server(sock, serve)
    async with server:
        tracemalloc.start()
        try:
            async with await ControlClient.connect(sock) as client:
                state = await next_of(client, StateChanged, within=30)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert state.state == "thinking" and client.skipped == 1
    assert peak < 12 * MAX_LINE_BYTES, f"{peak / 2**20:.0f} MiB held for a {size} MiB line"


@pytest.mark.realtime
async def test_a_daemon_sending_bad_lines_causes_no_reconnect_storm(sock: Path) -> None:
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.write(line(HELLO) + b"".join(GARBAGE))
        writer.write(line({"type": "state", "state": "speaking"}))
        await writer.drain()
        await reader.read()

    server = await hostile_server(sock, serve)
    follower = Follower(sock)
    seen: list[object] = []

    async def follow() -> None:
        async for item in follower:
            seen.append(item)

    async with server:
        task = asyncio.create_task(follow())
        await eventually(lambda: any(isinstance(s, StateChanged) for s in seen))
        await asyncio.sleep(2.0)
        await follower.aclose()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert connections == 1 and follower.attempts == 1
    assert not any(isinstance(s, Disconnected) for s in seen)


@pytest.mark.realtime
async def test_a_daemon_that_keeps_dropping_connections_is_retried_with_backoff(
    sock: Path,
) -> None:
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.write(line(HELLO) + GARBAGE[-1])
        await writer.drain()  # and hangs up, as the old clients did on an over-long history

    server = await hostile_server(sock, serve)
    follower = Follower(sock)
    seen: list[object] = []

    async def follow() -> None:
        async for item in follower:
            seen.append(item)

    async with server:
        task = asyncio.create_task(follow())
        await asyncio.sleep(2.0)
        await follower.aclose()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    # 0.1 s doubling (each wait jittered between half and all of it): at most 7 in 2 s.
    assert 3 <= connections <= 7, f"{connections} connections in 2 s"
    assert sum(isinstance(s, Connected) for s in seen) == connections
