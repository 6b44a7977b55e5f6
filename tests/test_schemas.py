"""The request-schema validators accept what Groq documents and reject what it would refuse."""

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

from tests.schemas import (
    CHAT,
    SCHEMA_FILE,
    TRANSCRIPTION,
    TRANSLATION,
    form_to_instance,
    schema_document,
    validate_chat_request,
    validate_transcription_form,
    validate_translation_form,
    validator_for,
)

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO.parent / "shared" / "reference" / "groq-openapi.yaml"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": False,
    },
}
TOOL_CALL = {
    "id": "call_abc123",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
}
CONVERSATION = [
    {"role": "system", "content": "You are a terse voice assistant."},
    {"role": "developer", "content": [{"type": "text", "text": "Answer in one sentence."}]},
    {"role": "user", "content": "What's the weather in Oslo?", "name": "alice"},
    {"role": "assistant", "tool_calls": [TOOL_CALL]},
    {"role": "tool", "tool_call_id": "call_abc123", "content": '{"temp_c": 4, "sky": "rain"}'},
    {"role": "assistant", "content": "Four degrees and raining."},
    {"role": "user", "content": [{"type": "text", "text": "And tomorrow?"}]},
]


def chat(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "openai/gpt-oss-20b",
        "messages": copy.deepcopy(CONVERSATION),
    }
    body.update(overrides)
    return body


VALID_CHAT = {
    "minimal": {"model": "openai/gpt-oss-20b", "messages": [{"role": "user", "content": "Hi"}]},
    "gpt-oss tools streaming": chat(
        tools=[WEATHER_TOOL],
        tool_choice="auto",
        parallel_tool_calls=True,
        stop=["\n\nUser:", "</answer>"],
        seed=42,
        temperature=0.6,
        top_p=0.95,
        max_completion_tokens=1024,
        reasoning_effort="low",
        include_reasoning=False,
        stream=True,
        user="voiced",
        service_tier="on_demand",
    ),
    "named tool choice": chat(
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    ),
    "qwen parsed reasoning": chat(
        model="qwen/qwen3.6-27b",
        reasoning_format="parsed",
        reasoning_effort="default",
        stop="\n",
        temperature=0,
        top_p=1,
        n=1,
    ),
    "json_object": chat(
        response_format={"type": "json_object"},
        reasoning_format="hidden",
        temperature=2,
    ),
    "json_schema": chat(
        response_format={
            "type": "json_schema",
            "json_schema": {
                "name": "weather",
                "description": "A weather report.",
                "schema": {
                    "type": "object",
                    "properties": {"temp_c": {"type": "number"}},
                    "required": ["temp_c"],
                },
                "strict": True,
            },
        },
    ),
    "explicit nulls": chat(
        tool_choice=None,
        stop=None,
        response_format=None,
        seed=None,
        temperature=None,
        reasoning_effort=None,
        include_reasoning=None,
        service_tier=None,
        max_completion_tokens=None,
        stream=None,
        tools=None,
    ),
    "assistant content null with tool_calls": chat(
        messages=[
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]},
            {"role": "tool", "tool_call_id": "call_abc123", "content": "sunny"},
        ]
    ),
    "assistant with earlier reasoning": chat(
        messages=[
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!", "reasoning": "Greet back."},
            {"role": "user", "content": "Bye"},
        ]
    ),
}


@pytest.mark.parametrize("body", VALID_CHAT.values(), ids=VALID_CHAT.keys())
def test_valid_chat_requests_pass(body: dict[str, Any]) -> None:
    validate_chat_request(body)


def test_every_message_role_is_covered() -> None:
    roles = {m["role"] for body in VALID_CHAT.values() for m in body["messages"]}
    assert roles >= {"system", "developer", "user", "assistant", "tool"}


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


def _message(body: dict[str, Any], index: int, message: dict[str, Any]) -> dict[str, Any]:
    body["messages"][index] = message
    return body


