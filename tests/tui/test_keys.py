"""Each key of the TUI reaches a real daemon as the right command."""

from __future__ import annotations

from tests.running import RunningDaemon
from tests.tui.conftest import SIZE, attached, until
from tests.tui.screen import screen_text
from voiced.protocol.events import ConfirmRequest
from voiced.tui.app import VoicedApp
from voiced.tui.widgets.help import KEYS, HelpScreen
from voiced.tui.widgets.inputline import MessageInput
from voiced.tui.widgets.logpane import LogPane


async def test_m_mutes_and_unmutes_the_daemon(daemon: RunningDaemon) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        assert daemon.daemon is not None
        await pilot.press("m")
        await until(pilot, lambda: daemon.daemon.controls.muted, "the daemon to mute")
        await until(pilot, lambda: "muted" in screen_text(app), "the status bar to say muted")
        await until(pilot, lambda: app.known.mode == "muted", "the TUI to learn of the mute")
        await pilot.press("m")
        await until(pilot, lambda: not daemon.daemon.controls.muted, "the daemon to unmute")
        assert daemon.daemon.state.state == "listening"


async def test_space_opens_push_to_talk_and_a_second_space_closes_it(
    daemon: RunningDaemon,
) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        controls = daemon.daemon.controls if daemon.daemon else None
        assert controls is not None and not controls.ptt
        await pilot.press("space")
        await until(pilot, lambda: controls.ptt, "push-to-talk to hold the microphone")
        await until(pilot, lambda: "talking" in screen_text(app), "the status bar to say talking")
        await pilot.press("space")
        await until(pilot, lambda: not controls.ptt, "push-to-talk to release the microphone")


async def test_c_and_escape_cancel_in_the_daemon(daemon: RunningDaemon) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        engine = daemon.engine
        assert engine is not None
        await pilot.press("c")
        await until(pilot, lambda: engine.cancels == 1, "the daemon to cancel once")
        await pilot.press("escape")
        await until(pilot, lambda: engine.cancels == 2, "escape to cancel as well")
        log = app.query_one(LogPane)
        await until(
            pilot,
            lambda: any("nothing was in progress" in line for line in log.lines_written),
            "the daemon's answer in the log",
        )


async def test_i_types_a_message_that_the_daemon_answers_and_keys_wait_until_escape(
    daemon: RunningDaemon,
) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        engine = daemon.engine
        assert engine is not None and daemon.daemon is not None
        await pilot.press("i")
        assert isinstance(app.focused, MessageInput)
        await pilot.press(*"mute me", "enter")
        await until(pilot, lambda: engine.texts == ["mute me"], "the typed message to arrive")
        assert not daemon.daemon.controls.muted, "m went into the input, not to the mute key"
        await until(pilot, lambda: "you (typed)  mute me" in screen_text(app), "the typed turn")
        assert app.query_one(MessageInput).value == ""
        await pilot.press("escape")
        assert not isinstance(app.focused, MessageInput)
        assert engine.cancels == 0, "escape in the input leaves it and cancels nothing"
        await pilot.press("m")
        await until(pilot, lambda: daemon.daemon.controls.muted, "m to mute once outside")


async def test_y_and_n_answer_the_confirmation_in_the_daemon(daemon: RunningDaemon) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        engine = daemon.engine
        assert engine is not None
        for call_id, question in (("call-1", "Delete the note 'shopping'?"), ("call-2", "Open?")):
            daemon.publish(
                ConfirmRequest(
                    turn=1, call_id=call_id, name="delete_note", arguments="{}", question=question
                )
            )
        await until(pilot, lambda: "Delete the note 'shopping'?" in screen_text(app), "the prompt")
        assert "+1 waiting" in screen_text(app)
        await pilot.press("y")
        await until(pilot, lambda: engine.answers == [("call-1", True)], "the approval")
        await until(pilot, lambda: "confirm delete_note: Open?" in screen_text(app), "the next")
        await pilot.press("n")
        await until(pilot, lambda: engine.answers[-1] == ("call-2", False), "the denial")
        await until(pilot, lambda: "confirm" not in screen_text(app), "the prompt to go")


async def test_question_mark_lists_every_key_and_l_shows_the_log(daemon: RunningDaemon) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        shown = screen_text(app)
        for key, what in KEYS:
            assert f"{key}" in shown and what[:30] in shown, f"help lacks {key}"
        bound = {b.key for b in VoicedApp.BINDINGS}
        assert bound == {"space", "m", "c", "escape", "y", "n", "i", "l", "question_mark", "q"}
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), "help to close")
        log = app.query_one(LogPane)
        assert not log.display
        await pilot.press("l")
        assert log.display
        await until(pilot, lambda: "connected to voiced" in screen_text(app), "the log's lines")
        await pilot.press("l")
        assert not log.display


async def test_q_quits_the_tui_and_the_daemon_keeps_running(daemon: RunningDaemon) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        assert daemon.clients == 1
        await pilot.press("q")
        await until(pilot, lambda: daemon.clients == 0, "the TUI to disconnect")
    assert app.return_code == 0
    assert daemon.daemon is not None and daemon.daemon.stop_reason == ""
    again = VoicedApp(daemon.socket)
    async with again.run_test(size=SIZE) as pilot:
        await attached(pilot)
