"""Turns beyond the plain question: the wake phrase, typed messages and tool confirmations."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.audio.speech import speak
from tests.daemon.helpers import next_of
from tests.daemon.replaying import LONG_REPLY, replay, settings_for, transcript
from tests.groqsim import ChatReply, GroqSim, ToolCall
from tests.listen.scenes import lay_out
from voiced.converse.heard import heard_shares
from voiced.converse.history import HistoryStore
from voiced.converse.records import MessageRecord
from voiced.daemon.app import Daemon
from voiced.pipeline.assemble import AssembledEngine
from voiced.protocol import (
    AssistantText,
    Cancel,
    Confirm,
    ConfirmRequest,
    ControlClient,
    History,
    SendText,
    SpeakingStarted,
    ToolResult,
)

pytestmark = pytest.mark.realtime


async def test_only_requests_with_the_wake_phrase_are_answered(
    groqsim: GroqSim, home: Path
) -> None:
    plain, woken = "What time is it?", "Hey computer, what time is it?"
    scene = lay_out("wake", [0.8, [speak(plain)], 1.2, [speak(woken)], 3.0])
    groqsim.enqueue("transcriptions", transcript(plain), transcript(woken))
    groqsim.enqueue("chat", ChatReply(content="Noon.", ttft=0.1))
    settings = settings_for(groqsim, home, wake_phrase="hey computer")
    run = await replay(scene, settings, home)
    first, second = run.of("transcript")
    assert not first["accepted"] and "no wake phrase" in first["reason"]
    assert second["accepted"] and second["text"] == "what time is it?"
    chats = groqsim.requests_for("chat")
    assert len(chats) == 1  # nothing was even asked speculatively for the first one
    assert chats[0].json["messages"][-1]["content"] == "what time is it?"
    assert run.silent(0, scene.utterances[1][1])


async def test_a_typed_request_for_a_side_effect_waits_for_the_users_no(
    groqsim: GroqSim, home: Path
) -> None:
    scene = lay_out("quiet", [9.0])
    call = ToolCall("open_url", {"url": "https://example.com"})
    groqsim.enqueue("chat", ChatReply(tool_calls=[call], ttft=0.1))
    groqsim.enqueue("chat", ChatReply(content="All right, I won't.", ttft=0.1))
    asked: list[ConfirmRequest] = []
    results: list[ToolResult] = []

    async def user(daemon: Daemon) -> None:
        async with await ControlClient.connect(daemon.socket_path) as client:
            assert (await client.request(SendText(text="open example.com"))).ack.ok
            asked.append(await next_of(client, ConfirmRequest, within=20))
            assert (await client.request(Confirm(approve=False))).ack.ok
            results.append(await next_of(client, ToolResult, within=20))

    run = await replay(scene, settings_for(groqsim, home), home, during=user)
    assert asked[0].name == "open_url" and asked[0].question == "Open https://example.com?"
    assert run.one("confirm_resolved")["by"] == "user"
    assert not results[0].ok and "did not allow" in results[0].result
    assert run.one("transcript")["source"] == "typed"
    assert run.one("assistant_text", turn=1)["text"] == "All right, I won't."
    # The question was asked aloud before the answer was spoken.
    loud = np.flatnonzero(np.abs(run.output.astype(np.int32)) > 300)
    assert loud.size and loud[0] < round(run.one("speaking_started", turn=1)["t"] * 16000)


async def test_without_echo_cancellation_voiceds_own_words_are_not_taken_as_a_request(
    groqsim: GroqSim, home: Path
) -> None:
    reply = "The forecast for tomorrow is sunny and warm, with a light breeze from the west."
    echo = "the forecast for tomorrow is sunny and warm"  # what the microphone heard of it
    scene = lay_out("echo", [0.8, [speak("What is the weather?")], 2.2, [speak(echo)], 3.0])
    groqsim.enqueue("transcriptions", transcript("What is the weather?"), transcript(echo))
    groqsim.enqueue("chat", ChatReply(content=reply, ttft=0.1))
    run = await replay(scene, settings_for(groqsim, home, echo_cancelled=False), home)
    heard = run.of("transcript")
    assert len(heard) == 2, [e for e in run.events if e["type"] not in ("level", "usage")]
    assert heard[0]["accepted"] and not heard[1]["accepted"]
    assert heard[1]["reason"] == "an echo of what voiced just said"
    assert len(groqsim.requests_for("chat")) == 1


async def test_a_restarted_daemon_shows_the_stored_conversation_to_a_new_client(
    groqsim: GroqSim, home: Path
) -> None:
    groqsim.enqueue("chat", ChatReply(content="Hello to you too.", ttft=0.05))

    async def say_hello(daemon: Daemon) -> None:
        async with await ControlClient.connect(daemon.socket_path) as client:
            assert (await client.request(SendText(text="hello"))).ack.ok

    await replay(lay_out("quiet", [3.0]), settings_for(groqsim, home), home, during=say_hello)
    shown: list[History] = []

    async def look(daemon: Daemon) -> None:
        engine = daemon.engine
        assert isinstance(engine, AssembledEngine)
        await engine.ready.wait()
        async with await ControlClient.connect(daemon.socket_path) as client:
            shown.append(await next_of(client, History))

    await replay(lay_out("quiet", [1.0]), settings_for(groqsim, home), home, during=look)
    entries = [(e.turn, e.role, e.text) for e in shown[0].entries]
    assert entries == [(0, "user", "hello"), (0, "assistant", "Hello to you too.")]


def stored_replies(home: Path, turn: int) -> list[MessageRecord]:
    """The assistant messages of a stored turn (1 is the first), from the daemon's history."""
    store = HistoryStore(home / "data" / "voiced" / "history.sqlite3")
    try:
        record = store.conversation(store.conversations(1)[0].id)
    finally:
        store.close()
    return [m for m in record.turns[turn - 1].messages if m.role == "assistant"]


