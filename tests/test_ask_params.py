"""`voiced ask`'s sampling and reasoning parameters: from [chat] and from flags, exactly as set,
each request valid against Groq's schema, and every combination Groq rejects refused before
anything is sent. Real processes against the loopback server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_KEY
from tests.groqsim import ChatReply, GroqSim, Raw, ToolCall
from tests.schemas import validate_chat_request
from tests.test_cli import Voiced

pytestmark = pytest.mark.subprocess

ALWAYS = {"model", "messages", "stream", "tools", "tool_choice"}
"""What every streamed `voiced ask` request carries, parameters or not."""


@pytest.fixture
def voiced(groqsim: GroqSim, tmp_path: Path) -> Iterator[Voiced]:
    groqsim.api_key = TEST_KEY
    yield Voiced(groqsim, tmp_path)
    for recorded in groqsim.requests_for("chat"):
        validate_chat_request(recorded.json)


def parameters(sent: dict[str, Any], always: set[str] = ALWAYS) -> dict[str, Any]:
    """The request's optional parameters: everything but the fields every request has."""
    return {k: v for k, v in sent.items() if k not in always}


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("voiced: "), stderr
    return lines[0]


def test_without_settings_no_parameter_is_sent(voiced: Voiced) -> None:
    result = voiced("ask", "hi")
    assert result.returncode == 0, result.stderr
    sent = voiced.sim.requests_for("chat")[0].json
    assert parameters(sent) == {}
    assert sent["stream"] is True and sent["tools"]


def test_every_chat_setting_in_the_config_is_sent_as_set(voiced: Voiced) -> None:
    voiced.config(
        "[chat]\ntemperature = 0.3\ntop_p = 0.9\nseed = 42\n"
        'stop = ["END", "\\n\\n"]\nmax_completion_tokens = 256\n'
        'reasoning_effort = "low"\nreasoning_format = "parsed"\n'
    )
    result = voiced("ask", "hi")
    assert result.returncode == 0, result.stderr
    assert parameters(voiced.sim.requests_for("chat")[0].json) == {
        "temperature": 0.3,
        "top_p": 0.9,
        "seed": 42,
        "stop": ["END", "\n\n"],
        "max_completion_tokens": 256,
        "reasoning_effort": "low",
        "reasoning_format": "parsed",
    }


def test_a_single_stop_string_in_the_config_is_sent_as_a_string(voiced: Voiced) -> None:
    voiced.config('[chat]\nstop = "END"\n')
    assert voiced("ask", "hi").returncode == 0
    assert parameters(voiced.sim.requests_for("chat")[0].json) == {"stop": "END"}


def test_flags_override_the_config_for_one_question_only(voiced: Voiced) -> None:
    voiced.config('[chat]\ntemperature = 0.3\nstop = "END"\nreasoning_format = "parsed"\n')
    flags = ["--temperature", "1.5", "--top-p", "0.5", "--seed", "7"]
    flags += ["--stop", "A", "--stop", "B", "--max-tokens", "100", "--reasoning-format", "hidden"]
    assert voiced("ask", *flags, "hi").returncode == 0
    assert voiced("ask", "again").returncode == 0
    first, second = (r.json for r in voiced.sim.requests_for("chat"))
    assert parameters(first) == {
        "temperature": 1.5,
        "top_p": 0.5,
        "seed": 7,
        "stop": ["A", "B"],
        "max_completion_tokens": 100,
        "reasoning_format": "hidden",
    }
    assert parameters(second) == {
        "temperature": 0.3,
        "stop": "END",
        "reasoning_format": "parsed",
    }


def test_a_flag_overrides_only_its_own_key(voiced: Voiced) -> None:
    voiced.config("[chat]\ntemperature = 0.3\nseed = 42\n")
    assert voiced("ask", "--seed", "0", "hi").returncode == 0
    assert parameters(voiced.sim.requests_for("chat")[0].json) == {"temperature": 0.3, "seed": 0}


def test_json_mode_sends_the_chat_settings_and_prints_only_the_object(voiced: Voiced) -> None:
    voiced.config('[chat]\ntop_p = 0.2\nreasoning_format = "parsed"\n')
    voiced.sim.enqueue("chat", ChatReply(content='{"capital": "Lima"}', reasoning="Peru: Lima."))
    result = voiced("ask", "--json", "--seed", "5", "--temperature", "0", "--reasoning", "Peru?")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"capital": "Lima"}
    assert "Peru: Lima." in result.stderr and "Peru: Lima." not in result.stdout
    sent = voiced.sim.requests_for("chat")[0].json
    assert parameters(sent, {"model", "messages", "response_format"}) == {
        "top_p": 0.2,
        "seed": 5,
        "temperature": 0,
        "reasoning_format": "parsed",
    }


