"""`voiced daemon` as systemd runs it: sd_notify, SIGTERM, SIGHUP, and replay from the CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.audio.signals import write_wav
from tests.audio.speech import speak
from tests.daemon.helpers import spawn_daemon
from tests.groqsim import ChatReply, GroqSim, Segment, Transcript
from tests.listen.scenes import lay_out

pytestmark = [pytest.mark.subprocess, pytest.mark.realtime]


class Manager:
    """What systemd would be: the notify socket, read datagram by datagram."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.received: list[tuple[float, str]] = []

    def read_until(self, wanted: str, within: float) -> list[str]:
        """Collect datagrams until one holds the line ``wanted``; fail after ``within`` s."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(4096).decode()
            except TimeoutError:
                break
            self.received.append((time.monotonic(), data))
            if wanted in data.splitlines():
                return [d for _, d in self.received]
        raise AssertionError(f"no {wanted} within {within} s; got {self.received}")


@pytest.fixture
def manager(runtime_dir: Path) -> Iterator[Manager]:
    m = Manager(runtime_dir / "notify")
    yield m
    m.sock.close()


@pytest.fixture
def env(runtime_dir: Path, tmp_path: Path, manager: Manager) -> dict[str, str]:
    return {
        "HOME": str(tmp_path),
        "XDG_RUNTIME_DIR": str(runtime_dir),
        "NOTIFY_SOCKET": str(manager.path),
        "GROQ_BASE_URL": "http://127.0.0.1:9",  # never asked: nothing is said to the daemon
        "GROQ_API_KEY": "gsk_test_not_used_0123456789",
    }


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


def test_ready_then_watchdog_pings_at_half_the_interval(
    env: dict[str, str], manager: Manager, tmp_path: Path
) -> None:
    proc = spawn_daemon([], {**env, "WATCHDOG_USEC": "300000"}, tmp_path / "log")
    try:
        first = manager.read_until("READY=1", 30)
        assert not any("WATCHDOG=1" in d for d in first)  # READY comes first
        began = time.monotonic()
        while time.monotonic() - began < 1.0:
            manager.read_until("WATCHDOG=1", 2)
        pings = [t for t, d in manager.received if d == "WATCHDOG=1" and t >= began - 0.2]
        assert len(pings) >= 4  # one every 150 ms: at least 4 in a second, generously
        gaps = np.diff(pings)
        assert gaps.max() < 1.0
    finally:
        stop(proc)


def test_sigterm_says_stopping_and_exits_within_two_seconds(
    env: dict[str, str], manager: Manager, tmp_path: Path
) -> None:
    proc = spawn_daemon([], env, tmp_path / "log")
    try:
        manager.read_until("READY=1", 30)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        manager.read_until("STOPPING=1", 2)
        code = proc.wait(5)
        took = time.monotonic() - sent
    finally:
        stop(proc)
    assert code == 0
    assert took < 2.0, f"took {took:.2f} s"
    assert not (Path(env["XDG_RUNTIME_DIR"]) / "voiced" / "control.sock").exists()


def test_sigterm_in_replay_finishes_writing_the_output_and_events(
    env: dict[str, str], manager: Manager, tmp_path: Path
) -> None:
    silence = (np.random.default_rng(1).standard_normal(16000 * 30) * 20).astype(np.int16)
    source = write_wav(tmp_path / "in.wav", silence, 16000)
    out, events = tmp_path / "out.wav", tmp_path / "events.jsonl"
    args = ["--input", str(source), "--output", str(out), "--events", str(events)]
    proc = spawn_daemon(args, env, tmp_path / "log")
    try:
        manager.read_until("READY=1", 30)
        time.sleep(2.0)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(5)
        took = time.monotonic() - sent
    finally:
        stop(proc)
    assert code == 0 and took < 2.0
    with wave.open(str(out)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    lines = events.read_text().splitlines()
    assert lines and all("t" in json.loads(line) for line in lines)
    assert any(json.loads(line)["type"] == "level" for line in lines)
    heard = max(json.loads(line)["t"] for line in lines)  # the input's clock at the last event
    # The output holds all the input played, up to the signal, and not the rest of the file.
    # (Held to the input's clock, not the wall's: a loaded machine replays a little late.)
    assert 1.0 < heard <= seconds < min(heard + 1.0, 10)


def test_sighup_reloads_a_changed_config_and_survives_a_broken_one(
    env: dict[str, str], manager: Manager, tmp_path: Path
) -> None:
    config = tmp_path / ".config" / "voiced" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[chat]\nmodel = "openai/gpt-oss-20b"\n')
    proc = spawn_daemon([], env, tmp_path / "log")
    try:
        manager.read_until("READY=1", 30)
        assert status(env)["chat_model"] == "openai/gpt-oss-20b"
        config.write_text('[chat]\nmodel = "llama-3.1-8b-instant"\n')
        manager.received.clear()
        proc.send_signal(signal.SIGHUP)
        said = manager.read_until("READY=1", 5)
        assert any("RELOADING=1" in d for d in said)
        assert status(env)["chat_model"] == "llama-3.1-8b-instant"
        config.write_text("[chat\nmodel = ")  # not TOML
        proc.send_signal(signal.SIGHUP)
        manager.read_until("READY=1", 5)
        assert proc.poll() is None
        assert status(env)["chat_model"] == "llama-3.1-8b-instant"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(5)
        stop(proc)


def status(env: dict[str, str]) -> dict[str, object]:
    """``voiced status --json`` against the daemon, as a subprocess."""
    code = (
        "import argparse; from voiced.commands import control; "
        "control.run(argparse.Namespace(control='status', json=True))"
    )
    done = subprocess.run(
        [os.sys.executable, "-c", code],  # type: ignore[attr-defined]
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_replay_from_the_command_line_answers_and_exits_after_the_last_turn(
    groqsim: GroqSim, env: dict[str, str], tmp_path: Path
) -> None:
    scene = lay_out("q", [0.8, [speak("What time is it?")], 3.0])
    source = scene.wav(tmp_path)
    groqsim.enqueue(
        "transcriptions",
        Transcript(text=" What time is it?", segments=[Segment(0, 1.5, " What time is it?")]),
    )
    groqsim.enqueue("chat", ChatReply(content="It is noon.", ttft=0.1))
    out, events = tmp_path / "out.wav", tmp_path / "events.jsonl"
    config = tmp_path / "config.toml"
    config.write_text('[daemon]\nmode = "always"\n')  # a question without a wake word
    cli_env = {**env, "GROQ_BASE_URL": groqsim.base_url, "GROQ_API_KEY": groqsim.api_key or ""}
    cli_env["VOICED_CONFIG"] = str(config)
    cli_env.pop("NOTIFY_SOCKET")
    proc = spawn_daemon(
        ["--input", str(source), "--output", str(out), "--events", str(events)],
        cli_env,
        tmp_path / "log",
    )
    try:
        code = proc.wait(40)
    finally:
        stop(proc)
    assert code == 0, (tmp_path / "log").read_text()
    kinds = [json.loads(line) for line in events.read_text().splitlines()]
    timeline = next(e for e in kinds if e["type"] == "timeline")
    assert timeline["first_audio_ms"] is not None
    with wave.open(str(out)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 300)
    assert loud.size and loud[0] > scene.utterances[0][1]


def test_replay_with_skip_idle_writes_the_whole_input_without_waiting_through_its_quiet(
    groqsim: GroqSim, env: dict[str, str], tmp_path: Path
) -> None:
    scene = lay_out("q", [0.8, [speak("What time is it?")], 20.0])
    groqsim.enqueue(
        "transcriptions",
        Transcript(text=" What time is it?", segments=[Segment(0, 1.5, " What time is it?")]),
    )
    groqsim.enqueue("chat", ChatReply(content="It is noon.", ttft=0.1))
    out, events = tmp_path / "out.wav", tmp_path / "events.jsonl"
    config = tmp_path / "config.toml"
    config.write_text('[daemon]\nmode = "always"\n')  # a question without a wake word
    cli_env = {**env, "GROQ_BASE_URL": groqsim.base_url, "GROQ_API_KEY": groqsim.api_key or ""}
    cli_env["VOICED_CONFIG"] = str(config)
    cli_env.pop("NOTIFY_SOCKET")
    args = ["--input", str(scene.wav(tmp_path)), "--output", str(out), "--events", str(events)]
    began = time.monotonic()
    proc = spawn_daemon([*args, "--skip-idle"], cli_env, tmp_path / "log")
    try:
        code = proc.wait(40)
    finally:
        stop(proc)
    took = time.monotonic() - began
    assert code == 0, (tmp_path / "log").read_text()
    assert took < scene.audio.size / 16000 - 8, f"took {took:.1f} s"
    with wave.open(str(out)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert samples.size >= scene.audio.size  # sample-aligned with the whole input
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 300)
    assert loud.size and loud[0] > scene.utterances[0][1]
    levels = [e for e in map(json.loads, events.read_text().splitlines()) if e["type"] == "level"]
    assert levels[-1]["t"] > scene.audio.size / 16000 - 0.2
