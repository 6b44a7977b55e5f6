"""The tool loop against the loopback Groq server: what each failure looks like to the model."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.converse.conftest import Heard, conversation
from tests.groqsim import ChatReply, ErrorReply, GroqSim, StreamFault, ToolCall
from voiced.converse.history import HistoryStore
from voiced.converse.recorder import HistoryWriter
from voiced.converse.tools import APOLOGY, ConfirmRequest, ToolError, tool
from voiced.errors import BadRequestError
from voiced.groq.client import GroqClient

ANSWER = ChatReply(content="Done.")


def tool_messages(sim: GroqSim, request_index: int) -> dict[str, Any]:
    """The tool messages of one request, by tool_call_id."""
    messages = sim.requests_for("chat")[request_index].json["messages"]
    return {m["tool_call_id"]: m["content"] for m in messages if m["role"] == "tool"}


@tool
def add(a: int, b: int) -> int:
    """Add two whole numbers.

    Args:
        a: The first number.
        b: The second number.
    """
    return a + b


@tool
def explode() -> str:
    """Always fails."""
    raise RuntimeError("the flux capacitor is empty")


@tool
def refuse_politely(city: str) -> str:
    """Fails in words meant for the model.

    Args:
        city: A city.
    """
    raise ToolError(f"no weather station near {city}")


async def test_two_parallel_calls_run_at_the_same_time(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    ping_started, pong_started = asyncio.Event(), asyncio.Event()

    @tool(timeout=3.0)
    async def ping() -> str:
        """Needs pong to be running at the same time."""
        ping_started.set()
        await pong_started.wait()
        return "ping saw pong"

    @tool(timeout=3.0)
    async def pong() -> str:
        """Needs ping to be running at the same time."""
        pong_started.set()
        await ping_started.wait()
        return "pong saw ping"

    groqsim.enqueue(
        "chat",
        ChatReply(
            tool_calls=[ToolCall("ping", {}, id="call_1"), ToolCall("pong", {}, id="call_2")]
        ),
        ChatReply(content="Both answered."),
    )
    heard = Heard()
    result = await conversation(client, history, [ping, pong]).ask("play", heard)
    assert tool_messages(groqsim, 1) == {"call_1": "ping saw pong", "call_2": "pong saw ping"}
    assert [o.ok for o in result.outcomes] == [True, True]
    assert heard.text == "Both answered." and result.rounds == 2
    first = groqsim.requests_for("chat")[0].json
    assert first["tool_choice"] == "auto"
    assert {t["function"]["name"] for t in first["tools"]} == {"ping", "pong"}


async def test_the_model_sees_each_failure_as_a_tool_result(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    groqsim.enqueue(
        "chat",
        ChatReply(
            tool_calls=[
                ToolCall("explode", {}, id="c_boom"),
                ToolCall("refuse_politely", {"city": "Atlantis"}, id="c_words"),
                ToolCall("teleport", {"to": "Mars"}, id="c_unknown"),
                ToolCall("add", '{"a": 1, "b": ', id="c_json"),
                ToolCall("add", {"a": "one", "b": 2}, id="c_type"),
                ToolCall("add", {"a": 1}, id="c_missing"),
                ToolCall("add", {"a": 1, "b": 2, "c": 3}, id="c_extra"),
                ToolCall("add", {"a": 40, "b": 2}, id="c_fine"),
            ]
        ),
        ANSWER,
    )
    result = await conversation(client, history, [add, explode, refuse_politely]).ask("go", Heard())
    seen = {
        k: json.loads(v)["error"] if v.startswith("{") else v
        for k, v in tool_messages(groqsim, 1).items()
    }
    assert seen["c_boom"] == "explode failed: RuntimeError: the flux capacitor is empty"
    assert seen["c_words"] == "no weather station near Atlantis"
    assert seen["c_unknown"].startswith("there is no tool called 'teleport'")
    assert "add, explode, refuse_politely" in seen["c_unknown"]
    assert seen["c_json"].startswith("invalid arguments for add: the arguments are not valid JSON")
    assert (
        seen["c_type"]
        == "invalid arguments for add: argument 'a' must be an integer, got a string ('one')"
    )
    assert seen["c_missing"] == "invalid arguments for add: missing required argument 'b'"
    assert (
        seen["c_extra"]
        == "invalid arguments for add: unknown argument 'c'; the arguments are: a, b"
    )
    assert seen["c_fine"] == "42"
    problems = [o.problem for o in result.outcomes]
    assert problems == [
        "failed",
        "failed",
        "unknown_tool",
        "invalid_arguments",
        "invalid_arguments",
        "invalid_arguments",
        "invalid_arguments",
        None,
    ]


async def test_endless_tool_calls_stop_after_eight_rounds_with_an_apology(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    groqsim.enqueue(
        "chat", *[ChatReply(tool_calls=[ToolCall("add", {"a": n, "b": 1})]) for n in range(12)]
    )
    heard = Heard()
    result = await conversation(client, history, [add]).ask("count forever", heard)
    assert len(groqsim.requests_for("chat")) == 8
    assert result.capped and result.rounds == 8
    assert heard.text == APOLOGY
    assert len(result.outcomes) == 7  # the eighth round's call is never run
    turn = (await history.call(HistoryStore.conversation, result.conversation_id)).turns[0]
    assert turn.status == "capped" and turn.messages[-1].content == APOLOGY


async def test_the_round_limit_is_configurable(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    groqsim.enqueue("chat", *[ChatReply(tool_calls=[ToolCall("add", {"a": 1, "b": 1})])] * 4)
    result = await conversation(client, history, [add], max_rounds=3).ask("again", Heard())
    assert len(groqsim.requests_for("chat")) == 3 and result.capped


async def test_tool_use_failed_is_retried_once(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    groqsim.enqueue(
        "chat",
        ErrorReply.tool_use_failed("<function=add>{a: 1}</function>"),
        ChatReply(tool_calls=[ToolCall("add", {"a": 1, "b": 2}, id="c1")]),
        ChatReply(content="Three."),
    )
    heard = Heard()
    result = await conversation(client, history, [add]).ask("1+2", heard)
    first, retry, last = (r.json for r in groqsim.requests_for("chat"))
    assert retry == first
    assert tool_messages(groqsim, 2) == {"c1": "3"}
    assert heard.text == "Three." and not result.capped


async def test_tool_use_failed_twice_is_reported(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    groqsim.enqueue(
        "chat",
        ErrorReply.tool_use_failed("<function=add>{a: 1}</function>"),
        StreamFault("error_event", reply=ChatReply(content=""), after=0),
    )
    convo = conversation(client, history, [add])
    with pytest.raises(BadRequestError, match="twice in a row") as caught:
        await convo.ask("1+2", Heard())
    assert caught.value.code == "tool_use_failed"
    assert "get_weather" in str(caught.value)  # what the model wrote is shown
    assert len(groqsim.requests_for("chat")) == 2
    record = await history.call(HistoryStore.conversation, 1)
    assert record.turns[0].status == "failed"
    assert [m.status for m in record.turns[0].messages] == ["done", "failed", "failed"]


async def test_tool_use_failed_after_words_were_said_is_not_retried(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    groqsim.enqueue("chat", StreamFault("error_event"), ANSWER)
    heard = Heard()
    with pytest.raises(BadRequestError, match="after part of the reply was said"):
        await conversation(client, history, [add]).ask("hi", heard)
    assert heard.text == "one two"
    assert len(groqsim.requests_for("chat")) == 1


class Answers:
    """A Confirm that answers from a script and remembers the questions."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.questions: list[ConfirmRequest] = []

    async def __call__(self, request: ConfirmRequest) -> bool:
        self.questions.append(request)
        return self.answer


