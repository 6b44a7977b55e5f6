"""Failure class 4: another user must not be able to take over the control socket.

Tests run as root, so "another user" is uid 65534 for real: directories and sockets are
chowned to it, and hostile peers run as it (with the system Python, which that user can
read). The old fallback, /tmp/voiced-<uid>, is squatted inside a private mount namespace, so
the real /tmp is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon.helpers import ROOT
from tests.running import RunningDaemon
from voiced.config import Settings
from voiced.daemon import Daemon
from voiced.errors import DaemonNotRunningError, UnsafeSocketError
from voiced.protocol import ControlClient, Disconnected, Follower, Mute, socket_path
from voiced.protocol.peer import peer_uid

OTHER = 65534
"""Another user (nobody)."""

SYSTEM_PYTHON = "/usr/bin/python3"
"""A Python the other user can run (this venv's may live in root's home)."""

as_root = pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")


@pytest.fixture
def private() -> Iterator[Path]:
    """A short private directory of this user's."""
    path = Path(tempfile.mkdtemp(prefix="vt-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def other_python() -> str:
    if os.getuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK):
        pytest.skip("needs root and a system Python to run a process as another user")
    return SYSTEM_PYTHON


async def run_as_other(python: str, script: str, *args: str) -> str:
    """Run a stdlib-only ``script`` as uid 65534; return its output."""
    proc = await asyncio.create_subprocess_exec(
        python,
        "-I",
        "-c",
        script,
        *args,
        user=OTHER,
        group=OTHER,
        extra_groups=[],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(20):
        out, _ = await proc.communicate()
    return out.decode()


def test_without_a_runtime_dir_the_socket_is_in_the_users_cache_never_in_tmp() -> None:
    assert socket_path(env={"HOME": "/home/ann"}) == Path("/home/ann/.cache/voiced/control.sock")
    cache = {"HOME": "/home/ann", "XDG_CACHE_HOME": "/srv/cache"}
    assert socket_path(env=cache) == Path("/srv/cache/voiced/control.sock")
    relative = {"HOME": "/home/ann", "XDG_CACHE_HOME": "cache"}  # ignored, as XDG says
    assert socket_path(env=relative) == Path("/home/ann/.cache/voiced/control.sock")
    assert socket_path("/run/elsewhere.sock", env={}) == Path("/run/elsewhere.sock")


@as_root
def test_a_runtime_dir_that_is_not_private_to_the_user_is_not_used(private: Path) -> None:
    home = {"HOME": str(private)}
    fallback = private / ".cache" / "voiced" / "control.sock"
    mine = private / "mine"
    mine.mkdir(mode=0o700)
    assert (
        socket_path(env={**home, "XDG_RUNTIME_DIR": str(mine)}) == mine / "voiced" / fallback.name
    )
    theirs = private / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, OTHER, OTHER)
    shared = private / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    for runtime in (theirs, shared, private / "missing", Path("relative")):
        assert socket_path(env={**home, "XDG_RUNTIME_DIR": str(runtime)}) == fallback, runtime


SQUATTER = r"""
import os, socket, sys, threading
path = sys.argv[1]
server = socket.socket(socket.AF_UNIX)
server.bind(path)
os.chmod(path, 0o666)
server.listen()
print("listening", flush=True)
hello = (b'{"type":"hello","protocol":1,"version":"fake","pid":1,"state":"listening",'
         b'"mode":"always","chat_model":"m","stt_model":"s"}\n')
def serve(conn):
    conn.sendall(hello)
    while data := conn.recv(65536):
        print("received", data.decode(errors="replace"), flush=True)
while True:
    threading.Thread(target=serve, args=(server.accept()[0],), daemon=True).start()
"""
"""Another user listening where the old fallback put the socket, as one could before."""

VICTIM = r"""
import json, os, pathlib, subprocess, sys, tempfile, time
root, other_python, squatter = sys.argv[1:4]
def stage(what):  # where a run that overstays its time was (the test prints stderr)
    print(f"{time.monotonic():.1f} {what}", file=sys.stderr, flush=True)
# A checkout under /tmp (a CI clone, say) must stay reachable under the fresh /tmp: keep a
# handle on its top directory and bind it back once the tmpfs covers the old /tmp.
top = "/tmp/" + root.split("/")[2] if root.startswith("/tmp/") else None
kept = os.open(top, os.O_RDONLY | os.O_DIRECTORY) if top else None
subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/tmp"], check=True)  # this namespace only
if top:
    os.mkdir(top)
    subprocess.run(["mount", "--no-canonicalize", "--bind", f"/proc/self/fd/{kept}", top],
                   check=True, pass_fds=[kept])  # mount must not resolve the link to the new /tmp
squat = pathlib.Path(f"/tmp/voiced-{os.getuid()}")
squat.mkdir()
squat.chmod(0o777)
os.chown(squat, 65534, 65534)
spy = subprocess.Popen(
    [other_python, "-I", "-c", squatter, str(squat / "control.sock")],
    user=65534, group=65534, extra_groups=[], stdout=subprocess.PIPE,
    stderr=subprocess.DEVNULL,  # never the test's pipe: it must close when this script ends
)
assert spy.stdout.readline() == b"listening\n"
stage("the squatter listens")
home = tempfile.mkdtemp(prefix="home-")
env = {"PATH": os.environ["PATH"], "PYTHONPATH": root, "HOME": home,
       "GROQ_API_KEY": "gsk_test_not_used_0123456789", "GROQ_BASE_URL": "http://127.0.0.1:9"}
voiced = [sys.executable, "-m", "voiced"]
def daemon_log():
    return open(os.path.join(home, "daemon.log"), errors="replace").read()[-2000:]
def run(*args):  # a command's [returncode, output]; a hung one is killed, not waited for
    try:
        done = subprocess.run([*voiced, *args], env=env, cwd=root, capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=40)
    except subprocess.TimeoutExpired:
        return [-1, f"`voiced {' '.join(args)}` did not answer in 40 s"]
    return [done.returncode, (done.stdout + done.stderr).decode()]
with open(os.path.join(home, "daemon.log"), "wb") as log:
    daemon = subprocess.Popen([*voiced, "daemon"], env=env, cwd=root, stdout=log, stderr=log,
                              stdin=subprocess.DEVNULL)
try:
    deadline = time.monotonic() + 60
    while True:
        status = run("status")
        stage(f"status answered {status[0]}")
        if status[0] == 0 or daemon.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    mute = run("mute")
    stage(f"mute answered {mute[0]}")
    alive = daemon.poll() is None
    sockets = [str(p.relative_to(home)) for p in pathlib.Path(home).rglob("*.sock")]
finally:
    daemon.terminate()
    try:
        daemon.wait(15)
    except subprocess.TimeoutExpired:
        daemon.kill()
        stage("the daemon ignored SIGTERM for 15 s: " + daemon_log())
    stage("the daemon stopped")
    spy.kill()
print(json.dumps({
    "daemon_alive": alive,
    "status": status,
    "mute": mute,
    "spy_received": spy.stdout.read().decode(),
    "sockets": sockets,
    "daemon_log": daemon_log(),
}))
"""
"""In a mount namespace with its own /tmp: another user squats /tmp/voiced-<uid> (a
directory of theirs with their socket in it), then voiced runs without XDG_RUNTIME_DIR."""


@pytest.mark.timeout(240)
@pytest.mark.subprocess
def test_a_squatted_tmp_directory_neither_stops_the_daemon_nor_hears_its_commands(
    other_python: str,
) -> None:
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-m", "true"]).returncode != 0:
        pytest.skip("needs unshare(1) and the right to make a mount namespace")
    try:
        done = subprocess.run(
            [unshare, "-m", sys.executable, "-c", VICTIM, str(ROOT), other_python, SQUATTER],
            capture_output=True,
            timeout=180,  # a loaded machine starts each `voiced` slowly
            env={"PATH": os.environ.get("PATH", "")},
        )
    except subprocess.TimeoutExpired as exc:
        stages = exc.stderr.decode(errors="replace") if exc.stderr else "none"
        pytest.fail(f"the run overstayed 180 s; its stages: {stages}")
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    result = json.loads(done.stdout.decode().splitlines()[-1])
    print(result)
    assert result["daemon_alive"], result["daemon_log"]
    assert result["status"][0] == 0, result
    assert result["mute"][0] == 0 and "muted" in result["mute"][1], result
    assert result["spy_received"] == "", "the other user heard nothing"
    assert result["sockets"] == [".cache/voiced/control.sock"]


@as_root
async def test_the_daemon_refuses_a_socket_directory_that_is_a_link_or_another_users(
    private: Path,
) -> None:
    sock = private / "voiced" / "control.sock"
    target = private / "target"
    target.mkdir(mode=0o700)
    sock.parent.symlink_to(target)
    with pytest.raises(UnsafeSocketError, match="is a symbolic link") as info:
        await Daemon(Settings(), socket=sock).run(handle_signals=False)
    assert "remove the link" in info.value.hint
    assert not (target / "control.sock").exists()
    sock.parent.unlink()
    sock.parent.mkdir(mode=0o700)
    os.chown(sock.parent, OTHER, OTHER)
    with pytest.raises(UnsafeSocketError, match="belongs to another user"):
        await Daemon(Settings(), socket=sock).run(handle_signals=False)


@as_root
async def test_clients_refuse_a_socket_or_directory_that_is_a_link_or_another_users(
    private: Path,
) -> None:
    sock = private / "voiced" / "control.sock"
    running = await RunningDaemon.serving(Daemon(Settings(), socket=sock))
    try:
        linked_dir = private / "linked"
        linked_dir.symlink_to(sock.parent)
        linked_sock = private / "control.sock"
        linked_sock.symlink_to(sock)
        for path, problem in (
            (linked_dir / "control.sock", f"socket directory {linked_dir} is a symbolic link"),
            (linked_sock, f"control socket {linked_sock} is a symbolic link"),
        ):
            with pytest.raises(UnsafeSocketError, match=problem):
                await ControlClient.connect(path)
        os.chown(sock, OTHER, OTHER)
        with pytest.raises(UnsafeSocketError, match=r"socket .* belongs to another user \(uid"):
            await ControlClient.connect(sock)
        os.chown(sock, 0, 0)
        os.chown(sock.parent, OTHER, OTHER)
        with pytest.raises(UnsafeSocketError, match="socket directory .* belongs to another"):
            await ControlClient.connect(sock)
        os.chown(sock.parent, 0, 0)
        async with await ControlClient.connect(sock) as client:  # as it is: accepted
            assert (await client.request(Mute())).ack.ok
    finally:
        await running.stop()


async def test_a_missing_socket_directory_still_says_no_daemon_runs(private: Path) -> None:
    with pytest.raises(DaemonNotRunningError, match="no voiced daemon is listening"):
        await ControlClient.connect(private / "absent" / "control.sock")


PEEK = r"""
import socket, sys
client = socket.socket(socket.AF_UNIX)
client.settimeout(10)
client.connect(sys.argv[1])
data = b""
try:
    while chunk := client.recv(65536):
        data += chunk
except OSError as exc:
    print("error", type(exc).__name__)
print("received", len(data), data[:40])
"""
"""Another user's client: connects and prints what the daemon sent it."""


@pytest.mark.subprocess
async def test_the_daemon_drops_a_client_of_another_user(private: Path, other_python: str) -> None:
    os.chmod(private, 0o755)
    shared = private / "shared"  # a configured socket in a directory others can enter
    shared.mkdir(mode=0o755)
    sock = shared / "control.sock"
    running = await RunningDaemon.serving(Daemon(Settings(), socket=sock))
    try:
        sock.chmod(0o666)  # loosened by mistake: only the peer check is left
        out = await run_as_other(other_python, PEEK, str(sock))
        async with await ControlClient.connect(sock) as mine:
            assert (await mine.status()).clients == 1
    finally:
        await running.stop()
    assert "received 0 b''" in out, out


LISTEN_AS_OTHER = r"""
import os, socket, sys
server = socket.socket(socket.AF_UNIX)
server.bind(sys.argv[1])  # as root, so the socket file is root's as voiced's would be
os.setgid(65534)
os.setuid(65534)
server.listen()  # the kernel records the listener's credentials here
print("listening", flush=True)
hello = (b'{"type":"hello","protocol":1,"version":"fake","pid":1,"state":"listening",'
         b'"mode":"always","chat_model":"m","stt_model":"s"}\n')
while True:
    conn, _ = server.accept()
    conn.sendall(hello)
"""
"""A server that another user's process listens on, behind a socket file of this user's."""


@pytest.mark.subprocess
async def test_a_client_refuses_a_server_of_another_user(private: Path, other_python: str) -> None:
    sock = private / "voiced" / "control.sock"
    sock.parent.mkdir(mode=0o700)
    server = await asyncio.create_subprocess_exec(
        other_python, "-I", "-c", LISTEN_AS_OTHER, str(sock), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        assert await asyncio.wait_for(server.stdout.readline(), 10) == b"listening\n"
        assert sock.lstat().st_uid == os.getuid(), "the file looks like ours"
        with pytest.raises(UnsafeSocketError, match=r"served by another user's process \(uid"):
            await ControlClient.connect(sock)
        follower = Follower(sock)
        async with asyncio.timeout(5):
            first = await anext(aiter(follower))
        await follower.aclose()
        assert isinstance(first, Disconnected) and "another user's process" in first.reason
    finally:
        server.kill()
        await server.wait()


async def test_peer_uid_reads_the_other_ends_credentials() -> None:
    a, b = __import__("socket").socketpair()
    with contextlib.closing(a), contextlib.closing(b):
        assert peer_uid(a) == os.getuid() == peer_uid(b)
