"""`voiced status`, `voiced ptt`, `voiced mute|unmute`, and every command's effect on the daemon."""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.daemon.helpers import next_of
from voiced.commands import control
from voiced.config import Settings
from voiced.errors import DaemonNotRunningError
from voiced.protocol import (
    Cancel,
    ConfirmRequest,
    ConfirmResolved,
    ModeChanged,
    ModelsChanged,
    Mute,
    PushToTalk,
    Reload,
    SendText,
    SetMode,
    SetModel,
    StateChanged,
    Transcript,
    Unmute,
)


def cli(**kwargs: object) -> argparse.Namespace:
    return argparse.Namespace(**{"action": None, "json": False, **kwargs})


@pytest.fixture
def voiced_socket(sock: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("VOICED_SOCKET", str(sock))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return sock


async def test_mute_ptt_and_unmute_from_the_command_line(
    start_daemon, voiced_socket: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    running = await start_daemon()
    daemon = running.daemon
    assert await asyncio.to_thread(control.run, cli(control="mute")) == 0
    assert daemon.state.state == "muted" and daemon.engine.gate is False
    assert "muted" in capsys.readouterr().out
    await asyncio.to_thread(control.run, cli(control="ptt", action="toggle"))
    assert daemon.controls.ptt and daemon.state.state == "listening" and daemon.engine.gate
    await asyncio.to_thread(control.run, cli(control="ptt", action="stop"))
    assert daemon.state.state == "muted"
    await asyncio.to_thread(control.run, cli(control="unmute"))
    assert daemon.state.state == "listening" and daemon.controls.shown_mode == "wake"


async def test_status_prints_the_daemons_state_as_text_or_json(
    start_daemon, voiced_socket: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await start_daemon()
    await asyncio.to_thread(control.run, cli(control="status"))
    text = capsys.readouterr().out
    assert "state:   listening" in text and "openai/gpt-oss-20b" in text
    assert "mode:    wake word 'Okay Nabu'" in text
    await asyncio.to_thread(control.run, cli(control="status", json=True))
    data = json.loads(capsys.readouterr().out)
    assert data["type"] == "status" and data["mode"] == "wake" and data["clients"] == 1
    assert data["wake_word"] == "Okay Nabu"


def test_a_command_with_no_daemon_says_how_to_start_one(voiced_socket: Path) -> None:
    with pytest.raises(DaemonNotRunningError, match="no voiced daemon"):
        control.run(cli(control="mute"))


async def test_each_command_changes_the_daemon_as_it_says(start_daemon) -> None:
    running = await start_daemon()
    daemon = running.daemon
    client = await running.connect()

    async def ok(command: object) -> None:
        reply = await client.request(command)  # type: ignore[arg-type]
        assert reply.ack.ok, reply.ack.message

    await ok(SetMode(mode="push_to_talk"))
    assert daemon.controls.mode == "push_to_talk" and not daemon.engine.gate
    mode = await next_of(client, ModeChanged)
    assert mode.mode == "push_to_talk" and not mode.ptt
    await ok(PushToTalk(action="start"))
    assert daemon.engine.gate and (await next_of(client, ModeChanged)).ptt
    await ok(PushToTalk(action="stop"))
    await ok(SetMode(mode="always"))
    await ok(Mute())
    assert (
        await next_of(client, StateChanged, lambda e: e.state == "muted")
    ).previous == "listening"
    await ok(Unmute())
    await ok(SetModel(model="llama-3.1-8b-instant"))
    models = await next_of(client, ModelsChanged)
    assert models.chat_model == "llama-3.1-8b-instant"
    assert daemon.engine.models == {"chat": "llama-3.1-8b-instant"}
    assert (await client.status()).chat_model == "llama-3.1-8b-instant"
    await ok(SendText(text="  hello there "))
    typed = await next_of(client, Transcript)
    assert typed.text == "hello there" and typed.source == "typed"
    daemon.publish(
        ConfirmRequest(turn=1, call_id="c1", name="open_url", arguments="{}", question="Open?")
    )
    await ok(Cancel())
    resolved = await next_of(client, ConfirmResolved)
    assert resolved.call_id == "c1" and resolved.by == "cancel" and not resolved.approved
    await client.aclose()


async def test_reload_takes_the_new_config_and_keeps_the_old_one_when_it_is_broken(
    start_daemon, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    env = {"VOICED_CONFIG": str(config), "HOME": str(tmp_path)}
    config.write_text('[chat]\nmodel = "qwen/qwen3-32b"\n[daemon]\nbarge_in = false\n')
    from voiced.config import load_settings

    running = await start_daemon(Settings(), loader=lambda: load_settings(env))
    client = await running.connect()
    reply = await client.request(Reload())
    assert reply.ack.ok
    status = await client.status()
    assert status.chat_model == "qwen/qwen3-32b" and status.barge_in is False
    config.write_text("[chat]\nmodel = 5\n")
    refused = await client.request(Reload())
    assert not refused.ack.ok and "[chat] model must be a string" in refused.ack.message
    assert (await client.status()).chat_model == "qwen/qwen3-32b"
    await client.aclose()


async def test_the_daemon_starts_muted_when_configured_so(start_daemon) -> None:
    settings = Settings()
    running = await start_daemon(replace(settings, daemon=replace(settings.daemon, mode="muted")))
    async with await running.connect() as client:
        assert client.hello.state == "muted" and client.hello.mode == "muted"
    assert running.daemon.engine.gate is False
