"""Class 8, tracebacks where one-line errors are promised: bad bytes, bad files, a bad database.

Each case runs the real ``voiced`` command in a subprocess, as a user would.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import wave
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY
from tests.groqsim import GroqSim, Segment, Transcript
from tests.hostile.cli import Cli, one_line_error
from voiced.converse.history import HistoryStore
from voiced.protocol import ControlClient
from voiced.protocol.events import Event
from voiced.protocol.reports import ErrorReport

pytestmark = pytest.mark.subprocess

BAD_NAME = b"caf\xe9 \xff.wav"
"""A Latin-1 file name: not UTF-8."""


def write_wav(path: Path | bytes, seconds: float = 0.5) -> Path | bytes:
    with wave.open(os.fsdecode(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x01\x00" * int(16000 * seconds))
    return path


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_transcribing_a_file_whose_name_is_not_utf8_works(groqsim: GroqSim, tmp_path: Path) -> None:
    groqsim.api_key = TEST_KEY
    cli = Cli(tmp_path, groqsim.base_url)
    path = os.path.join(os.fsencode(tmp_path), BAD_NAME)
    write_wav(path)
    groqsim.enqueue("transcriptions", Transcript("hello", segments=(Segment(0, 0.5, "hello"),)))
    done = cli("transcribe", path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"hello\n"
    ((name, _, _),) = [r.files["file"] for r in groqsim.requests_for("transcriptions")]
    assert name == "caf\ufffd \ufffd.wav"  # sent as valid UTF-8, the bad bytes marked


@pytest.mark.parametrize("command", ["say", "ask"])
def test_text_on_stdin_that_is_not_utf8_is_a_one_line_error(cli: Cli, command: str) -> None:
    done = cli(command, stdin=b"turn on the lights in the caf\xe9\n")
    assert done.returncode == 2
    assert "standard input is not UTF-8 text (byte 0xe9 at offset 29)" in one_line_error(done)


@pytest.mark.parametrize("command", ["say", "ask"])
def test_words_on_the_command_line_that_are_not_utf8_are_a_one_line_error(
    cli: Cli, command: str
) -> None:
    done = cli(command, b"caf\xe9")
    assert done.returncode == 2
    assert "the command line holds bytes that are not UTF-8 text" in one_line_error(done)


def test_searching_the_history_for_bytes_that_are_not_utf8_is_a_one_line_error(cli: Cli) -> None:
    done = cli("history", "--search", b"caf\xe9")
    assert done.returncode == 2
    assert "--search holds bytes that are not UTF-8 text" in one_line_error(done)


def _junk(path: Path) -> Path:
    path.write_bytes(os.urandom(4000))
    return path


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _directory(path: Path) -> Path:
    path.mkdir()
    return path


def _truncated(path: Path) -> Path:
    write_wav(path)
    path.write_bytes(path.read_bytes()[:30])  # cut inside the header
    return path


def _no_samples(path: Path) -> Path:
    return Path(write_wav(path, 0.0))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_junk, "not audio that can be decoded"),
        (_empty, "not audio that can be decoded"),
        (_directory, "not a regular file"),
        (_truncated, "not audio that can be decoded"),
        (_no_samples, "the file holds no audio"),
    ],
    ids=["garbage", "zero-length", "directory", "truncated", "no-samples"],
)
def test_a_daemon_input_that_is_not_audio_is_a_one_line_error_and_exit_2(
    cli: Cli, tmp_path: Path, make: object, message: str
) -> None:
    path = make(tmp_path / "junk.wav")  # type: ignore[operator]
    done = cli("daemon", "--input", path)
    assert done.returncode == 2
    line = one_line_error(done)
    assert f"junk.wav: {message}" in line and "(" in line  # what happened, then what to do


def _doctor_lines(stdout: bytes, name: str) -> list[str]:
    return [ln for ln in stdout.decode().splitlines() if ln.split()[1:2] == [name]]


def _history_with_turns(path: Path) -> None:
    store = HistoryStore(path)
    conversation = store.conversation_for(600)
    for n in range(40):
        turn, _ = store.start_turn(conversation, f"question {n} " * 30)
        store.add_message(turn, "assistant", content="an answer " * 100)
        store.finish_turn(turn, "done")
    store.close()


def _garbage_db(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


def _truncated_db(path: Path) -> None:
    _history_with_turns(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", [_garbage_db, _truncated_db], ids=["garbage", "truncated"])
def test_a_damaged_history_is_moved_aside_and_the_daemon_runs_without_it(
    cli: Cli, tmp_path: Path, damage: object
) -> None:
    history = cli.data / "history.sqlite3"
    history.parent.mkdir(parents=True)
    damage(history)  # type: ignore[operator]
    damaged = history.read_bytes()
    events = tmp_path / "events.jsonl"
    speech = Path(write_wav(tmp_path / "quiet.wav", 1.0))

    done = cli("daemon", "--input", speech, "--events", events)

    log = done.stderr.decode()
    assert done.returncode == 0, log  # not the exit a restart loop comes from
    assert "the history file was damaged" in log and "running without history" in log
    moved, *beside = sorted(history.parent.glob("history.sqlite3.damaged-*"))
    assert all(p.name in (moved.name + "-wal", moved.name + "-shm") for p in beside)
    assert moved.read_bytes() == damaged  # kept aside, not deleted
    stamp = moved.name.removeprefix("history.sqlite3.damaged-")
    assert abs(time.mktime(time.strptime(stamp, "%Y%m%d-%H%M%S")) - time.time()) < 120
    reports = [json.loads(line) for line in events.read_text().splitlines()]
    (report,) = [r for r in reports if r["type"] == "error" and r["code"] == "history"]
    assert str(moved) in report["message"] and report["hint"]

    listed = cli("history")
    assert listed.returncode == 0
    note = listed.stderr.decode()
    assert "the history was found damaged" in note and str(moved) in note

    doctor = cli("doctor", timeout=120)
    (line,) = _doctor_lines(doctor.stdout, "history")
    assert line.startswith("!") and f"file was moved aside to {moved}" in line


def test_a_damaged_timers_file_is_moved_aside_and_timers_are_kept_in_memory(
    cli: Cli, tmp_path: Path
) -> None:
    timers = cli.data / "timers.sqlite3"
    timers.parent.mkdir(parents=True)
    _garbage_db(timers)
    events = tmp_path / "events.jsonl"
    done = cli("daemon", "--input", write_wav(tmp_path / "quiet.wav", 1.0), "--events", events)
    log = done.stderr.decode()
    assert done.returncode == 0, log
    assert "the timers file was damaged" in log and "timers are kept in memory only" in log
    assert len(list(timers.parent.glob("timers.sqlite3.damaged-*"))) >= 1
    reports = [json.loads(line) for line in events.read_text().splitlines()]
    assert [r["code"] for r in reports if r["type"] == "error"] == ["timers"]
    doctor = cli("doctor", timeout=120)
    (line,) = _doctor_lines(doctor.stdout, "timers")
    assert line.startswith("!") and "a damaged timers file was moved aside" in line


def test_voiced_history_names_a_damaged_database_in_one_line(cli: Cli) -> None:
    history = cli.data / "history.sqlite3"
    history.parent.mkdir(parents=True)
    _truncated_db(history)
    done = cli("history")
    assert done.returncode == 2
    line = one_line_error(done)
    assert f"{history} is damaged (database error: database disk image is malformed)" in line
    assert history.exists()  # reading does not move it

    doctor = cli("doctor", timeout=120)
    (check,) = _doctor_lines(doctor.stdout, "history")
    assert check.startswith("✗") and "is damaged" in check


async def test_a_client_that_connects_later_is_told_the_history_is_unavailable(
    cli: Cli, tmp_path: Path
) -> None:
    history = cli.data / "history.sqlite3"
    history.parent.mkdir(parents=True)
    _garbage_db(history)
    sock = cli.home / "run" / "replay.sock"
    speech = Path(write_wav(tmp_path / "quiet.wav", 20.0))  # read in real time: 20 s to connect
    proc = cli.popen("daemon", "--input", speech, "--socket", sock, log=tmp_path / "log")
    try:
        for _ in range(300):  # the daemon takes a few seconds to load its models
            if sock.exists() or proc.poll() is not None:
                break
            await asyncio.sleep(0.1)
        client = await ControlClient.connect(sock, wait_s=10)
        seen: list[Event] = []
        async with client, asyncio.timeout(10):
            async for event in client:
                seen.append(event)
                if isinstance(event, ErrorReport):
                    break
        report = seen[-1]
        assert isinstance(report, ErrorReport) and report.code == "history"
        assert "running without history" in report.message
    finally:
        proc.terminate()
        proc.wait(15)
