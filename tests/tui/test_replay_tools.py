"""A TUI that connects late shows the conversation as it went: failed tools as failed, and a
tool still waiting for a yes or no as a prompt its y answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.daemon.helpers import next_of
from tests.daemon.replaying import replay, settings_for
from tests.groqsim import ChatReply, GroqSim, ToolCall
from tests.listen.scenes import lay_out
from tests.running import RunningDaemon
from tests.tui.conftest import SIZE, attached, until
from tests.tui.screen import screen_text
from voiced.daemon.app import Daemon
from voiced.protocol import events as e
from voiced.protocol.client import ControlClient
from voiced.protocol.commands import SendText
from voiced.tui.app import VoicedApp
from voiced.tui.widgets.confirm import ConfirmPrompt
from voiced.tui.widgets.turns import ToolCallView

pytestmark = pytest.mark.realtime

DECLINED = '{"error": "the user did not allow this, so nothing was done"}'


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path


async def test_a_replayed_failed_tool_shows_as_failed_like_a_live_one(
    daemon: RunningDaemon,
) -> None:
    daemon.publish(
        e.Transcript(turn=1, text="Open example.com", accepted=True),
        e.ToolResult(turn=1, call_id="a", name="open_url", ok=False, result=DECLINED),
        e.ToolResult(turn=1, call_id="b", name="current_time", ok=True, result="14:05"),
        e.AssistantText(turn=1, text="I left it closed."),
    )
    app = VoicedApp(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        await until(pilot, lambda: "I left it closed." in screen_text(app), "the replayed turn")
        daemon.publish(
            e.Transcript(turn=2, text="Open it anyway", accepted=True),
            e.ToolCalled(turn=2, call_id="c", name="open_url", arguments=""),
            e.ToolResult(turn=2, call_id="c", name="open_url", ok=False, result=DECLINED),
        )
        await until(pilot, lambda: len(app.query(ToolCallView)) == 3, "the live tool call")
        replayed, worked, live = app.query(ToolCallView)
        await until(pilot, lambda: live.result is not None, "the live tool's result")
        assert "⚙ open_url()  ✗" in screen_text(app)
        assert str(replayed.title) == str(live.title) == "⚙ open_url()  ✗"
        assert replayed.has_class("failed") and live.has_class("failed")
        assert str(worked.title).endswith("✓") and not worked.has_class("failed")
        replayed.collapsed = False
        await until(pilot, lambda: "failed: {" in screen_text(app), "the failure, labelled")


async def test_a_tui_that_connects_while_a_tool_waits_shows_the_prompt_and_y_allows_it(
    groqsim: GroqSim, home: Path
) -> None:
    call = ToolCall("open_application", {"name": "Frobnicator 9000"})
    groqsim.enqueue("chat", ChatReply(tool_calls=[call], ttft=0.05))
    groqsim.enqueue("chat", ChatReply(content="I couldn't find it.", ttft=0.05))
    results: list[e.ToolResult] = []
    resolved: list[e.ConfirmResolved] = []

    async def user(daemon: Daemon) -> None:
        async with await ControlClient.connect(daemon.socket_path) as client:
            assert (await client.request(SendText(text="start the frobnicator"))).ack.ok
            await next_of(client, e.ConfirmRequest, within=20)
            app = VoicedApp(daemon.socket_path)
            async with app.run_test(size=SIZE) as pilot:
                await attached(pilot)
                question = "Start the application Frobnicator 9000?"
                await until(pilot, lambda: question in screen_text(app), "the prompt")
                assert "start the frobnicator" in screen_text(app), "the history came first"
                await pilot.press("y")
                resolved.append(await next_of(client, e.ConfirmResolved))
                results.append(await next_of(client, e.ToolResult, within=20))
                prompt = app.query_one(ConfirmPrompt)
                await until(pilot, lambda: not prompt.display, "the prompt to go")
            await next_of(client, e.AssistantText, lambda ev: ev.turn == 1, within=20)

    await replay(lay_out("quiet", [6.0]), settings_for(groqsim, home), home, during=user)
    assert resolved[0].approved and resolved[0].by == "user"
    assert not results[0].ok and "no installed application" in results[0].result
