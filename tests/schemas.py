"""Validate Groq request bodies against the spec's request schemas copied into tests/data."""

# The schemas are tests/data/groq_request_schemas.json, made by scripts/extract_schemas.py from
# the Groq OpenAPI description. Schema failures raise jsonschema.ValidationError. A few rules the
# spec states only in prose (descriptions), or that the Groq API notes document, are checked
# after the schema and raise AssertionError; each says where it comes from.

import json
import math
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_FILE = Path(__file__).resolve().parent / "data" / "groq_request_schemas.json"
BASE_URI = "urn:voiced:tests:groq-request-schemas"
CHAT = "CreateChatCompletionRequest"
TRANSCRIPTION = "CreateTranscriptionRequest"
TRANSLATION = "CreateTranslationRequest"

# The file part's description lists flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav and webm; Groq's
# documentation (shared/reference/groq-api.md) adds opus. The server checks the file name's
# extension, so a wrong one is a 400 even with valid audio.
AUDIO_EXTENSIONS = frozenset(
    {"flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "opus", "wav", "webm"}
)
# groq-api.md: the prompt is limited to 224 tokens, enforced as at most 896 characters.
MAX_PROMPT_CHARS = 896


@cache
def schema_document() -> dict[str, Any]:
    """The whole extracted document: {"$schema", "source", "$defs"}."""
    document: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(document)
    return document


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(schema_document(), default_specification=DRAFT202012)
    return Registry().with_resource(BASE_URI, resource)


@cache
def validator_for(name: str) -> Draft202012Validator:
    """A cached validator for one schema in $defs, resolving its refs through the registry."""
    if name not in schema_document()["$defs"]:
        raise KeyError(f"{name} is not in {SCHEMA_FILE.name}")
    return Draft202012Validator({"$ref": f"{BASE_URI}#/$defs/{name}"}, registry=_registry())


def _validate(name: str, instance: Any) -> None:
    error = best_match(validator_for(name).iter_errors(instance))
    if error is not None:
        raise error


def _as_json(body: Any) -> Any:
    """Round-trip through JSON so the schema sees exactly what goes on the wire."""
    try:
        return json.loads(json.dumps(body, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"request body is not plain JSON: {exc}") from exc


def validate_chat_request(body: dict[str, Any]) -> None:
    """Check a POST /openai/v1/chat/completions JSON body."""
    instance = _as_json(body)
    _validate(CHAT, instance)
    # Prose rules from the spec's descriptions.
    if (
        instance.get("include_reasoning") is not None
        and instance.get("reasoning_format") is not None
    ):
        raise AssertionError("include_reasoning and reasoning_format are mutually exclusive")
    for index, message in enumerate(instance["messages"]):
        if message["role"] != "assistant" or message.get("content") is not None:
            continue
        if not message.get("tool_calls") and message.get("function_call") is None:
            raise AssertionError(
                f"messages[{index}]: an assistant message needs content unless it has tool_calls"
            )


def validate_transcription_form(
    fields: dict[str, list[str]], files: dict[str, tuple[str, str, bytes]]
) -> None:
    """Check a POST /openai/v1/audio/transcriptions multipart form (text fields and file parts)."""
    _validate_form(TRANSCRIPTION, fields, files)


def validate_translation_form(
    fields: dict[str, list[str]], files: dict[str, tuple[str, str, bytes]]
) -> None:
    """Check a POST /openai/v1/audio/translations multipart form (text fields and file parts)."""
    _validate_form(TRANSLATION, fields, files)


def _is_file_part(prop: Mapping[str, Any]) -> bool:
    # scripts/extract_schemas.py turns OpenAPI `format: binary` into this annotation.
    return "contentMediaType" in prop


def _types(prop: Mapping[str, Any]) -> list[str]:
    declared = prop.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def _from_text(prop: Mapping[str, Any], text: str) -> Any:
    """Parse one form value into the JSON type its schema wants; leave it a string if it won't
    parse, so the schema reports the type error."""
    types = _types(prop)
    try:
        if "integer" in types:
            return int(text)
        if "number" in types:
            return float(text)
    except ValueError:
        return text
    if "boolean" in types and text in ("true", "false"):
        return text == "true"
    return text


def form_to_instance(
    name: str, fields: Mapping[str, Sequence[str]], files: Mapping[str, tuple[str, str, bytes]]
) -> dict[str, Any]:
    """The JSON object a multipart form stands for under schema `name`.

    Text fields become typed values, `x[]` fields (sent once per item, as the OpenAI-style SDKs
    and Groq's docs do for `timestamp_granularities[]`) become the array property `x`, and a file
    part becomes a placeholder string for its binary property. Names the schema does not know
    are passed through unchanged so that `additionalProperties: false` rejects them.
    """
    schema = schema_document()["$defs"][name]
    props: Mapping[str, Any] = schema["properties"]
    instance: dict[str, Any] = {}
    for wire_name, values in fields.items():
        if isinstance(values, str | bytes) or not all(isinstance(v, str) for v in values):
            raise AssertionError(f"form field {wire_name!r}: values must be a list of str")
        key = wire_name.removesuffix("[]")
        prop = props.get(key)
        if prop is None:
            instance[wire_name] = list(values)
            continue
        if _is_file_part(prop):
            raise AssertionError(f"{key!r} must be sent as a file part, not a text field")
        if key in instance:
            raise AssertionError(f"form field {key!r} is sent both as {key!r} and {key + '[]'!r}")
        is_array = "array" in _types(prop)
        if is_array and wire_name == key:
            raise AssertionError(f"array field {key!r} must be sent as repeated {key + '[]'!r}")
        if not is_array and wire_name != key:
            raise AssertionError(f"form field {wire_name!r}: {key!r} is not an array property")
        if is_array:
            instance[key] = [_from_text(prop.get("items", {}), v) for v in values]
        elif len(values) != 1:
            raise AssertionError(f"form field {key!r} is sent {len(values)} times, expected once")
        else:
            instance[key] = _from_text(prop, values[0])
    for wire_name, part in files.items():
        if wire_name in fields:
            raise AssertionError(f"{wire_name!r} is sent both as a text field and a file part")
        filename, content_type, data = part
        prop = props.get(wire_name)
        if prop is not None and not _is_file_part(prop):
            raise AssertionError(f"{wire_name!r} must be a text field, not a file part")
        if not (isinstance(filename, str) and filename and isinstance(content_type, str)):
            raise AssertionError(f"file part {wire_name!r} needs a file name and a content type")
        if not isinstance(data, bytes) or not data:
            raise AssertionError(f"file part {wire_name!r} has no bytes")
        instance[wire_name] = f"<{len(data)} bytes from {filename}>"
    if schema.get("additionalProperties") is not False:
        # The spec's multipart schemas do say additionalProperties: false today; should a new
        # copy of the spec drop it, still refuse names the schema does not define.
        unknown = sorted(set(instance) - set(props))
        if unknown:
            raise AssertionError(f"{name}: unknown form fields {unknown}")
    return instance


def _validate_form(
    name: str, fields: Mapping[str, Sequence[str]], files: Mapping[str, tuple[str, str, bytes]]
) -> None:
    instance = form_to_instance(name, fields, files)
    _validate(name, instance)
    # Prose rules from the spec's descriptions, plus groq-api.md where noted at the constants.
    temperature = instance.get("temperature")
    if temperature is not None and not (math.isfinite(temperature) and 0 <= temperature <= 1):
        raise AssertionError(f"temperature must be between 0 and 1, got {temperature}")
    if "timestamp_granularities" in instance and instance.get("response_format") != "verbose_json":
        raise AssertionError("timestamp_granularities[] needs response_format=verbose_json")
    if len(instance.get("prompt", "")) > MAX_PROMPT_CHARS:
        raise AssertionError(f"prompt is longer than {MAX_PROMPT_CHARS} characters")
    if "file" in files:
        filename = files["file"][0]
        extension = filename.rpartition(".")[2].lower() if "." in filename else ""
        if extension not in AUDIO_EXTENSIONS:
            raise AssertionError(
                f"file name {filename!r} must end in one of {sorted(AUDIO_EXTENSIONS)}: Groq "
                "checks the upload type by its extension"
            )
