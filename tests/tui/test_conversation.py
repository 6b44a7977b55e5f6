"""What the daemon publishes shows up in the TUI: streamed replies, rejections, tools, restarts."""

from __future__ import annotations

from textual.color import Color
from textual.widget import Widget
from textual.widgets.markdown import MarkdownBlock

from tests.running import RunningDaemon
from tests.tui.conftest import SIZE, attached, until
from tests.tui.screen import screen_text
from voiced.protocol import events as e
from voiced.protocol import reports as r
from voiced.tui.app import VoicedApp
from voiced.tui.widgets.turns import AssistantTurn, RejectedTranscript, ToolCallView, UserTurn


def _contrast(widget: Widget) -> float:
    """How far the widget's first line of text stands out from its background, as drawn."""
    style = next(seg.style for seg in widget.render_line(0) if seg.text.strip() and seg.style)
    assert style.color is not None and style.bgcolor is not None
    color, background = Color.from_rich_color(style.color), Color.from_rich_color(style.bgcolor)
    return abs(color.brightness - background.brightness)


async def test_streamed_deltas_appear_before_the_reply_is_over(daemon: RunningDaemon) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        daemon.publish(e.Transcript(turn=3, text="What time is it?", accepted=True))
        daemon.publish(e.AssistantDelta(turn=3, text="It is five "))
        await until(pilot, lambda: "It is five" in screen_text(app), "the first delta")
        daemon.publish(e.AssistantDelta(turn=3, text="past two."))
        await until(pilot, lambda: "It is five past two." in screen_text(app), "the second delta")
        turn = app.query_one(AssistantTurn)
        assert not turn.ended and turn.reply.source == "It is five past two."
        daemon.publish(e.AssistantText(turn=3, text="It is five past two.", interrupted=False))
        await until(pilot, lambda: turn.ended, "the end of the reply")
        lines = screen_text(app).splitlines()
        asked = next(i for i, line in enumerate(lines) if "What time is it?" in line)
        answered = next(i for i, line in enumerate(lines) if "It is five past two." in line)
        assert asked < answered, "the reply shows below the question"
        assert len(app.query(AssistantTurn)) == 1


async def test_an_interrupted_reply_keeps_what_was_said_and_says_so(daemon: RunningDaemon) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        daemon.publish(e.AssistantDelta(turn=1, text="The weather in Paris is"))
        daemon.publish(e.AssistantText(turn=1, text="The weather in Paris is", interrupted=True))
        await until(pilot, lambda: "interrupted" in screen_text(app), "the interrupted note")
        assert "The weather in Paris is" in screen_text(app)


async def test_a_rejected_transcript_shows_dimmed_with_the_reason(daemon: RunningDaemon) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        daemon.publish(e.Transcript(turn=1, text="Hello there", accepted=True))
        daemon.publish(
            e.Transcript(turn=2, text="Thank you.", accepted=False, reason="phantom phrase")
        )
        await until(pilot, lambda: app.query(RejectedTranscript), "the rejected transcript")
        await until(pilot, lambda: "phantom phrase" in screen_text(app), "the reason on screen")
        assert "'Thank you.' — phantom phrase" in screen_text(app)
        rejected, user = app.query_one(RejectedTranscript), app.query_one(UserTurn)
        assert _contrast(rejected) < 0.6 * _contrast(user), "rejected is dimmer than accepted"
        assert rejected.styles.text_style.italic


