"""Class 8 (tool calls): malformed arguments fail that call, in words, and the round goes on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.converse.conftest import Heard, conversation
from tests.groqsim import ChatReply, GroqSim
from tests.groqsim import ToolCall as ScriptedCall
from voiced.converse.recorder import HistoryWriter
from voiced.converse.tools import ToolRegistry, ToolRunner, tool
from voiced.converse.tools.schema import MAX_ARGUMENTS, MAX_DEPTH
from voiced.groq.client import GroqClient
from voiced.groq.models import ToolCall


@tool
def scale(factor: float, times: int = 1, tags: list[str] | None = None) -> float:
    """Multiply a number.

    Args:
        factor: A number.
        times: A whole number.
        tags: Labels.
    """
    return factor * times


@tool
def huge() -> int:
    """Returns a whole number too long to write out."""
    return 10**5000


def nested(levels: int) -> str:
    return '{"factor": 1, "tags": ' + "[" * levels + "]" * levels + "}"


HOSTILE = {
    "digits_400_number": ('{"factor": ' + "9" * 400 + "}", "has more than 30 digits"),
    "digits_400_integer": ('{"factor": 1, "times": -' + "7" * 400 + "}", "more than 30 digits"),
    "integer_beyond_64_bits": (
        '{"factor": 1, "times": ' + "9" * 25 + "}",
        "argument 'times' is too large",
    ),
    "levels_50000": (nested(50_000), f"at most {MAX_ARGUMENTS} are accepted"),
    "levels_5000": (nested(5_000), f"nested more than {MAX_DEPTH} levels deep"),
    "levels_500": (nested(500), f"nested more than {MAX_DEPTH} levels deep"),
    "nan": ('{"factor": NaN}', "NaN is not a number JSON allows"),
    "infinity": ('{"factor": -Infinity}', "-Infinity is not a number JSON allows"),
    "overflowing_float": ('{"factor": 1e400}', "the number 1e400 in the arguments is too large"),
    "huge_text": ('{"factor": 1, "x": "' + "a" * 40_000 + '"}', "characters long"),
    "long_unknown_name": ('{"' + "k" * 5000 + '": 1}', "(5002 characters)"),
}


def round_of_calls() -> list[ToolCall]:
    calls = [ToolCall(name, "scale", text) for name, (text, _) in HOSTILE.items()]
    return [*calls, ToolCall("fine", "scale", '{"factor": 2.5, "times": 4}')]


async def test_each_malformed_call_fails_alone_and_the_round_goes_on() -> None:
    outcomes = await ToolRunner(ToolRegistry([scale])).run(round_of_calls())
    by_id = {o.call.id: o for o in outcomes}
    for name, (_, said) in HOSTILE.items():
        outcome = by_id[name]
        assert outcome.problem == "invalid_arguments", name
        message = json.loads(outcome.content)["error"]
        assert message.startswith("invalid arguments for scale: ") and said in message, message
        assert len(message) < 300, name
    assert by_id["fine"].problem is None and by_id["fine"].content == "10.0"


async def test_an_unexpected_failure_after_the_tool_ran_fails_only_that_call() -> None:
    calls = [ToolCall("c_huge", "huge", ""), ToolCall("c_fine", "scale", '{"factor": 3}')]
    huge_outcome, fine = await ToolRunner(ToolRegistry([huge, scale])).run(calls)
    assert huge_outcome.problem == "failed"
    assert json.loads(huge_outcome.content)["error"].startswith("'huge' failed: ValueError: ")
    assert fine.problem is None and fine.content == "3.0"


@pytest.fixture
async def history(tmp_path: Path) -> AsyncIterator[HistoryWriter]:
    async with HistoryWriter(tmp_path / "history.sqlite3") as writer:
        yield writer


async def test_the_model_hears_why_each_malformed_call_failed_and_answers(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    groqsim.enqueue(
        "chat",
        ChatReply(
            tool_calls=[
                ScriptedCall("scale", '{"factor": ' + "9" * 400 + "}", id="c_digits"),
                ScriptedCall("scale", nested(50_000), id="c_deep"),
                ScriptedCall("scale", nested(900), id="c_nested"),
                ScriptedCall("scale", {"factor": 2, "times": 21}, id="c_fine"),
            ]
        ),
        ChatReply(content="Forty-two; the other calls were malformed."),
    )
    heard = Heard()
    result = await conversation(client, history, [scale]).ask("scale things", heard)
    assert heard.text == "Forty-two; the other calls were malformed." and result.rounds == 2
    messages = groqsim.requests_for("chat")[1].json["messages"]
    said = {m["tool_call_id"]: m["content"] for m in messages if m["role"] == "tool"}
    assert "has more than 30 digits" in json.loads(said["c_digits"])["error"]
    assert "characters long" in json.loads(said["c_deep"])["error"]
    assert "levels deep" in json.loads(said["c_nested"])["error"]
    assert said["c_fine"] == "42.0"
    assert [o.problem for o in result.outcomes] == [
        "invalid_arguments",
        "invalid_arguments",
        "invalid_arguments",
        None,
    ]
