"""Names within Groq's rules, foreign schemas checked, results shaped for the model."""

from __future__ import annotations

import re
from typing import Any

import pytest

from voiced.config import McpServerSettings
from voiced.converse.tools.schema import ArgumentError, check_arguments
from voiced.converse.tools.schemacheck import SchemaError, check_schema
from voiced.mcp.adapter import CallOutcome, ListedTool, make_tools
from voiced.mcp.names import assign_names, model_name

GROQ_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def test_a_tool_name_becomes_server__tool_with_groqs_alphabet() -> None:
    assert model_name("files", "read_file") == "files__read_file"
    assert model_name("files", "fs.read file/v2") == "files__fs_read_file_v2"
    assert model_name("files", "ünïcode") == "files___n_code"


def test_a_long_name_is_cut_to_64_characters_and_kept_apart_by_a_hash() -> None:
    one, two = "a" * 80 + "_one", "a" * 80 + "_two"
    names = assign_names("server", [one, two])
    assert len(names) == 2 and all(GROQ_NAME.fullmatch(n) for n in names)
    assert sorted(names.values()) == sorted([one, two])


def test_names_that_map_alike_or_are_taken_get_a_stable_hash() -> None:
    first = assign_names("s", ["get.file", "get_file", "list"], taken=["s__list"])
    again = assign_names("s", ["list", "get_file", "get.file"], taken=["s__list"])
    assert first == again  # the order the server lists them in does not matter
    assert set(first.values()) == {"get.file", "get_file", "list"}
    assert "s__list" not in first and all(GROQ_NAME.fullmatch(n) for n in first)


SDK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "toolArguments",
    "properties": {
        "path": {"type": "string", "title": "Path"},
        "tail": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
        "edits": {"type": "array", "items": {"$ref": "#/$defs/Edit"}},
    },
    "required": ["path"],
    "$defs": {
        "Edit": {
            "type": "object",
            "properties": {"old": {"type": "string"}, "new": {"type": "string"}},
            "required": ["old", "new"],
        }
    },
}


def test_the_schemas_the_sdk_writes_are_accepted_and_their_arguments_checked() -> None:
    assert check_schema(SDK_SCHEMA) is SDK_SCHEMA
    edits = [{"old": "a", "new": "b"}]
    assert check_arguments(SDK_SCHEMA, {"path": "/x", "tail": None, "edits": edits}) == {
        "path": "/x",
        "edits": edits,
    }
    with pytest.raises(ArgumentError, match=r"argument 'tail' must be an integer"):
        check_arguments(SDK_SCHEMA, {"path": "/x", "tail": "ten"})
    with pytest.raises(ArgumentError, match=r"missing required member of argument 'edits'\[0\]"):
        check_arguments(SDK_SCHEMA, {"path": "/x", "edits": [{"old": "a"}]})
    with pytest.raises(ArgumentError, match="unknown argument 'colour'"):
        check_arguments(SDK_SCHEMA, {"path": "/x", "colour": "red"})


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ([], "the input schema is an array, not a JSON object"),
        ({"type": "string"}, 'must have "type": "object", not \'string\''),
        ({"type": "object", "properties": {"a": {"type": "date"}}}, "type voiced does not know"),
        ({"type": "object", "properties": {"a": {"$ref": "#/$defs/Nope"}}}, "leads nowhere"),
        ({"type": "object", "properties": {"a": {"$ref": "http://x/s.json"}}}, "only local"),
        ({"type": "object", "properties": {}, "required": ["b"]}, "'b' is required but not"),
        ({"type": "object", "properties": {"a": {"enum": []}}}, "enum must be a non-empty"),
        ({"type": "object", "properties": {"a": {"anyOf": "x"}}}, "anyOf must be a non-empty"),
        ({"type": "object", "properties": {"a": {"type": "array", "items": [{}]}}}, "tuple form"),
        ({"type": "object", "description": "x" * 20_000}, "at most 16,000 are offered"),
    ],
)
def test_a_schema_voiced_cannot_check_is_refused_with_the_reason(
    schema: object, reason: str
) -> None:
    with pytest.raises(SchemaError, match=re.escape(reason)):
        check_schema(schema)


def deep(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        node = {"type": "object", "properties": {"a": node}}
    return node


def test_a_schema_nested_too_deep_is_refused() -> None:
    check_schema(deep(15))
    with pytest.raises(SchemaError, match="more than 16 levels deep"):
        check_schema(deep(18))


SERVER = McpServerSettings(name="notes", command="notes-server")


async def no_call(tool: str, arguments: dict[str, Any]) -> CallOutcome:
    raise AssertionError("not called")


def listed(name: str, read_only: bool, schema: Any = None) -> ListedTool:
    return ListedTool(name, f"{name} things.", schema or {"type": "object"}, read_only)


@pytest.mark.parametrize(
    ("policy", "confirmed"),
    [("auto", {"notes__erase"}), ("always", {"notes__read", "notes__erase"}), ("never", set())],
)
def test_the_confirm_policy_follows_read_only_hints(policy: str, confirmed: set[str]) -> None:
    server = McpServerSettings(name="notes", command="x", confirm=policy)  # type: ignore[arg-type]
    tools, _ = make_tools(server, [listed("read", True), listed("erase", False)], no_call, ())
    assert {t.name for t in tools if t.confirm} == confirmed
    erase = next(t for t in tools if t.name == "notes__erase")
    assert erase.question({"id": 3}) == "Let the MCP server notes run erase (id=3)?"


def test_a_long_description_is_cut_and_still_names_the_server() -> None:
    long = ListedTool("read", "word " * 500, {"type": "object"}, True)
    (tool,), _ = make_tools(SERVER, [long], no_call, ())
    assert len(tool.description) <= 1024
    assert tool.description.endswith("[tool 'read' of the MCP server 'notes']")


@pytest.mark.parametrize(
    ("outcome", "for_model"),
    [
        (CallOutcome(("plain",)), "plain"),
        (CallOutcome(('{"n": 1}',), {"n": 1}), {"n": 1}),
        (CallOutcome(("hi",), {"result": "hi"}), "hi"),
        (CallOutcome(("a summary",), {"n": 1}), {"structured": {"n": 1}, "text": "a summary"}),
        (CallOutcome((), {"n": 1}), {"n": 1}),
    ],
)
def test_text_and_structured_results_go_back_without_repeating_themselves(
    outcome: CallOutcome, for_model: Any
) -> None:
    assert outcome.for_model() == for_model


def test_voiced_status_has_a_line_for_each_mcp_server() -> None:
    from voiced.commands.control import describe
    from voiced.protocol import McpServerLine, Status

    status = Status(
        state="listening",
        mode="always",
        ptt=False,
        chat_model="m",
        stt_model="w",
        barge_in=True,
        speculative=True,
        mcp=(
            McpServerLine(name="files", state="ready", tools=12, skipped=1),
            McpServerLine(name="web", state="failed", reason="cannot reach http://h/mcp"),
        ),
    )
    lines = describe(status).splitlines()
    assert "mcp:     files: ready, 12 tools, 1 skipped (`voiced tools` says why)" in lines
    assert (
        "mcp:     web: not available: cannot reach http://h/mcp (its tools are not offered; "
        "retrying)"
    ) in lines
