"""`voiced ask --speak`: the streamed answer reaches the virtual speaker; the history says so."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.audio.pulse import PulseServer
from tests.conftest import TEST_KEY
from tests.groqsim import ChatReply, GroqSim, ToolCall
from tests.speak.monitor import TimedRecording
from tests.test_ask_params import raw_stream
from voiced.commands import ask
from voiced.converse.history import HistoryStore


@pytest.fixture
def monitor(pulse: PulseServer) -> Iterator[TimedRecording]:
    recording = TimedRecording(pulse.client_env())
    yield recording
    recording.stop()


def test_ask_speak_says_the_answer_and_records_what_was_heard(
    groqsim: GroqSim,
    monitor: TimedRecording,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    groqsim.api_key = TEST_KEY
    for name, value in {
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "share"),
        "GROQ_API_KEY": TEST_KEY,
        "GROQ_BASE_URL": groqsim.base_url,
    }.items():
        monkeypatch.setenv(name, value)
    groqsim.enqueue(
        "chat",
        ChatReply(tool_calls=[ToolCall("calculate", {"expression": "6 * 7"}, id="c1")]),
        ChatReply(
            content="<think>Easy.</think>The answer is **42**. Nothing else to add.",
            tokens_per_s=50,
        ),
    )
    args = argparse.Namespace(
        text=["six", "times", "seven?"],
        json=False,
        system=None,
        model=None,
        reasoning=False,
        speak=True,
        new=False,
        tools=True,
    )
    assert ask.run(args) == 0
    assert capsys.readouterr().out == "The answer is **42**. Nothing else to add.\n"
    assert monitor.wait_for_sound(0, timeout=5.0) is not None, "nothing reached the speaker"
    recorded = monitor.stop()
    assert np.abs(recorded.astype(np.int32)).max() > 1000  # speech, not a click

    store = HistoryStore(tmp_path / "share" / "voiced" / "history.sqlite3")
    reply = store.conversation(1).turns[0].messages[-1]
    store.close()
    assert reply.content == "The answer is **42**. Nothing else to add."
    assert reply.spoken == "The answer is 42. Nothing else to add."  # cleaned, as heard
    assert not reply.interrupted and reply.reasoning == "Easy."


def test_ask_speak_never_says_raw_reasoning_cut_across_chunks(
    groqsim: GroqSim,
    monitor: TimedRecording,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    groqsim.api_key = TEST_KEY
    for name, value in {
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "share"),
        "GROQ_API_KEY": TEST_KEY,
        "GROQ_BASE_URL": groqsim.base_url,
    }.items():
        monkeypatch.setenv(name, value)
    pieces = ["<th", "ink>Say nothing of this se", "cret.</th", "ink>The ans", "wer is 42."]
    groqsim.enqueue("chat", raw_stream(pieces))
    args = argparse.Namespace(
        text=["six", "times", "seven?"],
        json=False,
        system=None,
        model=None,
        reasoning=False,
        speak=True,
        new=False,
        tools=False,
        reasoning_format="raw",
    )
    assert ask.run(args) == 0
    assert capsys.readouterr().out == "The answer is 42.\n"
    assert monitor.wait_for_sound(0, timeout=5.0) is not None, "nothing reached the speaker"
    assert groqsim.requests_for("chat")[0].json["reasoning_format"] == "raw"

    store = HistoryStore(tmp_path / "share" / "voiced" / "history.sqlite3")
    reply = store.conversation(1).turns[0].messages[-1]
    store.close()
    assert reply.spoken == "The answer is 42."  # what the speaker was given, whole
    assert reply.reasoning == "Say nothing of this secret."
