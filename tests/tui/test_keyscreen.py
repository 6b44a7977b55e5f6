"""The first-run key screen: checks the key with the server, saves it 0600, never shows it."""

from __future__ import annotations

import socket
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input

from tests.groqsim import GroqSim
from tests.running import RunningDaemon
from tests.tui.conftest import SIZE, until
from tests.tui.daemon import short_tempdir
from tests.tui.screen import screen_text
from voiced.commands.keycheck import server_check
from voiced.config import ChatSettings, Settings
from voiced.credentials import Secret, load_api_key
from voiced.tui.app import VoicedApp
from voiced.tui.keyscreen import KeyScreen
from voiced.tui.widgets.logpane import LogPane

GOOD_KEY = "gsk_" + "Zq8" * 17 + "x"
WRONG_KEY = "gsk_" + "Wr0" * 17 + "y"


def _settings_for(api_url: str) -> Settings:
    return replace(Settings(), chat=ChatSettings(base_url=api_url))


def _status(app: VoicedApp) -> str:
    return str(app.screen.query_one("#key-status").render())


async def _paste(app: VoicedApp, text: str) -> None:
    """Paste into the key input as a terminal does (bracketed paste)."""
    field = app.screen.query_one("#key-input", Input)
    field.post_message(events.Paste(text))
    await app.wait_for_refresh()


async def test_the_key_is_checked_saved_0600_and_never_shown_in_full(
    daemon: RunningDaemon, tmp_path: Path
) -> None:
    credentials = tmp_path / "config" / "voiced" / "credentials"
    with GroqSim(api_key=GOOD_KEY) as sim:
        app = VoicedApp(
            daemon.socket,
            credentials=credentials,
            need_key=True,
            key_check=server_check(_settings_for(sim.api_url)),
        )
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, KeyScreen), "the key screen")
            seen = [screen_text(app)]

            await pilot.press(*"gsk_short", "enter")
            await until(pilot, lambda: "too short" in _status(app), "the short key refused")
            assert not sim.requests, "a malformed key is not sent to the server"

            app.screen.query_one("#key-input", Input).clear()
            await _paste(app, WRONG_KEY)
            await until(pilot, lambda: app.screen.query_one("#key-input", Input).value, "paste")
            seen.append(screen_text(app))
            await pilot.press("enter")
            await until(pilot, lambda: "rejected" in _status(app), "the server's refusal")
            seen.append(screen_text(app))
            assert not credentials.exists(), "a rejected key is not saved"

            await _paste(app, GOOD_KEY)
            await until(pilot, lambda: app.screen.query_one("#key-input", Input).value, "paste")
            seen.append(screen_text(app))
            await pilot.press("enter")
            await until(pilot, lambda: not isinstance(app.screen, KeyScreen), "the main screen")
            log = app.query_one(LogPane)
            await until(
                pilot,
                lambda: any("settings reloaded" in line for line in log.lines_written),
                "the running daemon to reload its settings",
            )
            await pilot.press("l")
            masked = Secret(GOOD_KEY).masked()
            await until(pilot, lambda: masked in screen_text(app), "the log pane, shown")
            seen.append(screen_text(app))

    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert credentials.read_text() == f"GROQ_API_KEY={GOOD_KEY}\n"
    assert load_api_key({}, credentials)[0] == Secret(GOOD_KEY)
    assert [r.headers.get("authorization") for r in sim.requests] == [
        f"Bearer {WRONG_KEY}",
        f"Bearer {GOOD_KEY}",
    ]
    for screen in seen:
        assert GOOD_KEY not in screen and WRONG_KEY not in screen
        assert GOOD_KEY[4:20] not in screen and WRONG_KEY[4:20] not in screen
    assert Secret(GOOD_KEY).masked() in seen[-1], "the log names the saved key, masked"


@pytest.fixture
def unreachable() -> Iterator[str]:
    """An API URL on a port held bound but never listening: connections to it are refused,
    and no other test's server (in another xdist worker) can be given the port meanwhile."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{held.getsockname()[1]}/openai/v1"


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory whose path is short and the same length in every run (an xdist worker's
    tmp_path is longer, and the saved-key note naming the file would wrap differently)."""
    path, cleanup = short_tempdir()
    yield path
    cleanup()


async def test_a_key_is_saved_when_the_server_cannot_be_reached(
    tmp_path: Path, short_dir: Path, unreachable: str
) -> None:
    credentials = short_dir / "credentials"
    saved: list[Secret] = []

    async def key_saved(key: Secret) -> None:
        saved.append(key)

    app = VoicedApp(
        tmp_path / "no-daemon.sock",
        credentials=credentials,
        need_key=True,
        key_check=server_check(_settings_for(unreachable)),
        on_key_saved=key_saved,
    )
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: isinstance(app.screen, KeyScreen), "the key screen")
        await _paste(app, GOOD_KEY)
        await until(pilot, lambda: app.screen.query_one("#key-input", Input).value, "paste")
        await pilot.press("enter")
        await until(pilot, lambda: saved, "the key to be saved")
        await until(pilot, lambda: "not checked" in screen_text(app), "the unchecked note")
        log = "\n".join(app.query_one(LogPane).lines_written) + screen_text(app)
    assert saved == [Secret(GOOD_KEY)]
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert GOOD_KEY not in log


async def test_escape_on_the_key_screen_quits(tmp_path: Path) -> None:
    app = VoicedApp(tmp_path / "none.sock", credentials=tmp_path / "credentials", need_key=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, KeyScreen), "the key screen")
        await pilot.press("escape")
        await until(pilot, lambda: not app.is_running, "the app to quit")
    assert not (tmp_path / "credentials").exists()
