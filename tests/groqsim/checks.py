"""The checks Groq runs on a request before any model sees it (pure functions)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import unquote

from .models import (
    AUDIO_EXTENSIONS,
    CHAT_REQUEST_FIELDS,
    MAX_PROMPT_CHARS,
    SPEECH_INPUT_LIMIT,
    SPEECH_REQUEST_FIELDS,
    SPEECH_VOICES,
    TRANSLATION_MODEL,
)
from .replies import ErrorReply

API_PREFIX = "/openai/v1"
ROUTES: dict[tuple[str, str], str] = {
    ("POST", API_PREFIX + "/chat/completions"): "chat",
    ("POST", API_PREFIX + "/audio/transcriptions"): "transcriptions",
    ("POST", API_PREFIX + "/audio/translations"): "translations",
    ("POST", API_PREFIX + "/audio/speech"): "speech",
    ("GET", API_PREFIX + "/models"): "models",
}
ROUTE_NAMES: tuple[str, ...] = ("chat", "transcriptions", "translations", "models", "speech")
RESPONSE_FORMATS: tuple[str, ...] = ("json", "text", "verbose_json")


def match_route(method: str, path: str) -> tuple[str | None, str | None]:
    """The route name for a request, and the model id of GET /models/{id}."""
    route = ROUTES.get((method, path))
    if route is not None:
        return route, None
    prefix = API_PREFIX + "/models/"
    if method == "GET" and path.startswith(prefix) and len(path) > len(prefix):
        return "models", unquote(path[len(prefix) :])
    return None, None


def unknown_url(method: str, path: str) -> ErrorReply:
    """404 for a path Groq does not serve."""
    return ErrorReply(
        404,
        f"Unknown request URL: {method} {path}. Please check the URL for typos, or see the docs "
        "at https://console.groq.com/docs/",
        code="unknown_url",
    )


def check_auth(authorization: str | None, api_key: str | None) -> ErrorReply | None:
    """401 unless the request carries `Bearer <key>` (any key when api_key is None)."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return ErrorReply.unauthorized()
    if api_key is not None and token != api_key:
        return ErrorReply.unauthorized()
    return None


def model_ids(models: Collection[Mapping[str, Any]]) -> set[str]:
    """The ids of a model list."""
    return {str(m.get("id")) for m in models}


def check_model(
    model: object, models: Collection[Mapping[str, Any]], decommissioned: Collection[str]
) -> ErrorReply | None:
    """400 when missing or decommissioned, 404 when unknown."""
    if not isinstance(model, str) or not model:
        return ErrorReply(400, "property 'model' is missing", param="model")
    if model in decommissioned:
        return ErrorReply.decommissioned(model)
    if model not in model_ids(models):
        return ErrorReply.model_not_found(model)
    return None


def parse_json_request(
    body: bytes, strict_fields: bool, fields: Collection[str]
) -> tuple[ErrorReply | None, dict[str, Any]]:
    """Parse a JSON request body as Groq does: an object, and (strict) only known ``fields``."""
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return ErrorReply(400, f"failed to parse request body as JSON: {exc}"), {}
    if not isinstance(obj, dict):
        return ErrorReply(400, "request body must be a JSON object"), {}
    if strict_fields:
        unknown = sorted(set(obj) - set(fields))
        if unknown:
            return ErrorReply(400, f"property '{unknown[0]}' is unsupported", param=unknown[0]), obj
    return None, obj


def check_chat(
    body: bytes,
    strict_fields: bool,
    models: Collection[Mapping[str, Any]],
    decommissioned: Collection[str],
) -> tuple[ErrorReply | None, dict[str, Any]]:
    """Parse and check a chat request; returns (error or None, the request object)."""
    error, obj = parse_json_request(body, strict_fields, CHAT_REQUEST_FIELDS)
    if error is not None:
        return error, obj
    error = check_model(obj.get("model"), models, decommissioned)
    if error is not None:
        return error, obj
    messages = obj.get("messages")
    if not isinstance(messages, list) or not messages:
        return ErrorReply(400, "property 'messages' is missing", param="messages"), obj
    return None, obj