def test_json_mode_never_prints_inline_reasoning_on_stdout(voiced: Voiced) -> None:
    """A server that puts <think> in a JSON-mode answer anyway: stdout still holds the JSON."""
    reply = '<think>They want JSON.</think>{"capital": "Lima"}'
    voiced.sim.enqueue("chat", ChatReply(content=reply), ChatReply(content=reply))
    quiet = voiced("ask", "--json", "Peru?")
    assert json.loads(quiet.stdout) == {"capital": "Lima"} and "JSON." not in quiet.stderr
    shown = voiced("ask", "--json", "--reasoning", "Peru?")
    assert json.loads(shown.stdout) == {"capital": "Lima"}
    assert "They want JSON." in shown.stderr


# Out of range: one line naming the flag or key, exit status 2, nothing sent.

OUT_OF_RANGE = {
    "temperature above 2": (["--temperature", "2.5"], "--temperature must be between 0 and 2"),
    "temperature below 0": (["--temperature", "-0.1"], "--temperature must be between 0 and 2"),
    "temperature nan": (["--temperature", "nan"], "--temperature must be between 0 and 2"),
    "top_p above 1": (["--top-p", "1.5"], "--top-p must be between 0 and 1, got 1.5"),
    "top_p inf": (["--top-p", "inf"], "--top-p must be between 0 and 1, got inf"),
    "negative seed": (["--seed", "-1"], "--seed must be between 0 and 2147483647, got -1"),
    "huge seed": (["--seed", str(2**63)], "--seed must be between 0 and 2147483647"),
    "no tokens": (["--max-tokens", "0"], "--max-tokens must be between 1 and 1000000 tokens"),
    "five stops": (
        [a for s in "ABCDE" for a in ("--stop", s)],
        "--stop was given 5 times: Groq accepts at most 4 stop sequences",
    ),
    "an empty stop": (["--stop", ""], "--stop must be a non-empty text"),
    "a stop with an escape": (["--stop", "\x1b[2J"], "--stop must be a non-empty text"),
}


@pytest.mark.parametrize(("flags", "message"), OUT_OF_RANGE.values(), ids=OUT_OF_RANGE.keys())
def test_a_flag_out_of_range_is_refused_before_anything_is_sent(
    voiced: Voiced, flags: list[str], message: str
) -> None:
    result = voiced("ask", *flags, "hi")
    assert result.returncode == 2
    assert message in one_line(result.stderr)
    assert "\x1b" not in result.stderr
    assert voiced.sim.requests == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("top_p = 1.5", "[chat] top_p must be between 0 and 1, got 1.5"),
        ("seed = -3", "[chat] seed must be between 0 and 2147483647, got -3"),
        (
            'stop = ["a", "b", "c", "d", "e"]',
            "[chat] stop must be a non-empty string or an array of at most 4 of them",
        ),
        ('stop = ""', "[chat] stop must be a non-empty string"),
        ('stop = ["a", "\\u0000"]', "[chat] stop must be a non-empty string"),
        ('reasoning_format = "thoughts"', "[chat] reasoning_format must be one of 'parsed'"),
    ],
)
def test_a_config_value_out_of_range_is_refused_before_anything_is_sent(
    voiced: Voiced, config: str, message: str
) -> None:
    voiced.config(f"[chat]\n{config}\n")
    result = voiced("ask", "hi")
    assert result.returncode == 2
    assert message in one_line(result.stderr)
    assert voiced.sim.requests == []


# Combinations Groq rejects with a 400: refused before anything is sent, naming what to change.

