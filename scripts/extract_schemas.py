"""Copy the Groq request schemas from the OpenAPI 3.0 YAML to tests/data as JSON Schema 2020-12."""

# Run by hand (needs PyYAML) whenever the reference spec changes:
#     python scripts/extract_schemas.py            # rewrite tests/data/groq_request_schemas.json
#     python scripts/extract_schemas.py --check    # exit 1 if the committed copy is stale
#
# Conversion rules (OpenAPI 3.0 Schema Object -> JSON Schema draft 2020-12):
# - `#/components/schemas/X` refs become `#/$defs/X`; only the three request schemas and what
#   they reference (transitively) are copied.
# - `nullable: true` allows null. On a schema with only `type` (and maybe `enum`), "null" is added
#   to `type` and `None` to `enum`. On a schema that also has `$ref`/`allOf`/`anyOf`/`oneOf`/`not`,
#   the schema is wrapped as `anyOf: [{type: null}, <schema>]` with the annotations kept outside,
#   because adding "null" to `type` would still be rejected by the composed branches.
#   `nullable: false` is dropped.
# - `format: binary` (multipart file parts) becomes `contentMediaType: application/octet-stream`
#   on a string, so a multipart form can be validated with a placeholder string for the file.
# - `example`, `discriminator`, `externalDocs`, `xml` and every `x-*` extension are dropped;
#   boolean `exclusiveMinimum`/`exclusiveMaximum` become the numeric 2020-12 form.
# - `additionalProperties` is kept exactly as written: Groq rejects undocumented fields with 400.
# - Any keyword not listed here makes the script fail rather than copy it silently.

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOTS = ("CreateChatCompletionRequest", "CreateTranscriptionRequest", "CreateTranslationRequest")
REPO = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = REPO.parent / "shared" / "reference" / "groq-openapi.yaml"
DEFAULT_OUTPUT = REPO / "tests" / "data" / "groq_request_schemas.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
OPENAPI_REF = "#/components/schemas/"
JSON_REF = "#/$defs/"

ANNOTATIONS = {"title", "description", "default", "deprecated", "readOnly", "writeOnly"}
PLAIN = {
    "type",
    "enum",
    "required",
    "minimum",
    "maximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
}
COMPOSITION = {"$ref", "allOf", "anyOf", "oneOf", "not"}
DROPPED = {"example", "discriminator", "externalDocs", "xml"}


def _ref_target(ref: str) -> str:
    if not ref.startswith(OPENAPI_REF):
        raise ValueError(f"unsupported $ref {ref!r}: only {OPENAPI_REF}* is handled")
    return ref[len(OPENAPI_REF) :]


def convert(node: Any, where: str) -> Any:
    """Return the JSON Schema 2020-12 form of one OpenAPI 3.0 Schema Object."""
    if isinstance(node, bool):
        return node
    if not isinstance(node, dict):
        raise TypeError(f"{where}: schema is a {type(node).__name__}, not an object")
    out: dict[str, Any] = {}
    nullable = False
    for key, value in node.items():
        here = f"{where}/{key}"
        if key.startswith("x-") or key in DROPPED:
            continue
        if key == "nullable":
            nullable = bool(value)
        elif key in ANNOTATIONS or key in PLAIN:
            if key == "format" and value == "binary":
                out["contentMediaType"] = "application/octet-stream"
            else:
                out[key] = value
        elif key == "$ref":
            out[key] = JSON_REF + _ref_target(value)
        elif key == "properties":
            out[key] = {name: convert(sub, f"{here}/{name}") for name, sub in value.items()}
        elif key in ("items", "not"):
            out[key] = convert(value, here)
        elif key == "additionalProperties":
            out[key] = value if isinstance(value, bool) else convert(value, here)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [convert(sub, f"{here}/{i}") for i, sub in enumerate(value)]
        elif key in ("exclusiveMinimum", "exclusiveMaximum"):
            if not isinstance(value, bool):
                out[key] = value
        else:
            raise ValueError(f"{where}: keyword {key!r} has no conversion rule")
    # OpenAPI 3.0 spells an exclusive bound as `minimum: 1, exclusiveMinimum: true`.
    for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if node.get(key) is True:
            out[key] = out.pop(bound)
    if "$ref" in out and set(out) - ANNOTATIONS - {"$ref"}:
        # OpenAPI 3.0 ignores $ref siblings; JSON Schema 2020-12 applies them. Refuse to guess.
        raise ValueError(f"{where}: $ref with validation siblings {sorted(set(out) - {'$ref'})}")
    if nullable:
        out = _allow_null(out)
    return out


def _allow_null(schema: dict[str, Any]) -> dict[str, Any]:
    if not COMPOSITION & set(schema):
        if "type" not in schema:
            return schema  # no type constraint: null is already allowed
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        result = dict(schema, type=[*types, "null"] if "null" not in types else types)
        if "enum" in schema and None not in schema["enum"]:
            result["enum"] = [*schema["enum"], None]
        return result
    outer = {k: v for k, v in schema.items() if k in ANNOTATIONS}
    inner = {k: v for k, v in schema.items() if k not in ANNOTATIONS}
    outer["anyOf"] = [{"type": "null"}, inner]
    return outer


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(_ref_target(value))
            else:
                found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def build(spec_path: Path) -> dict[str, Any]:
    raw = spec_path.read_bytes()
    spec = yaml.safe_load(raw)
    if not str(spec.get("openapi", "")).startswith("3.0"):
        raise ValueError(f"{spec_path}: expected OpenAPI 3.0.x, got {spec.get('openapi')!r}")
    components = spec["components"]["schemas"]
    wanted: set[str] = set()
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        if name not in components:
            raise KeyError(f"{spec_path}: components/schemas/{name} is missing")
        wanted.add(name)
        todo.extend(_refs(components[name]) - wanted)
    info = spec.get("info", {})
    source = (
        f"Generated by scripts/extract_schemas.py from {spec_path.name} "
        f"({info.get('title', '?')}, info.version {info.get('version', '?')}, "
        f"OpenAPI {spec['openapi']}, sha256 {hashlib.sha256(raw).hexdigest()}): "
        f"{', '.join(ROOTS)} and the schemas they reference, as JSON Schema 2020-12. "
        "Do not edit by hand; re-run the script."
    )
    defs = {name: convert(components[name], f"#/components/schemas/{name}") for name in wanted}
    return {"$schema": DIALECT, "source": source, "$defs": defs}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="OpenAPI 3.0 YAML")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON file to write")
    parser.add_argument(
        "--check", action="store_true", help="do not write; exit 1 if the output is out of date"
    )
    args = parser.parse_args(argv)
    document = build(args.spec)
    text = render(document)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; run scripts/extract_schemas.py", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(document['$defs'])} schemas)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