def check_speech(
    body: bytes,
    strict_fields: bool,
    models: Collection[Mapping[str, Any]],
    decommissioned: Collection[str],
) -> tuple[ErrorReply | None, dict[str, Any]]:
    """Parse and check a text-to-speech request; returns (error or None, the request)."""
    error, obj = parse_json_request(body, strict_fields, SPEECH_REQUEST_FIELDS)
    if error is not None:
        return error, obj
    model = obj.get("model")
    error = check_model(model, models, decommissioned)
    if error is not None:
        return error, obj
    voices = SPEECH_VOICES.get(str(model))
    if voices is None:
        return ErrorReply(400, f"model `{model}` does not support speech", param="model"), obj
    text = obj.get("input")
    if not isinstance(text, str) or not text.strip():
        return ErrorReply(400, "property 'input' is missing", param="input"), obj
    if len(text) > SPEECH_INPUT_LIMIT:
        return ErrorReply(
            400, f"input must be at most {SPEECH_INPUT_LIMIT} characters", param="input"
        ), obj
    if obj.get("voice") not in voices:
        return ErrorReply(
            400, f"voice must be one of [{', '.join(voices)}] for `{model}`", param="voice"
        ), obj
    if obj.get("response_format", "wav") != "wav":
        return ErrorReply(400, "response_format must be wav", param="response_format"), obj
    return None, obj


def check_audio(
    route: str,
    content_type: str,
    form: Mapping[str, list[str]],
    files: Mapping[str, tuple[str, str, bytes]],
    multipart_error: str | None,
    upload_limit: int,
    models: Collection[Mapping[str, Any]],
    decommissioned: Collection[str],
) -> ErrorReply | None:
    """Groq's checks on a transcription or translation upload."""
    if not content_type.lower().startswith("multipart/form-data"):
        return ErrorReply(400, "request Content-Type isn't multipart/form-data")
    if multipart_error is not None:
        return ErrorReply(400, f"could not parse multipart form: {multipart_error}")
    upload = files.get("file")
    if upload is not None and len(upload[2]) > upload_limit:
        return ErrorReply.too_large()
    model = first(form, "model")
    error = check_model(model, models, decommissioned)
    if error is not None:
        return error
    if upload is None and not first(form, "url"):
        return ErrorReply(400, "either file or url must be provided", param="file")
    if upload is not None:
        extension = upload[0].rsplit(".", 1)[-1].lower() if "." in upload[0] else ""
        if extension not in AUDIO_EXTENSIONS:
            allowed = " ".join(AUDIO_EXTENSIONS)
            return ErrorReply(
                400, f"file must be one of the following types: [{allowed}]", param="file"
            )
    response_format = first(form, "response_format") or "json"
    if response_format not in RESPONSE_FORMATS:
        return ErrorReply(
            400,
            f"response_format must be one of {', '.join(RESPONSE_FORMATS)}",
            param="response_format",
        )
    prompt = first(form, "prompt") or ""
    if len(prompt) > MAX_PROMPT_CHARS:
        return ErrorReply(
            400,
            f"prompt is too long: {len(prompt)} characters, at most {MAX_PROMPT_CHARS} "
            "(224 tokens) are allowed",
            param="prompt",
        )
    if route == "translations" and model != TRANSLATION_MODEL:
        return ErrorReply(
            400,
            f"model `{model}` does not support translations; use `{TRANSLATION_MODEL}`",
            param="model",
        )
    return None


def first(form: Mapping[str, list[str]], name: str) -> str | None:
    """The first value of a form field, or None."""
    values = form.get(name)
    return values[0] if values else None


def granularities(form: Mapping[str, list[str]]) -> list[str]:
    """The requested timestamp granularities (with or without the [] suffix)."""
    return [*form.get("timestamp_granularities[]", []), *form.get("timestamp_granularities", [])]
