"""The ``voiced`` commands as a user runs them: real processes against the loopback server."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY
from tests.groqsim import ChatReply, ErrorReply, GroqSim, Segment, StreamFault, Transcript
from tests.procs import run_voiced, user_env
from tests.schemas import (
    validate_chat_request,
    validate_transcription_form,
    validate_translation_form,
)

pytestmark = pytest.mark.subprocess


class Voiced:
    """Runs ``python -m voiced`` with a private HOME and the simulator as GROQ_BASE_URL."""

    def __init__(self, sim: GroqSim, home: Path) -> None:
        self.sim = sim
        self.home = home
        self.config_dir = home / ".config" / "voiced"
        self.config_dir.mkdir(parents=True)
        self.env = user_env(home, GROQ_API_KEY=TEST_KEY, GROQ_BASE_URL=sim.base_url)

    def __call__(
        self, *args: str, stdin: str | None = None, **env: str | None
    ) -> subprocess.CompletedProcess[str]:
        merged = {**self.env, **env}
        environment = {k: v for k, v in merged.items() if v is not None}
        return run_voiced(*args, env=environment, cwd=self.home, stdin=stdin, secret=TEST_KEY)

    def config(self, text: str) -> None:
        (self.config_dir / "config.toml").write_text(text)


@pytest.fixture
def voiced(groqsim: GroqSim, tmp_path: Path) -> Iterator[Voiced]:
    groqsim.api_key = TEST_KEY
    yield Voiced(groqsim, tmp_path)
    # Every request a command sent holds only documented fields.
    for recorded in groqsim.requests:
        if recorded.route == "chat" and recorded.json is not None:
            validate_chat_request(recorded.json)
        elif recorded.route == "transcriptions":
            validate_transcription_form(recorded.form, recorded.files)
        elif recorded.route == "translations":
            validate_translation_form(recorded.form, recorded.files)


def write_wav(path: Path, seconds: float = 0.5) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x00" * int(16000 * seconds))
    return path


def test_help_lists_every_command_on_one_line(voiced: Voiced) -> None:
    result = voiced("--help")
    assert result.returncode == 0
    for command in (
        "tui",
        "daemon",
        "status",
        "ptt",
        "mute",
        "unmute",
        "ask",
        "say",
        "voices",
        "transcribe",
        "translate",
        "history",
        "models",
        "devices",
        "doctor",
        "service",
        "config",
    ):
        assert any(line.split()[:1] == [command] for line in result.stdout.splitlines()), command


def test_version(voiced: Voiced) -> None:
    result = voiced("--version")
    assert result.returncode == 0 and result.stdout.strip() == "voiced 0.1.0"


def test_cli_import_is_light() -> None:
    """``voiced --version`` stays fast because the CLI module imports nothing heavy."""
    code = (
        "import sys, voiced.cli; heavy = {'httpx', 'numpy', 'sounddevice', 'textual', "
        "'pyttsx3', 'webrtcvad'} & set(sys.modules); print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ask_streams_the_answer(voiced: Voiced) -> None:
    voiced.sim.enqueue("chat", ChatReply(content="Lima is the capital.", reasoning="Peru."))
    result = voiced("ask", "capital", "of", "Peru?", "--system", "Be brief.")
    assert result.returncode == 0
    assert result.stdout == "Lima is the capital.\n"
    assert "Peru." not in result.stderr
    sent = voiced.sim.requests_for("chat")[0].json
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "capital of Peru?"},
    ]
    assert sent["model"] == "openai/gpt-oss-20b" and sent["stream"] is True


def test_ask_reads_stdin_and_shows_reasoning_when_asked(voiced: Voiced) -> None:
    voiced.sim.enqueue("chat", ChatReply(content="Yes.", reasoning="Thinking hard."))
    result = voiced("ask", "--reasoning", "--model", "openai/gpt-oss-120b", stdin="Is it?")
    assert result.stdout == "Yes.\n" and "Thinking hard." in result.stderr
    sent = voiced.sim.requests_for("chat")[0].json
    assert sent["messages"][-1]["content"] == "Is it?"
    assert sent["model"] == "openai/gpt-oss-120b"


def test_ask_json_mode(voiced: Voiced) -> None:
    voiced.sim.enqueue("chat", ChatReply(content='{"capital": "Lima"}'))
    result = voiced("ask", "--json", "capital of Peru")
    assert json.loads(result.stdout) == {"capital": "Lima"}
    sent = voiced.sim.requests_for("chat")[0].json
    assert sent["response_format"] == {"type": "json_object"} and "stream" not in sent
    assert "JSON" in sent["messages"][0]["content"]


def test_ask_json_validate_failed_shows_the_failed_generation(voiced: Voiced) -> None:
    voiced.sim.enqueue("chat", ErrorReply.json_validate_failed('{"capital": Lima'))
    result = voiced("ask", "--json", "capital of Peru")
    assert result.returncode == 1
    assert "not valid JSON" in result.stderr and '{"capital": Lima' in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_no_key_says_how_to_set_it(voiced: Voiced) -> None:
    result = voiced("ask", "hi", GROQ_API_KEY=None, GROQ_BASE_URL=None)
    assert result.returncode == 2
    assert result.stderr.startswith("voiced: no Groq API key is set")
    assert "export GROQ_API_KEY" in result.stderr and "credentials" in result.stderr


def test_rejected_key_says_how_to_set_it(voiced: Voiced) -> None:
    result = voiced("ask", "hi", GROQ_API_KEY="gsk_wrong_key_000000000000000")
    assert result.returncode == 1
    assert "API key was rejected (401)" in result.stderr and "GROQ_API_KEY" in result.stderr
    assert "gsk_wrong_key_000000000000000" not in result.stderr


def test_insecure_credentials_file_is_refused(voiced: Voiced) -> None:
    creds = voiced.config_dir / "credentials"
    creds.write_text("GROQ_API_KEY=" + TEST_KEY)
    creds.chmod(0o644)
    result = voiced("ask", "hi", GROQ_API_KEY=None)
    assert result.returncode == 2
    assert f"chmod 600 {creds}" in result.stderr
    creds.chmod(0o600)
    assert voiced("ask", "hi", GROQ_API_KEY=None).returncode == 0


def test_unknown_model_lists_the_models_that_exist(voiced: Voiced) -> None:
    result = voiced("ask", "--model", "gpt-nonexistent", "hi")
    assert result.returncode == 1
    assert "gpt-nonexistent" in result.stderr
    assert "models available:" in result.stderr and "openai/gpt-oss-20b" in result.stderr


def test_retired_model_is_explained(voiced: Voiced) -> None:
    voiced.config('[chat]\nmodel = "llama-3.3-70b-versatile"\n')
    result = voiced("ask", "hi")
    assert result.returncode == 1
    assert "decommissioned" in result.stderr and "openai/gpt-oss-20b" in result.stderr


def test_rate_limited_after_retries_says_when_it_resets(voiced: Voiced) -> None:
    voiced.sim.enqueue("chat", *[ErrorReply.rate_limited(retry_after=0.05)] * 3)
    result = voiced("ask", "hi")
    assert result.returncode == 1
    assert "rate limited" in result.stderr and "resets in" in result.stderr
    assert len(voiced.sim.requests_for("chat")) == 3


def test_network_unreachable(voiced: Voiced) -> None:
    voiced.config("[network]\nmax_retries = 0\n")
    result = voiced("ask", "hi", GROQ_BASE_URL="http://127.0.0.1:9")
    assert result.returncode == 1
    assert "cannot reach 127.0.0.1" in result.stderr and "network" in result.stderr


def test_error_mid_stream_is_one_line(voiced: Voiced) -> None:
    voiced.sim.enqueue("chat", StreamFault("error_event"))
    result = voiced("ask", "hi")
    assert result.returncode == 1
    assert result.stdout.startswith("one two")
    assert len(result.stderr.strip().splitlines()) == 1


def test_malformed_config_names_file_and_key(voiced: Voiced) -> None:
    voiced.config("[chat]\ntemprature = 0.5\n")
    result = voiced("config")
    assert result.returncode == 2
    assert str(voiced.config_dir / "config.toml") in result.stderr
    assert "temprature" in result.stderr and "expected one of" in result.stderr


def test_config_shows_effective_settings_with_the_key_masked(voiced: Voiced) -> None:
    voiced.config('[stt]\nlanguage = "fr"\n')
    result = voiced("config", "--help")
    assert result.returncode == 0
    result = voiced("-v", "config")
    assert result.returncode == 0
    assert "gsk_…wxyz (from environment variable GROQ_API_KEY)" in result.stdout
    assert 'language = "fr"' in result.stdout
    assert f'base_url = "{voiced.sim.api_url}"' in result.stdout


def test_verbose_logs_never_show_the_key(voiced: Voiced) -> None:
    voiced.sim.enqueue("chat", ErrorReply.server_error(), ChatReply(content="ok"))
    result = voiced("-v", "ask", "hi")
    assert result.returncode == 0 and result.stdout == "ok\n"
    assert "retrying" in result.stderr


def test_transcribe_text(voiced: Voiced, tmp_path: Path) -> None:
    audio = write_wav(tmp_path / "note.wav")
    voiced.sim.enqueue("transcriptions", Transcript(text="Buy milk."))
    result = voiced("transcribe", str(audio), "--language", "en", "--prompt", "Shopping.")
    assert result.returncode == 0 and result.stdout == "Buy milk.\n"
    sent = voiced.sim.requests_for("transcriptions")[0]
    assert sent.form["language"] == ["en"] and sent.form["prompt"] == ["Shopping."]
    assert sent.form["model"] == ["whisper-large-v3-turbo"]
    assert sent.files["file"][0] == "note.wav"


SEGMENTS = [Segment(0.0, 1.5, " Buy milk."), Segment(1.5, 3.25, " And bread.")]


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (
            "srt",
            "1\n00:00:00,000 --> 00:00:01,500\nBuy milk.\n\n"
            "2\n00:00:01,500 --> 00:00:03,250\nAnd bread.\n",
        ),
        (
            "vtt",
            "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nBuy milk.\n\n"
            "00:00:01.500 --> 00:00:03.250\nAnd bread.\n",
        ),
        ("json", '{"text": "Buy milk. And bread."}\n'),
    ],
)
def test_transcribe_formats(voiced: Voiced, tmp_path: Path, fmt: str, expected: str) -> None:
    audio = write_wav(tmp_path / "note.wav")
    voiced.sim.enqueue("transcriptions", Transcript(text="Buy milk. And bread.", segments=SEGMENTS))
    result = voiced("transcribe", str(audio), "--format", fmt)
    assert result.returncode == 0
    assert result.stdout == expected


def test_transcribe_verbose_json(voiced: Voiced, tmp_path: Path) -> None:
    audio = write_wav(tmp_path / "note.wav")
    voiced.sim.enqueue("transcriptions", Transcript(text="Buy milk. And bread.", segments=SEGMENTS))
    data = json.loads(voiced("transcribe", str(audio), "--format", "verbose_json").stdout)
    assert [s["end"] for s in data["segments"]] == [1.5, 3.25]
    assert data["segments"][0]["no_speech_prob"] == pytest.approx(0.01)


def test_translate_uses_the_translation_model(voiced: Voiced, tmp_path: Path) -> None:
    audio = write_wav(tmp_path / "hola.wav")
    voiced.sim.enqueue("translations", Transcript(text="Hello.", segments=SEGMENTS[:1]))
    result = voiced("translate", str(audio), "--format", "srt")
    assert result.returncode == 0 and "Buy milk." in result.stdout
    sent = voiced.sim.requests_for("translations")[0]
    assert sent.form["model"] == ["whisper-large-v3"]


def test_transcribe_missing_file(voiced: Voiced) -> None:
    result = voiced("transcribe", "nowhere.wav")
    assert result.returncode == 2 and "nowhere.wav: no such file" in result.stderr
    assert voiced.sim.requests == []


def test_transcribe_unsupported_type(voiced: Voiced, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not audio")
    result = voiced("transcribe", str(tmp_path / "notes.txt"))
    assert result.returncode == 2
    assert "unsupported file type .txt" in result.stderr and "flac" in result.stderr


def speech_wav(path: Path, phrases: int = 8) -> Path:
    """Phrases rendered by espeak-ng with 2 s of faint noise between them."""
    import numpy as np

    from tests.audio.speech import speak

    phrase = speak("Turn on the kitchen lights.")
    gap = np.random.default_rng(1).standard_normal(32000) * 10 ** (-70 / 20)
    audio = np.concatenate([part for _ in range(phrases) for part in (gap, phrase)] + [gap])
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def srt_starts(srt: str) -> list[float]:
    starts = []
    for number, block in enumerate(srt.strip().split("\n\n"), start=1):
        lines = block.splitlines()
        assert lines[0] == str(number)
        h, m, s = lines[1].split(" --> ")[0].replace(",", ".").split(":")
        starts.append(int(h) * 3600 + int(m) * 60 + float(s))
    return starts


def test_transcribe_over_the_upload_limit_is_split_at_silences(
    voiced: Voiced, tmp_path: Path
) -> None:
    voiced.config("[stt]\nupload_limit_mb = 0.2\n")
    audio = speech_wav(tmp_path / "long.wav")
    assert audio.stat().st_size > 200_000
    result = voiced("transcribe", str(audio), "--format", "srt")
    assert result.returncode == 0, result.stderr
    uploads = sorted(r.files["file"] for r in voiced.sim.requests_for("transcriptions"))
    assert len(uploads) >= 3
    assert all(name.endswith(".flac") and len(data) < 200_000 for name, _, data in uploads)
    lengths = [_flac_frames(data) for _, _, data in uploads]
    with wave.open(str(audio)) as w:
        assert sum(lengths) == w.getnframes()
    # Each piece gets the simulator's one segment starting at 0: cues start where pieces do.
    assert srt_starts(result.stdout) == pytest.approx(
        [sum(lengths[:i]) / 16000 for i in range(len(lengths))], abs=0.001
    )
    assert "pieces" not in result.stderr  # no progress bar when stderr is not a terminal


def test_transcribe_longer_than_chunk_max_s_is_split(voiced: Voiced, tmp_path: Path) -> None:
    voiced.config("[stt]\nchunk_max_s = 10\n")
    audio = speech_wav(tmp_path / "long.wav")
    result = voiced("transcribe", str(audio))
    assert result.returncode == 0, result.stderr
    uploads = voiced.sim.requests_for("transcriptions")
    assert len(uploads) >= 3
    assert len(result.stdout.strip()) > 0
    translated = voiced("translate", str(audio))
    assert translated.returncode == 0, translated.stderr
    assert len(voiced.sim.requests_for("translations")) == len(uploads)


def _flac_frames(data: bytes) -> int:
    import io

    import soundfile

    return int(soundfile.info(io.BytesIO(data)).frames)


def test_corrupt_audio_rejected_by_the_server_is_one_line(voiced: Voiced, tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"this is not a wav file")
    voiced.sim.enqueue(
        "transcriptions", ErrorReply(400, "could not process file - is it a valid media file?")
    )
    result = voiced("transcribe", str(bad))
    assert result.returncode == 1
    assert "valid media file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_models_table_marks_configured_models(voiced: Voiced) -> None:
    voiced.config('[chat]\nmodel = "qwen/qwen3.8-27b"\n')
    result = voiced("models")
    assert result.returncode == 0
    lines = {
        line.split()[1] if line.startswith("*") else line.split()[0]: line
        for line in result.stdout.splitlines()[1:]
    }
    assert lines["qwen/qwen3.8-27b"].startswith("*") and "chat" in lines["qwen/qwen3.8-27b"]
    assert "transcribe" in lines["whisper-large-v3-turbo"]
    assert "translate" in lines["whisper-large-v3"]
    assert not lines["openai/gpt-oss-120b"].startswith("*")
    assert "131,072" in lines["openai/gpt-oss-20b"]
    assert result.stderr == ""


def test_models_warns_about_a_configured_model_not_offered(voiced: Voiced) -> None:
    voiced.config('[chat]\nmodel = "my/private-model"\n')
    result = voiced("models")
    assert result.returncode == 0
    assert "'my/private-model' is not offered" in result.stderr
