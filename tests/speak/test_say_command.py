"""``voiced say`` and ``voiced voices`` run as a user runs them, in a subprocess."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.audio.pulse import PulseServer
from tests.procs import run_voiced
from tests.speak.monitor import RATE, TimedRecording

pytestmark = pytest.mark.subprocess


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "voiced").mkdir()
    return {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}


def voiced(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return run_voiced(*args, env=env, stdin=stdin)


def read_wav(path: Path) -> tuple[int, int, np.ndarray]:
    with wave.open(str(path), "rb") as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        return wav.getframerate(), wav.getnchannels(), samples


def test_say_output_writes_a_wav_of_the_speech(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "hello.wav"
    result = voiced(env, "say", "Hello **there**, this is voiced.", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # nothing printed, not even the driver's "Audio saved to"
    rate, channels, samples = read_wav(out)
    assert (rate, channels) == (22050, 1)
    assert 1.0 < samples.size / rate < 4.0
    assert np.abs(samples.astype(np.int32)).max() > 8000


def test_say_speaks_on_the_speaker(
    pulse: PulseServer,
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    text = "Hello from the command line."
    written = voiced(env, "say", text, "-o", str(tmp_path / "said.wav"))
    assert written.returncode == 0, written.stderr
    expected = np.count_nonzero(read_wav(tmp_path / "said.wav")[2])
    recording = TimedRecording(pulse.client_env())
    try:
        result = voiced({**env, **pulse.env}, "say", text)
    finally:
        heard = np.count_nonzero(recording.stop())
    assert result.returncode == 0, result.stderr
    assert 0.8 * expected < heard < 1.2 * expected  # the whole sentence reached the speaker
    assert heard > 0.5 * RATE


def test_say_reads_stdin_and_takes_rate_and_voice(env: dict[str, str], tmp_path: Path) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    slow, fast = tmp_path / "slow.wav", tmp_path / "fast.wav"
    assert voiced(env, "say", "--rate", "120", "-o", str(slow), stdin=text).returncode == 0
    result = voiced(env, "say", "--rate", "300", "--voice", "fr", "-o", str(fast), stdin=text)
    assert result.returncode == 0, result.stderr
    assert read_wav(fast)[2].size < 0.6 * read_wav(slow)[2].size


def test_say_with_nothing_to_say_or_a_bad_voice_fails_clearly(
    env: dict[str, str], tmp_path: Path
) -> None:
    empty = voiced(env, "say", "-o", str(tmp_path / "x.wav"))
    assert empty.returncode == 2 and "nothing to say" in empty.stderr
    emoji = voiced(env, "say", "🎉🎉", "-o", str(tmp_path / "x.wav"))
    assert emoji.returncode == 2 and "nothing to say" in emoji.stderr
    bad = voiced(env, "say", "hi", "--voice", "nope", "-o", str(tmp_path / "x.wav"))
    assert bad.returncode == 2
    assert "no voice 'nope'" in bad.stderr and "voiced voices" in bad.stderr
    assert "Traceback" not in bad.stderr
    rate = voiced(env, "say", "hi", "--rate", "5", "-o", str(tmp_path / "x.wav"))
    assert rate.returncode == 2 and "--rate 5 is out of range" in rate.stderr
    unwritable = voiced(env, "say", "hi", "-o", str(tmp_path / "missing" / "x.wav"))
    assert unwritable.returncode == 2 and "cannot write" in unwritable.stderr


def test_voices_lists_ids_names_and_languages_and_stars_the_configured_one(
    env: dict[str, str],
) -> None:
    (Path(env["XDG_CONFIG_HOME"]) / "voiced" / "config.toml").write_text(
        '[speech]\nvoice = "English (America)"\n'
    )
    result = voiced(env, "voices", "--language", "en")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "LANGUAGES"]
    assert any(line.startswith("* gmw/en-us ") and "en-us" in line for line in lines)
    assert all("en" in line.split()[-1] for line in lines[1:])
    assert len(voiced(env, "voices").stdout.splitlines()) > 50