# Each case: the body, and the path of the offending value (best_match may report the error on
# a message or deeper inside it, so the path is compared as a prefix).
INVALID_CHAT = {
    "unknown top-level field": (chat(temperture=0.5), []),
    "stream_options is not in the spec": (
        chat(stream=True, stream_options={"include_usage": True}),
        [],
    ),
    "missing model": (_without(chat(), "model"), []),
    "missing messages": (_without(chat(), "messages"), []),
    "empty messages": (chat(messages=[]), ["messages"]),
    "unknown role": (_message(chat(), 2, {"role": "narrator", "content": "Hi"}), ["messages", 2]),
    "tool message without tool_call_id": (
        _message(chat(), 4, {"role": "tool", "content": "sunny"}),
        ["messages", 4],
    ),
    "tool message without content": (
        _message(chat(), 4, {"role": "tool", "tool_call_id": "call_abc123"}),
        ["messages", 4],
    ),
    "user message with null content": (
        _message(chat(), 2, {"role": "user", "content": None}),
        ["messages", 2],
    ),
    "user message with an extra field": (
        _message(chat(), 2, {"role": "user", "content": "Hi", "tool_call_id": "x"}),
        ["messages", 2],
    ),
    "temperature 3": (chat(temperature=3), ["temperature"]),
    "temperature as a string": (chat(temperature="0.5"), ["temperature"]),
    "top_p above 1": (chat(top_p=1.5), ["top_p"]),
    "n of 2": (chat(n=2), ["n"]),
    "five stop sequences": (chat(stop=["a", "b", "c", "d", "e"]), ["stop"]),
    "unknown reasoning_effort": (chat(reasoning_effort="extreme"), ["reasoning_effort"]),
    "unknown reasoning_format": (chat(reasoning_format="verbose"), ["reasoning_format"]),
    "include_reasoning as a string": (chat(include_reasoning="yes"), ["include_reasoning"]),
    "max_completion_tokens as a float": (
        chat(max_completion_tokens=10.5),
        ["max_completion_tokens"],
    ),
    "unknown response_format type": (chat(response_format={"type": "xml"}), ["response_format"]),
    "json_schema without its name": (
        chat(response_format={"type": "json_schema", "json_schema": {"schema": {}}}),
        ["response_format"],
    ),
    "unknown tool_choice": (chat(tool_choice="sometimes"), ["tool_choice"]),
    "tools is not a list": (chat(tools=WEATHER_TOOL), ["tools"]),
    "too many tools": (chat(tools=[WEATHER_TOOL] * 129), ["tools"]),
    "tool call without its id": (
        _message(
            chat(),
            3,
            {
                "role": "assistant",
                "tool_calls": [{k: v for k, v in TOOL_CALL.items() if k != "id"}],
            },
        ),
        ["messages", 3],
    ),
}