def said_in_turn_one(request: dict[str, Any]) -> list[str]:
    """The assistant words a chat request carries from the first turn."""
    messages = request["messages"]
    second_user = [i for i, m in enumerate(messages) if m["role"] == "user"][1]
    return [
        m["content"]
        for m in messages[:second_user]
        if m["role"] == "assistant" and m.get("content")
    ]


async def test_a_reply_after_a_tool_round_talked_over_is_remembered_as_far_as_it_was_heard(
    groqsim: GroqSim, home: Path
) -> None:
    question, over = "What time is it?", "Stop, tell me the weather instead."
    scene = lay_out("barge", [0.8, [speak(question)], 2.8, [speak(over)], 4.0])
    groqsim.enqueue("transcriptions", transcript(question), transcript(over))
    groqsim.enqueue("chat", ChatReply(tool_calls=[ToolCall("current_time", {})], ttft=0.1))
    groqsim.enqueue("chat", ChatReply(content=LONG_REPLY, ttft=0.1, tokens_per_s=500))
    groqsim.enqueue("chat", ChatReply(content="Sunny.", ttft=0.1))
    # Without speculation each utterance is transcribed and answered exactly once.
    settings = settings_for(groqsim, home, echo_cancelled=True, speculative=False)
    run = await replay(scene, settings, home)
    assert run.one("speaking_stopped", turn=1)["reason"] == "barge_in"
    assert run.one("assistant_text", turn=2)["text"] == "Sunny."

    tool_round, text_round = stored_replies(home, 1)
    assert tool_round.tool_calls and not tool_round.interrupted
    heard = text_round.spoken
    assert text_round.interrupted and text_round.content == LONG_REPLY
    assert heard and len(heard) < len(LONG_REPLY) and LONG_REPLY.startswith(heard)
    # What the model is sent next turn: the tool round, then only the words heard.
    assert said_in_turn_one(groqsim.requests_for("chat")[-1].json) == [heard]


async def test_a_reply_after_a_tool_round_cancelled_while_streaming_keeps_only_what_was_heard(
    groqsim: GroqSim, home: Path
) -> None:
    groqsim.enqueue("chat", ChatReply(tool_calls=[ToolCall("current_time", {})], ttft=0.05))
    groqsim.enqueue("chat", ChatReply(content=LONG_REPLY, ttft=0.05, tokens_per_s=12))
    groqsim.enqueue("chat", ChatReply(content="Fine.", ttft=0.05))
    ended: list[AssistantText] = []

    async def user(daemon: Daemon) -> None:
        async with await ControlClient.connect(daemon.socket_path) as client:
            assert (await client.request(SendText(text="what time is it"))).ack.ok
            await next_of(client, SpeakingStarted, within=20)
            await asyncio.sleep(1.5)
            assert (await client.request(Cancel())).ack.ok
            ended.append(await next_of(client, AssistantText, lambda e: e.turn == 1))
            assert (await client.request(SendText(text="never mind"))).ack.ok
            await next_of(client, AssistantText, lambda e: e.turn == 2, within=20)

    await replay(lay_out("quiet", [12.0]), settings_for(groqsim, home), home, during=user)
    assert ended[0].interrupted and ended[0].text != LONG_REPLY  # cut while still streaming
    tool_round, text_round = stored_replies(home, 1)
    assert tool_round.tool_calls and text_round.status == "interrupted"
    assert text_round.interrupted and text_round.spoken
    assert LONG_REPLY.startswith(text_round.content) and text_round.content.startswith(
        text_round.spoken
    )
    assert len(text_round.spoken) < len(text_round.content)
    assert said_in_turn_one(groqsim.requests_for("chat")[-1].json) == [text_round.spoken]


def test_what_was_heard_is_laid_over_the_rounds_in_order() -> None:
    said_first = ["Let me check the **time**.", "It is three o'clock, and sunny."]
    assert heard_shares(said_first, "Let me check the time. It is three") == [None, "It is three"]
    assert heard_shares(said_first, "Let me") == ["Let me", ""]
    assert heard_shares(said_first, "") == ["", ""]
    everything = "Let me check the time. It is three o'clock, and sunny."
    assert heard_shares(said_first, everything) == [None, None]
    # A tool round that said nothing is left alone, whatever was heard.
    assert heard_shares(["", "It is three o'clock."], "It is") == [None, "It is"]
