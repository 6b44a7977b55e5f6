"""``voiced say --engine groq`` and ``voiced voices --engine groq``, run as a user runs them,
against the loopback server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.audio.fixture import pulse  # noqa: F401
from tests.audio.pulse import PulseServer
from tests.audio.signals import best_alignment
from tests.groqsim import ErrorReply, GroqSim
from tests.groqsim.voice import speech_wav
from tests.speak.monitor import TimedRecording
from tests.speak.test_groq_voice import as_played
from tests.speak.test_say_command import read_wav

TEXT = "Hello from the Groq voice."


@pytest.fixture
def env(tmp_path: Path, groqsim: GroqSim) -> dict[str, str]:
    (tmp_path / "voiced").mkdir()
    return {
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "GROQ_BASE_URL": groqsim.base_url,
        "GROQ_API_KEY": groqsim.api_key or "",
    }


def voiced(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voiced", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def configure(env: dict[str, str], text: str) -> None:
    (Path(env["XDG_CONFIG_HOME"]) / "voiced" / "config.toml").write_text(text)


def test_say_engine_groq_writes_groqs_audio(
    env: dict[str, str], groqsim: GroqSim, tmp_path: Path
) -> None:
    out = tmp_path / "groq.wav"
    result = voiced(env, "say", "--engine", "groq", TEXT, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    [request] = groqsim.requests_for("speech")
    assert request.json == {
        "model": "canopylabs/orpheus-v1-english",
        "input": TEXT,
        "voice": "troy",
        "response_format": "wav",
    }
    rate, channels, samples = read_wav(out)
    assert (rate, channels) == (22050, 1)
    sent = as_played(speech_wav(TEXT, "troy", 48000))
    assert best_alignment(sent, samples)[1] >= 0.95  # Groq's audio, its lead-in trimmed


def test_say_speaks_with_the_configured_groq_voice_on_the_speaker(
    pulse: PulseServer,  # noqa: F811
    env: dict[str, str],
    groqsim: GroqSim,
) -> None:
    configure(env, '[speech]\nengine = "groq"\ngroq_voice = "autumn"\n')
    recording = TimedRecording(pulse.client_env())
    try:
        result = voiced({**env, **pulse.env}, "say", TEXT)
    finally:
        heard = recording.stop()
    assert result.returncode == 0, result.stderr
    assert groqsim.requests_for("speech")[0].json["voice"] == "autumn"
    expected = as_played(speech_wav(TEXT, "autumn", 48000))
    assert best_alignment(heard, expected)[1] >= 0.9


def test_say_voice_names_a_groq_voice_with_the_groq_engine(
    env: dict[str, str], groqsim: GroqSim, tmp_path: Path
) -> None:
    out = str(tmp_path / "x.wav")
    good = voiced(env, "say", "--engine", "groq", "--voice", "daniel", TEXT, "-o", out)
    assert good.returncode == 0, good.stderr
    assert groqsim.requests_for("speech")[0].json["voice"] == "daniel"
    bad = voiced(env, "say", "--engine", "groq", "--voice", "gmw/en-us", TEXT, "-o", out)
    assert bad.returncode == 2
    assert "has no voice 'gmw/en-us'" in bad.stderr and "autumn, diana" in bad.stderr
    assert len(groqsim.requests_for("speech")) == 1


def test_say_falls_back_to_espeak_with_one_warning_when_the_terms_are_not_accepted(
    env: dict[str, str], groqsim: GroqSim, tmp_path: Path
) -> None:
    groqsim.enqueue("speech", ErrorReply.terms_required("canopylabs/orpheus-v1-english"))
    out = tmp_path / "fallback.wav"
    result = voiced(env, "say", "--engine", "groq", TEXT, "-o", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("voiced: warning: the Groq voice")
    assert "terms accepted" in lines[0] and "console.groq.com/playground?model=" in lines[0]
    assert env["GROQ_API_KEY"] not in result.stderr
    samples = read_wav(out)[2]
    assert samples.size > 0.8 * 22050 and np.abs(samples.astype(np.int32)).max() > 8000


def test_voices_engine_groq_lists_the_models_voices_and_stars_the_configured_one(
    env: dict[str, str],
) -> None:
    configure(env, '[speech]\ngroq_voice = "hannah"\n')
    result = voiced(env, "voices", "--engine", "groq")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["VOICE", "MODEL", "LANGUAGE"]
    assert [line.split()[-3 if line.startswith("*") else 0] for line in lines[1:]] == [
        "autumn",
        "diana",
        "hannah",
        "austin",
        "daniel",
        "troy",
    ]
    assert [line for line in lines if line.startswith("*")] == [
        "* hannah  canopylabs/orpheus-v1-english  en"
    ]


def test_voices_follows_the_configured_engine_and_model(env: dict[str, str]) -> None:
    configure(
        env,
        '[speech]\nengine = "groq"\ngroq_model = "canopylabs/orpheus-arabic-saudi"\n'
        'groq_voice = "noura"\n',
    )
    result = voiced(env, "voices")
    assert result.returncode == 0, result.stderr
    starred = [line.split() for line in result.stdout.splitlines() if line.startswith("*")]
    assert starred == [["*", "noura", "canopylabs/orpheus-arabic-saudi", "ar-sa"]]
    wrong = voiced(env, "voices", "--language", "en")
    assert wrong.returncode == 2 and "does not speak 'en'" in wrong.stderr
    espeak = voiced(env, "voices", "--engine", "espeak", "--language", "en")
    assert espeak.returncode == 0 and "gmw/en-us" in espeak.stdout