@pytest.mark.parametrize(("body", "path"), INVALID_CHAT.values(), ids=INVALID_CHAT.keys())
def test_invalid_chat_requests_fail(body: dict[str, Any], path: list[Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_chat_request(body)
    assert list(caught.value.absolute_path)[: len(path)] == path, caught.value


def test_unknown_field_error_names_the_field() -> None:
    with pytest.raises(ValidationError, match="temperture"):
        validate_chat_request(chat(temperture=0.5))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            chat(include_reasoning=True, reasoning_format="parsed"),
            "mutually exclusive",
        ),
        (
            _message(chat(), 3, {"role": "assistant"}),
            "needs content unless it has tool_calls",
        ),
        (
            _message(chat(), 3, {"role": "assistant", "content": None, "tool_calls": []}),
            "needs content unless it has tool_calls",
        ),
        (chat(temperature=float("nan")), "not plain JSON"),
        (chat(seed=object()), "not plain JSON"),
    ],
    ids=["reasoning both ways", "empty assistant", "assistant with no tool calls", "nan", "obj"],
)
def test_chat_prose_rules_fail(body: dict[str, Any], message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        validate_chat_request(body)


def test_tuples_are_checked_as_json_arrays() -> None:
    validate_chat_request(chat(stop=("\n", "User:")))


AUDIO = ("speech.flac", "audio/flac", b"fLaC\x00\x00\x00\x22")


def form(**fields: str | list[str]) -> dict[str, list[str]]:
    base: dict[str, str | list[str]] = {"model": "whisper-large-v3-turbo"}
    base.update(fields)
    return {k: v if isinstance(v, list) else [v] for k, v in base.items()}


def test_valid_transcription_forms_pass() -> None:
    validate_transcription_form(form(), {"file": AUDIO})
    validate_transcription_form(
        form(
            language="en",
            prompt="Voiced, Groq, Whisper.",
            response_format="verbose_json",
            temperature="0",
            **{"timestamp_granularities[]": ["word", "segment"]},
        ),
        {"file": AUDIO},
    )
    validate_transcription_form(
        form(response_format="text", temperature="0.2"),
        {"file": ("clip.WAV", "audio/wav", b"RIFF....WAVE")},
    )
    validate_transcription_form(form(url="https://example.com/a.mp3"), {})


def test_form_fields_become_typed_json() -> None:
    instance = form_to_instance(
        TRANSCRIPTION,
        form(temperature="0.25", **{"timestamp_granularities[]": ["word"]}),
        {"file": AUDIO},
    )
    assert instance["temperature"] == 0.25
    assert instance["timestamp_granularities"] == ["word"]
    assert isinstance(instance["file"], str)


def test_valid_translation_forms_pass() -> None:
    validate_translation_form(
        form(model="whisper-large-v3", prompt="In English.", response_format="json"),
        {"file": ("clip.mp3", "audio/mpeg", b"ID3\x04")},
    )
    validate_translation_form(form(model="whisper-large-v3", temperature="1"), {"file": AUDIO})


INVALID_FORMS = {
    "unknown field": (TRANSCRIPTION, form(speed="fast"), {"file": AUDIO}),
    "unknown array field": (TRANSCRIPTION, form(**{"tags[]": ["a"]}), {"file": AUDIO}),
    "unknown file part": (
        TRANSCRIPTION,
        form(),
        {"file": AUDIO, "extra": ("b.flac", "audio/flac", b"x")},
    ),
    "missing model": (TRANSCRIPTION, {}, {"file": AUDIO}),
    "neither file nor url": (TRANSCRIPTION, form(), {}),
    "both file and url": (TRANSCRIPTION, form(url="https://example.com/a.mp3"), {"file": AUDIO}),
    "temperature not a number": (TRANSCRIPTION, form(temperature="warm"), {"file": AUDIO}),
    "unknown response_format": (TRANSCRIPTION, form(response_format="srt"), {"file": AUDIO}),
    "unknown granularity": (
        TRANSCRIPTION,
        form(response_format="verbose_json", **{"timestamp_granularities[]": ["sentence"]}),
        {"file": AUDIO},
    ),
    "translation has no language": (TRANSLATION, form(language="de"), {"file": AUDIO}),
    "translation has no granularities": (
        TRANSLATION,
        form(response_format="verbose_json", **{"timestamp_granularities[]": ["word"]}),
        {"file": AUDIO},
    ),
}


@pytest.mark.parametrize(("name", "fields", "files"), INVALID_FORMS.values(), ids=INVALID_FORMS)
def test_invalid_forms_fail_the_schema(
    name: str, fields: dict[str, list[str]], files: dict[str, tuple[str, str, bytes]]
) -> None:
    validate = validate_transcription_form if name == TRANSCRIPTION else validate_translation_form
    with pytest.raises(ValidationError):
        validate(fields, files)


def test_unknown_form_field_error_names_the_field() -> None:
    with pytest.raises(ValidationError, match="speed"):
        validate_transcription_form(form(speed="fast"), {"file": AUDIO})


INVALID_FORM_SHAPES = {
    "file sent as text": (form(file="speech.flac"), {}, "file part"),
    "model sent as file": ({}, {"file": AUDIO, "model": AUDIO}, "text field"),
    "granularities without []": (
        form(response_format="verbose_json", timestamp_granularities="word"),
        {"file": AUDIO},
        "repeated",
    ),
    "scalar sent with []": (form(**{"language[]": ["en"]}), {"file": AUDIO}, "not an array"),
    "scalar sent twice": (form(language=["en", "de"]), {"file": AUDIO}, "2 times"),
    "temperature above 1": (form(temperature="1.5"), {"file": AUDIO}, "between 0 and 1"),
    "granularities without verbose_json": (
        form(**{"timestamp_granularities[]": ["word"]}),
        {"file": AUDIO},
        "verbose_json",
    ),
    "prompt too long": (form(prompt="x" * 897), {"file": AUDIO}, "896"),
    "unsupported extension": (form(), {"file": ("speech.raw", "audio/x-raw", b"\0")}, "extension"),
    "no extension": (form(), {"file": ("speech", "audio/flac", b"\0")}, "extension"),
    "empty file": (form(), {"file": ("speech.flac", "audio/flac", b"")}, "no bytes"),
    "values not a list": ({"model": "whisper-large-v3"}, {"file": AUDIO}, "list of str"),
}


@pytest.mark.parametrize(
    ("fields", "files", "message"), INVALID_FORM_SHAPES.values(), ids=INVALID_FORM_SHAPES
)
def test_invalid_form_shapes_fail(
    fields: dict[str, list[str]], files: dict[str, tuple[str, str, bytes]], message: str
) -> None:
    with pytest.raises(AssertionError, match=message):
        validate_transcription_form(fields, files)


def test_schema_file_is_a_2020_12_document_without_openapi_leftovers() -> None:
    document = schema_document()
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "groq-openapi.yaml" in document["source"]
    assert "info.version" in document["source"]
    Draft202012Validator.check_schema(document)
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    assert text == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    refs: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                assert key not in ("nullable", "example", "discriminator"), key
                assert not key.startswith("x-"), key
                if key == "$ref":
                    refs.add(value)
                elif key == "properties":
                    for sub in value.values():
                        walk(sub)
                elif key not in ("enum", "default", "const"):
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document["$defs"])
    assert refs, "no $refs at all: the extraction lost the structure"
    for ref in refs:
        assert ref.startswith("#/$defs/"), ref
        assert ref.removeprefix("#/$defs/") in document["$defs"], ref