def side_effect_tool(done: list[str]):  # type: ignore[no-untyped-def]
    @tool(confirm=True, describe=lambda args: f"Delete {args['name']}?")
    def delete_file(name: str) -> str:
        """Delete a file.

        Args:
            name: The file.
        """
        done.append(name)
        return f"deleted {name}"

    return delete_file


async def test_a_tool_needing_confirmation_is_refused_by_default(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    done: list[str] = []
    groqsim.enqueue(
        "chat", ChatReply(tool_calls=[ToolCall("delete_file", {"name": "x"}, id="c1")]), ANSWER
    )
    result = await conversation(client, history, [side_effect_tool(done)]).ask("rm x", Heard())
    assert done == []
    assert result.outcomes[0].problem == "not_confirmed"
    assert "did not allow" in tool_messages(groqsim, 1)["c1"]


@pytest.mark.parametrize("answer", [True, False])
async def test_a_tool_needing_confirmation_runs_only_when_confirmed(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter, answer: bool
) -> None:
    done: list[str] = []
    confirm = Answers(answer)
    groqsim.enqueue(
        "chat", ChatReply(tool_calls=[ToolCall("delete_file", {"name": "x"}, id="c1")]), ANSWER
    )
    convo = conversation(client, history, [side_effect_tool(done)], confirm=confirm)
    await convo.ask("rm x", Heard())
    assert [q.question for q in confirm.questions] == ["Delete x?"]
    assert done == (["x"] if answer else [])
    assert (tool_messages(groqsim, 1)["c1"] == "deleted x") is answer


async def test_a_slow_tool_is_stopped_at_its_timeout(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    @tool(timeout=0.2)
    async def slow() -> str:
        """Takes a minute."""
        await asyncio.sleep(60)
        return "finally"

    groqsim.enqueue(
        "chat",
        ChatReply(
            tool_calls=[
                ToolCall("slow", {}, id="c_slow"),
                ToolCall("add", {"a": 1, "b": 1}, id="c_add"),
            ]
        ),
        ANSWER,
    )
    result = await conversation(client, history, [slow, add]).ask("wait", Heard())
    seen = tool_messages(groqsim, 1)
    assert json.loads(seen["c_slow"]) == {"error": "slow did not finish within 0.2 seconds"}
    assert seen["c_add"] == "2"
    assert result.outcomes[0].problem == "timeout"
    assert result.outcomes[0].duration_s < 5


async def test_the_default_timeout_applies_to_tools_without_their_own(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    @tool
    async def dawdle() -> str:
        """Takes a minute."""
        await asyncio.sleep(60)
        return "finally"

    groqsim.enqueue("chat", ChatReply(tool_calls=[ToolCall("dawdle", {}, id="c1")]), ANSWER)
    result = await conversation(client, history, [dawdle], timeout=0.2).ask("wait", Heard())
    assert result.outcomes[0].problem == "timeout"
    assert "0.2 seconds" in tool_messages(groqsim, 1)["c1"]


async def test_every_step_of_a_tool_turn_is_stored(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    groqsim.enqueue(
        "chat",
        ChatReply(content="Adding.", tool_calls=[ToolCall("add", {"a": 2, "b": 2}, id="c1")]),
        ChatReply(content="Four.", reasoning="2 and 2 make 4."),
    )
    result = await conversation(client, history, [add]).ask("2+2?", Heard())
    assert result.text == "Adding.\nFour."
    turn = (await history.call(HistoryStore.conversation, 1)).turns[0]
    user, asked, answered, final = turn.messages
    assert user.content == "2+2?"
    assert asked.content == "Adding." and asked.tool_calls[0].name == "add"
    assert asked.request_id and asked.request_id.startswith("req_")
    assert asked.usage and asked.usage["completion_tokens"] > 0
    assert asked.timings and asked.timings["total_s"] >= asked.timings["first_token_s"] >= 0
    assert (answered.role, answered.tool_call_id, answered.content) == ("tool", "c1", "4")
    assert answered.timings and "duration_s" in answered.timings
    assert final.content == "Four." and final.reasoning == "2 and 2 make 4."
    assert turn.status == "done" and turn.ended_at is not None
