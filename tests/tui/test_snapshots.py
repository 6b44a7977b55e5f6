"""Snapshots of the main screens, compared with the reviewed SVGs in tests/tui/snapshots/.

Rewrite them with ``VOICED_UPDATE_SNAPSHOTS=1`` after an intended change, look at the SVGs
(any browser shows them) and commit them with the change.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from tests.running import RunningDaemon
from tests.tui.conftest import SIZE, attached, drawn, until
from tests.tui.screen import assert_snapshot, screen_text
from voiced.protocol import events as e
from voiced.protocol import reports as r
from voiced.tui.app import VoicedApp
from voiced.tui.keyscreen import KeyScreen
from voiced.tui.widgets.help import HelpScreen

A_TURN = (
    e.InputLevel(rms_db=-28.0, floor_db=-55.0, voiced=False),
    e.Transcript(turn=1, text="Thank you.", accepted=False, reason="phantom phrase, quiet audio"),
    e.Transcript(turn=2, text="What time is it, and what's the weather?", accepted=True),
    e.Reasoning(turn=2, text="Two questions: call get_time, then get_weather."),
    e.ToolCalled(turn=2, call_id="a", name="get_time", arguments="{}"),
    e.ToolResult(turn=2, call_id="a", name="get_time", ok=True, result="14:05 CEST"),
    e.ToolCalled(turn=2, call_id="b", name="get_weather", arguments='{"place": "Lyon"}'),
    e.ToolResult(turn=2, call_id="b", name="get_weather", ok=False, result="timed out"),
    e.AssistantDelta(turn=2, text="It's five past two. "),
    e.AssistantDelta(turn=2, text="I couldn't get the weather just now."),
    e.AssistantText(turn=2, text="It's five past two. I couldn't get the weather just now."),
    r.Timeline(
        turn=2,
        speculative=True,
        transcript_ms=290.0,
        first_token_ms=480.0,
        first_clause_ms=560.0,
        end_confirmed_ms=700.0,
        first_audio_ms=760.0,
    ),
    r.RateLimitSnapshot(remaining_requests=14_398, remaining_tokens=5_820),
    r.UsageReport(turn=2, kind="chat", model="openai/gpt-oss-20b", session_cost_usd=0.0042),
    e.ConfirmRequest(
        turn=3, call_id="c", name="delete_note", arguments="{}", question="Delete 'shopping'?"
    ),
)


async def test_main_screen_with_a_turn(daemon: RunningDaemon) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        daemon.publish(*A_TURN)
        await until(pilot, lambda: "Delete 'shopping'?" in screen_text(app), "the whole turn")
        await until(pilot, lambda: "$0.0042" in screen_text(app), "the cost")
        await pilot.pause(0.1)
        assert_snapshot(app, "main_screen")


async def test_help_screen(daemon: RunningDaemon) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        await pilot.pause(0.1)
        assert_snapshot(app, "help_screen")


async def test_key_screen_with_a_refused_key(tmp_path: Path) -> None:
    app = VoicedApp(
        tmp_path / "none.sock",
        credentials=Path("/home/me/.config/voiced/credentials"),
        need_key=True,
    )
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, KeyScreen), "the key screen")
        field = app.screen.query_one("#key-input", Input)
        field.cursor_blink = False
        await pilot.press(*"gsk_abc", "enter")
        await until(pilot, lambda: "too short" in screen_text(app), "the refusal")
        await pilot.pause(0.1)
        assert_snapshot(app, "key_screen")


async def test_disconnected_screen() -> None:
    app = VoicedApp(Path("/nonexistent/voiced/control.sock"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "reconnecting" in screen_text(app), "the lost link")
        await drawn(pilot)
        await pilot.pause(0.1)
        assert_snapshot(app, "disconnected")
