"""Snapshots of the main screens, compared with the reviewed SVGs in tests/tui/snapshots/.

Rewrite them with ``VOICED_UPDATE_SNAPSHOTS=1`` after an intended change, look at the SVGs
(any browser shows them) and commit them with the change.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.running import RunningDaemon
from tests.tui.conftest import SIZE, attached, drawn, until
from tests.tui.screen import assert_snapshot, screen_text
from voiced.protocol import events as e
from voiced.protocol import reports as r
from voiced.tui.app import VoicedApp
from voiced.tui.keyscreen import KeyScreen
from voiced.tui.widgets import repeats
from voiced.tui.widgets.conversation import Notice
from voiced.tui.widgets.help import HelpScreen
from voiced.tui.widgets.logpane import LogPane

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


class Ticking:
    """The TUI's wall clock for log and notice times: 14:03:00, one second more each reading."""

    def __init__(self) -> None:
        self.seconds = 0

    def __call__(self) -> time.struct_time:
        minutes, seconds = divmod(self.seconds, 60)
        self.seconds += 1
        return time.struct_time((2026, 5, 4, 14, 3 + minutes, seconds, 0, 124, -1))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Ticking:
    ticking = Ticking()
    monkeypatch.setattr(repeats, "now", ticking)
    return ticking


NO_MICROPHONE = r.ErrorReport(
    code="microphone",
    message="no microphone found (PortAudio lists no input device)",
    hint="check voiced devices and voiced doctor",
)
UNREACHABLE = r.ErrorReport(
    code="connection", message="I can't reach the server", hint="check the network"
)
EARLIER_LOG = tuple(
    r.LogRecord(level="info", message=f"announcement: timer {n} is done") for n in range(1, 5)
)
"""Lines logged before the trouble: they push the line with the daemon's pid (different each
run) out of the log pane's view."""


async def test_repeated_warnings_collapse_and_device_problems_stay_out_of_the_conversation(
    daemon: RunningDaemon, clock: Ticking
) -> None:
    """A machine without a microphone: the daemon retries it and reports it each time."""
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        await pilot.press("l")
        daemon.publish(*EARLIER_LOG, e.StateChanged(state="error", reason="no microphone"))
        daemon.publish(*[NO_MICROPHONE] * 6)
        daemon.publish(e.Transcript(turn=1, text="Is the server up?", accepted=True))
        daemon.publish(*[UNREACHABLE] * 3)
        log = app.query_one(LogPane)
        await until(pilot, lambda: "×3" in screen_text(app), "the third error counted")
        await until(pilot, lambda: any("×6" in line for line in log.lines_written), "the log")
        shown = screen_text(app)
        # In the status bar and once in the log, counted; never in the conversation.
        assert "⚠ no microphone found (PortAudio lists no input device)" in shown
        assert [line for line in log.lines_written if "no microphone found" in line] == [
            "error: ×6 · last 14:03:11  [microphone] no microphone found (PortAudio lists no "
            "input device) (check voiced devices and voiced doctor)"
        ]
        notices = [str(n.said.text) for n in app.query(Notice)]
        assert notices == ["⚠ I can't reach the server (check the network)"]
        assert app.query_one(Notice).said.count == 3
        await pilot.pause(0.1)
        assert_snapshot(app, "repeated_warnings")


async def test_audio_coming_in_clears_the_microphone_problem(daemon: RunningDaemon) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        daemon.publish(NO_MICROPHONE)
        await until(pilot, lambda: "⚠ no microphone found" in screen_text(app), "the problem")
        daemon.publish(e.InputLevel(rms_db=-40.0, floor_db=-55.0, voiced=False))
        await until(pilot, lambda: "no microphone" not in screen_text(app), "it to clear")
        assert "chat openai/gpt-oss-20b" in screen_text(app)


async def test_a_typed_turn_shows_only_the_stages_it_had(daemon: RunningDaemon) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        daemon.publish(
            e.Transcript(turn=1, text="What is 6 times 7?", accepted=True, source="typed"),
            e.AssistantText(turn=1, text="It is 42."),
            r.Timeline(turn=1, speculative=False, first_token_ms=312.0, first_clause_ms=420.0),
        )
        await until(pilot, lambda: "token 312" in screen_text(app), "the latency line")
        await until(pilot, lambda: "It is 42." in screen_text(app), "the reply")
        await pilot.pause(0.1)
        line = next(row for row in screen_text(app).splitlines() if "latency" in row)
        assert line.endswith("token 312 · clause 420 ms  typed")
        assert " 0 " not in line and "no " not in line
        assert_snapshot(app, "typed_turn")
