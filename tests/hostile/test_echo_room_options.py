"""Class 8 for replay mode's simulated room: bad ``--echo-gain``/``--echo-delay-ms``/
``--echo-ir`` values are one-line errors (exit 2) before anything starts, never tracebacks."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import pytest

from tests.hostile.cli import Cli, one_line_error

pytestmark = pytest.mark.subprocess


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def quiet_wav(path: Path) -> Path:
    with wave.open(os.fsdecode(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x01\x00" * 8000)
    return path


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--echo-gain", "9"], "--echo-gain must be between 0 and 4, got 9"),
        (["--echo-gain", "0.5", "--echo-delay-ms", "5"], "--echo-delay-ms must be between"),
        (["--echo-delay-ms", "80"], "--echo-delay-ms and --echo-ir need --echo-gain"),
        (["--echo-gain", "0.5", "--echo-ir", "GARBAGE"], "not a WAV file"),
        (["--echo-gain", "0.5", "--echo-ir", "SILENT"], "holds no impulse response"),
    ],
    ids=["gain", "delay", "delay-alone", "ir-garbage", "ir-silent"],
)
def test_a_bad_simulated_room_is_a_one_line_error_and_exit_2(
    cli: Cli, tmp_path: Path, options: list[str], message: str
) -> None:
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF\x00\x00not a wav")
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x00" * 1600)
    named = {"GARBAGE": str(garbage), "SILENT": str(silent)}
    args = [named.get(o, o) for o in options]
    done = cli("daemon", "--input", quiet_wav(tmp_path / "q.wav"), *args)
    assert done.returncode == 2
    assert message in one_line_error(done)


def test_a_room_without_a_replayed_input_is_a_one_line_error(cli: Cli) -> None:
    done = cli("daemon", "--echo-gain", "0.5")
    assert done.returncode == 2
    assert "--echo-gain needs --input" in one_line_error(done)
