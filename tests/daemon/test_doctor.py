"""`voiced doctor`: every check against real parts, every problem with its fix."""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.audio.pulse import PulseServer
from tests.groqsim import ErrorReply, GroqSim
from voiced.audio.soundserver import LOAD_COMMAND
from voiced.commands import doctor as doctor_command
from voiced.config import Settings, load_settings
from voiced.doctor import Check, check_groq_voice, run_checks


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "VOICED_CONFIG", "GROQ_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VOICED_SOCKET", str(tmp_path / "nothing-here.sock"))
    return tmp_path


def settings_for(
    sim: GroqSim, home: Path, key: str | None = None, echo_cancel: str = "auto"
) -> Settings:
    loaded = load_settings(
        {"HOME": str(home), "GROQ_API_KEY": key or sim.api_key or "", "GROQ_BASE_URL": sim.base_url}
    )
    return replace(loaded, audio=replace(loaded.audio, echo_cancel=echo_cancel))


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def pactl(pulse: PulseServer, *args: str) -> str:
    done = subprocess.run(
        ["pactl", *args],
        env=pulse.client_env(),
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def echo_cancel(pulse: PulseServer) -> Iterator[None]:
    """module-echo-cancel loaded into the test server (and unloaded afterwards)."""
    index = pactl(pulse, *LOAD_COMMAND.split()[1:])
    try:
        yield
    finally:
        pactl(pulse, "set-default-source", "vmic")
        pactl(pulse, "unload-module", index)


async def test_a_working_setup_passes_and_the_key_is_never_shown(
    groqsim: GroqSim, pulse: PulseServer, home: Path
) -> None:
    settings = settings_for(groqsim, home, echo_cancel="off")
    checks = by_name(await run_checks(settings))
    assert checks["API key"].outcome == "ok"
    assert settings.api_key is not None
    assert all(settings.api_key.reveal() not in c.detail + c.fix for c in checks.values())
    for name in ("API", "[chat] model", "[stt] model", "microphone", "speaker", "voice"):
        assert checks[name].outcome == "ok", checks[name]
    assert "answered in" in checks["API"].detail
    echo = checks["echo cancellation"]
    assert echo.outcome == "warn" and LOAD_COMMAND in echo.fix and "default.pa" in echo.fix
    assert checks["daemon"].outcome == "warn" and "voiced daemon" in checks["daemon"].fix
    assert checks["service"].outcome == "warn" and "voiced service install" in checks["service"].fix


async def test_an_echo_cancelled_source_is_found_and_voiced_is_told_to_use_it(
    groqsim: GroqSim, pulse: PulseServer, home: Path, echo_cancel: None
) -> None:
    settings = settings_for(groqsim, home, echo_cancel="off")
    echo = by_name(await run_checks(settings))["echo cancellation"]
    assert echo.outcome == "warn" and "pactl set-default-source echocancel" in echo.fix
    pactl(pulse, "set-default-source", "echocancel")
    echo = by_name(await run_checks(settings))["echo cancellation"]
    assert echo.outcome == "ok" and "echocancel" in echo.detail


async def test_voiced_cancels_its_own_echo_unless_the_mic_already_is_echo_cancelled(
    groqsim: GroqSim, pulse: PulseServer, home: Path, echo_cancel: None
) -> None:
    settings = settings_for(groqsim, home)
    echo = by_name(await run_checks(settings))["echo cancellation"]
    assert echo.outcome == "ok" and "in-process echo cancellation (WebRTC AEC3)" in echo.detail
    pactl(pulse, "set-default-source", "echocancel")
    echo = by_name(await run_checks(settings))["echo cancellation"]
    assert echo.outcome == "ok" and "off: echocancel is echo-cancelled already" in echo.detail


async def test_a_refused_key_and_a_missing_model_fail_with_their_fixes(
    groqsim: GroqSim, home: Path
) -> None:
    wrong = settings_for(groqsim, home, key="gsk_wrong_0123456789abcdefghij")
    checks = by_name(await run_checks(wrong))
    assert checks["API"].outcome == "fail" and "refused" in checks["API"].detail
    assert "console.groq.com/keys" in checks["API"].fix
    settings = settings_for(groqsim, home)
    missing = replace(settings, chat=replace(settings.chat, model="openai/gpt-oss-2b"))
    model = by_name(await run_checks(missing))["[chat] model"]
    assert model.outcome == "fail" and "not offered" in model.detail
    assert "openai/gpt-oss-20b" in model.fix


async def test_no_key_at_all_is_a_failure_that_says_where_to_put_one(home: Path) -> None:
    checks = by_name(await run_checks(load_settings({"HOME": str(home)})))
    assert checks["API key"].outcome == "fail" and "credentials" in checks["API key"].fix
    assert checks["API"].outcome == "warn"


def test_the_command_prints_every_check_and_fails_on_a_problem(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = home / ".config" / "voiced" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[chat]\nmodel = 3\n")
    assert doctor_command.run(argparse.Namespace()) == 1
    out = capsys.readouterr().out
    assert "✗ config" in out and "[chat] model must be a string" in out
    assert "✗ API key" in out and "fix:" in out
    assert out.rstrip().endswith("warning(s)")


def groq_engine(settings: Settings) -> Settings:
    return replace(settings, speech=replace(settings.speech, engine="groq"))


async def test_with_the_groq_engine_one_tiny_speech_request_proves_the_voice(
    groqsim: GroqSim, pulse: PulseServer, home: Path
) -> None:
    checks = by_name(await run_checks(groq_engine(settings_for(groqsim, home))))
    voice = checks["Groq voice"]
    assert voice.outcome == "ok", voice
    assert "canopylabs/orpheus-v1-english, voice troy: first audio after" in voice.detail
    assert checks["[speech] groq_model"].outcome == "ok"
    assert "when the Groq voice fails" in checks["voice"].detail
    [probe] = groqsim.requests_for("speech")
    assert probe.json["input"] == "OK."


async def test_with_espeak_no_speech_request_is_spent(
    groqsim: GroqSim, pulse: PulseServer, home: Path
) -> None:
    checks = by_name(await run_checks(settings_for(groqsim, home)))
    assert "Groq voice" not in checks and "[speech] groq_model" not in checks
    assert groqsim.requests_for("speech") == []


async def test_a_groq_voice_whose_terms_are_not_accepted_fails_with_the_console_link(
    groqsim: GroqSim, home: Path
) -> None:
    groqsim.enqueue("speech", ErrorReply.terms_required("canopylabs/orpheus-v1-english"))
    check = await check_groq_voice(groq_engine(settings_for(groqsim, home)))
    assert check.outcome == "fail" and "terms" in check.detail
    assert "https://console.groq.com/playground?model=canopylabs%2Forpheus-v1-english" in check.fix


async def test_a_rate_limited_or_slow_groq_voice_is_a_warning(groqsim: GroqSim, home: Path) -> None:
    settings = groq_engine(settings_for(groqsim, home))
    groqsim.enqueue("speech", ErrorReply.rate_limited(retry_after=30))
    limited = await check_groq_voice(settings)
    assert limited.outcome == "warn" and "rate limited" in limited.detail
    slow = replace(settings, speech=replace(settings.speech, groq_first_byte_s=0.05))
    late = await check_groq_voice(slow)
    assert late.outcome == "warn" and "over 0.05 s" in late.detail
    assert "groq_first_byte_s" in late.fix


async def test_doctor_shows_the_daemons_echo_reduction_and_warns_when_it_stays_poor(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.daemon.test_echo_choice import poor_meter
    from tests.tui.daemon import idle_daemon, short_tempdir
    from voiced.doctor import check_daemon
    from voiced.pipeline.aec import EchoState
    from voiced.pipeline.ends import choose_echo

    path, cleanup = short_tempdir()
    monkeypatch.setenv("VOICED_SOCKET", str(path / "control.sock"))
    running = idle_daemon(path / "control.sock")
    daemon = await running.start()
    try:
        settings = load_settings({"HOME": str(home)})
        for erle, outcome in ((35.0, "ok"), (6.0, "warn")):
            state = EchoState(
                choose_echo(settings, None), poor_meter(erle), 20.0, lambda event: None
            )
            state.reply_ended()
            daemon.engine.echo = state  # type: ignore[attr-defined]
            check = await check_daemon(settings)
            assert check.outcome == outcome, check
            assert "in-process echo cancellation (WebRTC AEC3)" in check.detail
            assert f"ERLE {erle:.1f} dB over the last reply" in check.detail
        assert "speaker voiced plays to" in check.fix
    finally:
        await running.stop()
        cleanup()
