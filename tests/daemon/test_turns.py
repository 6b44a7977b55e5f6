"""Turns beyond the plain question: the wake phrase, typed messages and tool confirmations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.audio.speech import speak
from tests.daemon.helpers import next_of
from tests.daemon.replaying import replay, settings_for
from tests.groqsim import ChatReply, GroqSim, Segment, ToolCall, Transcript
from tests.listen.scenes import lay_out
from voiced.daemon.app import Daemon
from voiced.daemon.assemble import AssembledEngine
from voiced.protocol import (
    Confirm,
    ConfirmRequest,
    ControlClient,
    History,
    SendText,
    ToolResult,
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path


def transcript(text: str) -> Transcript:
    return Transcript(text=" " + text, segments=[Segment(0.0, 1.5, " " + text)])


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