async def test_tool_calls_and_reasoning_are_collapsed_and_open_on_demand(
    daemon: RunningDaemon,
) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        daemon.publish(
            e.Reasoning(turn=4, text="The user asks the time; call the tool."),
            e.ToolCalled(turn=4, call_id="t1", name="get_time", arguments='{"tz": "local"}'),
            e.ToolResult(turn=4, call_id="t1", name="get_time", ok=True, result="14:05"),
            e.AssistantText(turn=4, text="It is 14:05."),
        )
        await until(pilot, lambda: "It is 14:05." in screen_text(app), "the reply")
        title = '⚙ get_time({"tz": "local"})  ✓'
        await until(pilot, lambda: title in screen_text(app), "the tool call and its tick")
        shown = screen_text(app)
        assert "▶ reasoning" in shown
        assert "call the tool" not in shown and "result: 14:05" not in shown
        view = app.query_one(ToolCallView)
        view.collapsed = False
        await until(pilot, lambda: "result: 14:05" in screen_text(app), "the tool's result")
        await pilot.click("ReasoningView CollapsibleTitle")
        await until(pilot, lambda: "call the tool" in screen_text(app), "the reasoning")


async def test_errors_are_shown_in_the_conversation_and_the_log(daemon: RunningDaemon) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        daemon.publish(
            r.ErrorReport(
                code="connection", message="I can't reach the server", hint="check the network"
            )
        )
        await until(pilot, lambda: "I can't reach the server" in screen_text(app), "the error")
        await pilot.press("l")
        await until(pilot, lambda: "[connection]" in screen_text(app), "the error in the log")


async def test_status_bar_shows_level_models_limits_cost_and_the_timeline(
    daemon: RunningDaemon,
) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        daemon.publish(
            e.InputLevel(rms_db=-30.0, floor_db=-55.0, voiced=True),
            r.RateLimitSnapshot(remaining_requests=14398, remaining_tokens=5820),
            r.UsageReport(turn=1, kind="chat", model="m", session_cost_usd=0.0123),
            r.Timeline(
                turn=1,
                speculative=True,
                transcript_ms=310.0,
                first_token_ms=520.0,
                first_clause_ms=600.0,
                end_confirmed_ms=700.0,
                first_audio_ms=760.0,
            ),
        )
        await until(pilot, lambda: "$0.01" in screen_text(app), "the session cost")
        shown = screen_text(app)
        assert "mic █████░░░░░ ●" in shown
        assert "14,398 req · 5,820 tok left" in shown
        assert "chat openai/gpt-oss-20b · speech whisper-large-v3-turbo" in shown
        assert "transcript 310 · token 520 · clause 600 · end 700 · audio 760 ms" in shown


async def test_a_client_that_connects_late_gets_the_recent_conversation(
    daemon: RunningDaemon,
) -> None:
    daemon.publish(
        e.Transcript(turn=1, text="Set a timer for ten minutes", accepted=True),
        e.ToolResult(turn=1, call_id="x", name="set_timer", ok=True, result="timer 1 set"),
        e.AssistantText(turn=1, text="Your timer is set."),
    )
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        await until(pilot, lambda: "Your timer is set." in screen_text(app), "the replayed reply")
        shown = screen_text(app)
        assert "Set a timer for ten minutes" in shown and "set_timer" in shown


async def test_the_tui_reconnects_by_itself_after_the_daemon_restarts(
    daemon: RunningDaemon,
) -> None:
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        daemon.publish(e.AssistantDelta(turn=1, text="Half a reply"))
        await until(pilot, lambda: "Half a reply" in screen_text(app), "the first daemon's words")
        await daemon.stop()
        await until(pilot, lambda: not app.known.connected, "the TUI to notice")
        await until(pilot, lambda: "reconnecting" in screen_text(app), "the status to say so")
        assert "cut off" in screen_text(app)
        restarted = await daemon.start()
        await until(pilot, lambda: app.known.connected, "the TUI to reconnect", within_s=15)
        await pilot.press("m")
        await until(pilot, lambda: restarted.controls.muted, "keys to reach the new daemon")
        daemon.publish(e.AssistantDelta(turn=1, text="A new reply"))
        await until(pilot, lambda: "A new reply" in screen_text(app), "the new daemon's words")
        assert len(app.query(AssistantTurn)) == 2, "turn 1 of the new daemon is a new turn"


