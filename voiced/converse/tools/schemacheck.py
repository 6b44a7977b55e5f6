"""Checking a tool's JSON schema written elsewhere (an MCP server's) before the model sees it.

voiced checks the model's arguments itself (:func:`voiced.converse.tools.schema.check_arguments`)
before any tool runs, so a schema it offers must be one that checker understands: an object of
properties whose types it knows, combined with ``anyOf``/``oneOf``/``allOf`` and local ``$ref``s.
Keywords that only narrow a value further (``minimum``, ``pattern``, ``format``…) are left to
the tool itself, as JSON Schema allows.
"""

from __future__ import annotations

import json
from typing import Any

MAX_SCHEMA_CHARS = 16_000
"""Longest parameters schema offered to the model, as JSON text."""
MAX_SCHEMA_DEPTH = 16
"""Deepest nesting of schemas within a schema."""
TYPES = frozenset({"string", "integer", "number", "boolean", "array", "object", "null"})
COMBINERS = ("anyOf", "oneOf", "allOf")
DEFINITIONS = ("$defs", "definitions")


class SchemaError(ValueError):
    """A tool's schema cannot be offered; the message says what is wrong with it."""


def check_schema(schema: object) -> dict[str, Any]:
    """Check a tool's ``parameters`` schema; return it when it can be offered.

    Raises:
        SchemaError: It is not an object schema, is too large or too deep, has a type voiced
            does not know, a ``$ref`` that leads nowhere, or a malformed keyword.
    """
    if not isinstance(schema, dict):
        raise SchemaError(f"the input schema is {_kind(schema)}, not a JSON object")
    try:
        size = len(json.dumps(schema, ensure_ascii=False))
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"the input schema is not JSON ({exc})") from None
    if size > MAX_SCHEMA_CHARS:
        raise SchemaError(
            f"the input schema is {size:,} characters long; at most "
            f"{MAX_SCHEMA_CHARS:,} are offered to the model"
        )
    if schema.get("type") != "object":
        raise SchemaError(
            f'the input schema must have "type": "object", not {schema.get("type")!r}'
        )
    for key in DEFINITIONS:
        defined = schema.get(key, {})
        if not isinstance(defined, dict):
            raise SchemaError(f"{key} must be an object of schemas")
        for name, sub in defined.items():
            _walk(sub, schema, f"{key}.{name}", 1)
    _walk(schema, schema, "the input schema", 0)
    return schema


def resolve(root: dict[str, Any], ref: object) -> Any:
    """The schema a local ``$ref`` (``#/$defs/Name`` or ``#/definitions/Name``) points at.

    Raises:
        SchemaError: It is not such a reference, or nothing is defined there.
    """
    if not isinstance(ref, str) or not ref.startswith("#/"):
        raise SchemaError(f"only local references (#/$defs/…) are supported, not {ref!r:.80}")
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise SchemaError(f"the reference {ref!r:.80} leads nowhere")
        node = node[part]
    return node


def _walk(node: object, root: dict[str, Any], where: str, depth: int) -> None:
    """Check one schema node and those inside it (definitions are checked on their own)."""
    if isinstance(node, bool):
        return
    if not isinstance(node, dict):
        raise SchemaError(f"{where} is {_kind(node)}, not a schema")
    if depth > MAX_SCHEMA_DEPTH:
        raise SchemaError(f"the input schema nests more than {MAX_SCHEMA_DEPTH} levels deep")
    if "$ref" in node:
        resolve(root, node["$ref"])
    kind = node.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not kinds or not all(isinstance(k, str) and k in TYPES for k in kinds):
            raise SchemaError(f"{where} has a type voiced does not know: {kind!r:.80}")
    if "enum" in node and not (isinstance(node["enum"], list) and node["enum"]):
        raise SchemaError(f"{where}: enum must be a non-empty array")
    properties = node.get("properties", {})
    if not isinstance(properties, dict):
        raise SchemaError(f"{where}: properties must be an object")
    for name, sub in properties.items():
        _walk(sub, root, f"{where}.{name}" if depth else f"the argument {name!r}", depth + 1)
    required = node.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise SchemaError(f"{where}: required must be an array of names")
    described = "properties" in node or depth == 0  # else other members may be allowed
    missing = [r for r in required if described and r not in properties]
    if missing:
        raise SchemaError(f"{where}: {missing[0]!r} is required but not described")
    if isinstance(node.get("items"), list):
        raise SchemaError(f"{where}: items as an array (tuple form) is not supported")
    for key in ("items", "additionalProperties"):
        if key in node:
            _walk(node[key], root, f"{where} {key}", depth + 1)
    for key in COMBINERS:
        if key in node:
            options = node[key]
            if not isinstance(options, list) or not options:
                raise SchemaError(f"{where}: {key} must be a non-empty array of schemas")
            for number, sub in enumerate(options, 1):
                _walk(sub, root, f"{where} ({key} option {number})", depth + 1)


def _kind(value: object) -> str:
    words = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    words |= {list: "an array", dict: "an object", type(None): "null"}
    return words.get(type(value), type(value).__name__)
