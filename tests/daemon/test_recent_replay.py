"""What a client that connects late is sent first: the recent conversation as it went (failed
tools included, live and after a restart) and the confirmations still waiting for an answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.daemon.helpers import next_of
from tests.daemon.replaying import replay, settings_for
from tests.groqsim import ChatReply, GroqSim, ToolCall
from tests.listen.scenes import lay_out
from voiced.daemon.app import Daemon
from voiced.pipeline.assemble import AssembledEngine
from voiced.protocol import (
    AssistantText,
    Confirm,
    ConfirmRequest,
    ConfirmResolved,
    ControlClient,
    History,
    HistoryEntry,
    SendText,
    ToolResult,
)

pytestmark = pytest.mark.realtime


def tools_of(history: History) -> list[tuple[str, bool]]:
    """The tool entries as (name, ok), by name (concurrent calls may finish in any order)."""
    return sorted((e.name, e.ok) for e in history.entries if e.role == "tool")


async def test_a_client_that_connects_while_a_tool_waits_is_asked_too_and_can_answer(
    groqsim: GroqSim, home: Path
) -> None:
    call = ToolCall("open_application", {"name": "Frobnicator 9000"})
    groqsim.enqueue("chat", ChatReply(tool_calls=[call], ttft=0.05))
    groqsim.enqueue("chat", ChatReply(content="I couldn't find it.", ttft=0.05))
    seen: dict[str, object] = {}

    async def users(daemon: Daemon) -> None:
        async with await ControlClient.connect(daemon.socket_path) as first:
            assert (await first.request(SendText(text="start the frobnicator"))).ack.ok
            asked = await next_of(first, ConfirmRequest, within=20)
            async with await ControlClient.connect(daemon.socket_path) as late:
                events = aiter(late)
                seen["history"] = await anext(events)
                seen["request"] = await anext(events)
                assert (await late.request(Confirm(approve=True))).ack.ok
                seen["resolved"] = await next_of(first, ConfirmResolved)
                seen["result"] = await next_of(late, ToolResult, within=20)
            seen["asked"] = asked
            await next_of(first, AssistantText, lambda e: e.turn == 1, within=20)

    await replay(lay_out("quiet", [6.0]), settings_for(groqsim, home), home, during=users)
    history, request, asked = seen["history"], seen["request"], seen["asked"]
    assert isinstance(history, History) and isinstance(request, ConfirmRequest)
    assert [(e.role, e.text) for e in history.entries] == [("user", "start the frobnicator")]
    assert request == asked, "the late client is asked the very question the first one was"
    assert request.question == "Start the application Frobnicator 9000?"
    resolved, result = seen["resolved"], seen["result"]
    assert isinstance(resolved, ConfirmResolved) and isinstance(result, ToolResult)
    assert resolved.approved and resolved.by == "user" and resolved.call_id == request.call_id
    # Approved, so it ran (and failed: there is no such application) rather than being declined.
    assert not result.ok and "no installed application" in result.result


async def test_failed_and_declined_tools_replay_as_failed_to_late_clients_and_after_a_restart(
    groqsim: GroqSim, home: Path
) -> None:
    calls = [ToolCall("current_time", {}), ToolCall("open_url", {"url": "https://example.com"})]
    groqsim.enqueue("chat", ChatReply(tool_calls=calls, ttft=0.05))
    groqsim.enqueue("chat", ChatReply(content="It is noon; I left the page closed.", ttft=0.05))
    shown: list[History] = []

    async def decline_then_look(daemon: Daemon) -> None:
        async with await ControlClient.connect(daemon.socket_path) as client:
            assert (await client.request(SendText(text="time, and open example.com"))).ack.ok
            await next_of(client, ConfirmRequest, within=20)
            assert (await client.request(Confirm(approve=False))).ack.ok
            await next_of(client, AssistantText, lambda e: e.turn == 1, within=20)
        async with await ControlClient.connect(daemon.socket_path) as late:
            shown.append(await next_of(late, History))

    settings = settings_for(groqsim, home)
    await replay(lay_out("quiet", [4.0]), settings, home, during=decline_then_look)

    async def look_after_restart(daemon: Daemon) -> None:
        engine = daemon.engine
        assert isinstance(engine, AssembledEngine)
        await engine.ready.wait()
        async with await ControlClient.connect(daemon.socket_path) as client:
            shown.append(await next_of(client, History))

    await replay(lay_out("quiet", [1.0]), settings, home, during=look_after_restart)
    live, restarted = shown
    assert tools_of(live) == [("current_time", True), ("open_url", False)]
    assert tools_of(restarted) == tools_of(live)
    declined = next(e for e in restarted.entries if e.name == "open_url")
    assert "did not allow" in declined.text and declined.turn == 0


def test_a_history_entry_from_a_peer_without_the_ok_field_reads_as_ok() -> None:
    from voiced.protocol.wire import decode_event

    line = (
        b'{"type": "history", "entries": [{"turn": 1, "role": "tool", "text": "14:05",'
        b' "name": "current_time"}]}\n'
    )
    history = decode_event(line)
    assert isinstance(history, History)
    assert history.entries == (
        HistoryEntry(turn=1, role="tool", text="14:05", name="current_time"),
    )
    assert history.entries[0].ok