@pytest.mark.parametrize("name", [CHAT, TRANSCRIPTION, TRANSLATION])
def test_request_schemas_are_closed(name: str) -> None:
    assert schema_document()["$defs"][name]["additionalProperties"] is False
    assert validator_for(name) is validator_for(name)


def test_spec_facts_the_client_relies_on() -> None:
    defs = schema_document()["$defs"]
    chat_props = defs[CHAT]["properties"]
    for name in (
        "include_reasoning",
        "reasoning_effort",
        "reasoning_format",
        "max_completion_tokens",
        "parallel_tool_calls",
    ):
        assert name in chat_props, name
    assert "stream_options" not in chat_props
    assert set(defs["ChatCompletionRequestToolMessage"]["required"]) == {
        "role",
        "content",
        "tool_call_id",
    }
    assert defs["ChatCompletionRequestAssistantMessage"]["required"] == ["role"]
    assert "timestamp_granularities" in defs[TRANSCRIPTION]["properties"]
    assert "timestamp_granularities" not in defs[TRANSLATION]["properties"]


@pytest.mark.subprocess
@pytest.mark.skipif(not SPEC.exists(), reason="shared/reference/groq-openapi.yaml is not present")
@pytest.mark.skipif(importlib.util.find_spec("yaml") is None, reason="PyYAML is not installed")
def test_schema_file_matches_the_reference_spec() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "extract_schemas.py"), "--check", "--spec", SPEC],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