REJECTED = {
    "raw flag with tools": (
        "",
        ["--reasoning-format", "raw"],
        "--reasoning-format raw cannot be used with tools: Groq rejects that with a 400",
        "add --no-tools, or give --reasoning-format parsed or hidden",
    ),
    "raw config with tools": (
        'reasoning_format = "raw"',
        [],
        '[chat] reasoning_format = "raw" cannot be used with tools',
        'add --no-tools, or change [chat] reasoning_format to "parsed" or "hidden"',
    ),
    "raw flag with json": (
        "",
        ["--json", "--reasoning-format", "raw"],
        "--reasoning-format raw cannot be used with JSON mode (--json)",
        "give --reasoning-format parsed or hidden, or ask without --json",
    ),
    "raw config with json": (
        'reasoning_format = "raw"',
        ["--json", "--no-tools"],
        '[chat] reasoning_format = "raw" cannot be used with JSON mode (--json)',
        'change [chat] reasoning_format to "parsed" or "hidden"',
    ),
    "stop flag with json": (
        "",
        ["--json", "--stop", "END"],
        "stop sequences (--stop) cannot be used with JSON mode (--json)",
        "leave out --stop, or ask without --json",
    ),
    "stop config with json": (
        'stop = ["END"]',
        ["--json"],
        "stop sequences ([chat] stop) cannot be used with JSON mode (--json)",
        "remove [chat] stop, or ask without --json",
    ),
}


@pytest.mark.parametrize(
    ("config", "flags", "message", "hint"), REJECTED.values(), ids=REJECTED.keys()
)
def test_a_combination_groq_rejects_fails_before_any_request(
    voiced: Voiced, config: str, flags: list[str], message: str, hint: str
) -> None:
    voiced.config(f"[chat]\n{config}\n")
    result = voiced("ask", *flags, "hi")
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert message in line and hint in line
    assert voiced.sim.requests == []


def test_a_flag_can_fix_a_rejected_combination_from_the_config(voiced: Voiced) -> None:
    voiced.config('[chat]\nreasoning_format = "raw"\nstop = "END"\n')
    assert voiced("ask", "--reasoning-format", "parsed", "hi").returncode == 0
    assert voiced("ask", "--no-tools", "hi").returncode == 0
    first, second = (r.json for r in voiced.sim.requests_for("chat"))
    assert first["reasoning_format"] == "parsed" and first["tools"]
    assert second["reasoning_format"] == "raw" and "tools" not in second


# Raw reasoning: inline <think> tags, cut anywhere, never on stdout.

FIRST = (
    b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","model":"qwen/qwen3-32b",'
    b'"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],'
    b'"x_groq":{"id":"req_rawthink"}}\n\n'
)
LAST = b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
RAW_PIECES = ["<th", "ink>\nThe user wants Pe", "ru's capital.</thi", "nk", ">\n\nLi", "ma."]


def raw_stream(pieces: list[str]) -> Raw:
    """A streamed reply whose content arrives in exactly these pieces."""
    body = FIRST
    for piece in pieces:
        chunk = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        body += b"data: " + json.dumps(chunk).encode() + b"\n\n"
    return Raw(body + LAST, content_type="text/event-stream")


def test_raw_reasoning_cut_across_chunks_never_reaches_stdout(voiced: Voiced) -> None:
    voiced.sim.enqueue("chat", raw_stream(RAW_PIECES), raw_stream(RAW_PIECES))
    quiet = voiced("ask", "--no-tools", "--reasoning-format", "raw", "capital of Peru?")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "Lima.\n" and quiet.stderr == ""
    shown = voiced("ask", "--no-tools", "--reasoning-format", "raw", "--reasoning", "again?")
    assert shown.stdout == "Lima.\n"
    assert "The user wants Peru's capital." in shown.stderr and "think>" not in shown.stderr
    sent = voiced.sim.requests_for("chat")[0].json
    assert parameters(sent) == {"reasoning_format": "raw"} and "tools" not in sent


def test_a_word_cut_between_two_deltas_is_printed_whole(voiced: Voiced) -> None:
    """Real streams cut words anywhere ("Li", "ma"): only a new round starts a new line."""
    voiced.sim.enqueue("chat", raw_stream(["Li", "ma", ", of", " course", "!"]))
    result = voiced("ask", "capital of Peru?")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Lima, of course!\n"


def test_a_new_rounds_words_still_start_on_a_new_line(voiced: Voiced) -> None:
    voiced.sim.enqueue(
        "chat",
        ChatReply(
            content="Let me work it out.",
            tool_calls=[ToolCall("calculate", {"expression": "17 * 23"}, id="c1")],
        ),
        ChatReply(content="It is 391."),
    )
    result = voiced("ask", "what is 17 times 23?")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Let me work it out.\nIt is 391.\n"