async def test_a_client_that_connects_mid_reply_sees_the_rest_stream_in(
    daemon: RunningDaemon,
) -> None:
    daemon.publish(
        e.Transcript(turn=7, text="Tell me a story", accepted=True),
        e.AssistantDelta(turn=7, text="Once upon a time, "),
    )
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        await until(pilot, lambda: "Once upon a time," in screen_text(app), "the reply so far")
        daemon.publish(e.AssistantDelta(turn=7, text="there was a daemon."))
        story = "Once upon a time, there was a daemon."
        await until(pilot, lambda: story in screen_text(app), "the rest of the reply")
        daemon.publish(e.AssistantText(turn=7, text=story))
        turn = app.query_one(AssistantTurn)
        await until(pilot, lambda: turn.ended, "the end of the reply")
        assert turn.reply.source == story and len(app.query(AssistantTurn)) == 1


async def test_the_log_says_how_the_daemon_keeps_from_hearing_itself(daemon: RunningDaemon) -> None:
    app = VoicedApp(daemon.socket)
    choice = "in-process echo cancellation (WebRTC AEC3): the speaker can reach the microphone"
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        status = r.Status(
            state="listening",
            mode="always",
            ptt=False,
            chat_model="m",
            stt_model="s",
            barge_in=True,
            speculative=True,
            echo=choice,
        )
        daemon.publish(status, status)
        await pilot.press("l")
        await until(pilot, lambda: "echo: in-process echo" in screen_text(app), "the echo line")
        assert screen_text(app).count("echo: in-process echo") == 1  # said once, not per status


async def test_a_withdrawn_turn_stays_in_place_dimmed_and_says_the_speaker_went_on(
    daemon: RunningDaemon,
) -> None:
    """The speaker went on after a pause taken for the end: the first part's question and its
    cut reply are no turn of the history any more, so they are shown dimmed with why, and
    the whole question's turn below as usual."""
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        daemon.publish(
            e.Transcript(turn=1, text="Please enter the number", accepted=True),
            e.AssistantDelta(turn=1, text="Which number"),
            e.AssistantText(turn=1, text="Which number", interrupted=True),
            e.TurnWithdrawn(turn=1, reason="speaker_went_on"),
            e.Transcript(turn=2, text="Please enter the number to be removed", accepted=True),
            e.AssistantText(turn=2, text="Removed."),
        )
        await until(pilot, lambda: "Removed." in screen_text(app), "the whole question's reply")
        await until(pilot, lambda: "you went on" in screen_text(app), "the withdrawn note")
        assert "interrupted" not in screen_text(app), "the note says why, in place of this"
        first, second = app.query(UserTurn)
        cut, whole = app.query(AssistantTurn)
        assert first.has_class("withdrawn") and cut.has_class("withdrawn")
        assert not second.has_class("withdrawn") and not whole.has_class("withdrawn")
        assert _contrast(first) < 0.6 * _contrast(second), "the withdrawn question is dimmed"
        cut_text, whole_text = (t.reply.query(MarkdownBlock).first() for t in (cut, whole))
        assert _contrast(cut_text) < 0.6 * _contrast(whole_text), "and so is its reply"


async def test_a_client_that_connects_after_a_withdrawal_is_not_shown_the_withdrawn_turn(
    daemon: RunningDaemon,
) -> None:
    daemon.publish(
        e.Transcript(turn=1, text="Please enter the number", accepted=True),
        e.AssistantText(turn=1, text="Which number", interrupted=True),
        e.TurnWithdrawn(turn=1, reason="speaker_went_on"),
        e.Transcript(turn=2, text="Please enter the number to be removed", accepted=True),
        e.AssistantText(turn=2, text="Removed."),
    )
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        await until(pilot, lambda: "Removed." in screen_text(app), "the replayed reply")
        assert "Which number" not in screen_text(app), "the history no longer holds it"
        assert [u.text for u in app.query(UserTurn)] == ["Please enter the number to be removed"]
