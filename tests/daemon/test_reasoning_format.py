"""The daemon offers tools, and Groq rejects raw reasoning with tools: what it sends instead."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.daemon.replaying import replay, settings_for
from tests.groqsim import ChatReply, GroqSim
from tests.listen.scenes import lay_out
from tests.schemas import validate_chat_request
from voiced.daemon.app import Daemon
from voiced.protocol import ControlClient, SendText


async def say_hello(daemon: Daemon) -> None:
    async with await ControlClient.connect(daemon.socket_path) as client:
        assert (await client.request(SendText(text="hello"))).ack.ok


@pytest.mark.parametrize("tools", [True, False], ids=["tools", "no-tools"])
async def test_raw_reasoning_is_asked_for_as_parsed_while_the_daemon_offers_tools(
    groqsim: GroqSim, home: Path, tools: bool
) -> None:
    groqsim.enqueue("chat", ChatReply(content="Hello to you.", reasoning="A greeting.", ttft=0.05))
    settings = settings_for(groqsim, home)
    chat = replace(settings.chat, reasoning_format="raw", seed=3, stop=("END",))
    # Enabling one tool and disabling it offers none.
    none = replace(settings.tools, enabled=("calculate",), disabled=("calculate",))
    settings = replace(settings, chat=chat, tools=settings.tools if tools else none)
    run = await replay(lay_out("quiet", [3.0]), settings, home, during=say_hello)

    (sent,) = (r.json for r in groqsim.requests_for("chat"))
    validate_chat_request(sent)
    assert sent["seed"] == 3 and sent["stop"] == ["END"]
    assert run.one("assistant_text", turn=1)["text"] == "Hello to you."
    warned = [e for e in run.of("log", level="warning") if "reasoning_format" in e["message"]]
    if tools:
        assert sent["reasoning_format"] == "parsed" and sent["tools"]
        assert len(warned) == 1 and '"parsed" is asked for' in warned[0]["message"]
    else:
        assert sent["reasoning_format"] == "raw" and "tools" not in sent
        assert warned == []
