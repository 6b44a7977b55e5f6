"""Frozen settings loaded from TOML in the XDG config dir, overridden by the environment."""

from __future__ import annotations

import os
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from voiced.credentials import Secret, load_api_key
from voiced.errors import ConfigError

GROQ_API_ROOT = "https://api.groq.com/openai/v1"
"""The Groq API root every endpoint path is joined to."""

ReasoningEffort = Literal["low", "medium", "high"]


@dataclass(frozen=True)
class ChatSettings:
    """Settings for chat completions."""

    base_url: str = GROQ_API_ROOT
    """API root for chat (any OpenAI-compatible server works, e.g. http://localhost:8000/v1)."""
    model: str = "openai/gpt-oss-20b"
    """Chat model id."""
    temperature: float | None = None
    """Sampling temperature 0–2; unset uses the model's default."""
    max_completion_tokens: int | None = None
    """Upper bound on tokens in one reply; unset uses the model's limit."""
    reasoning_effort: ReasoningEffort | None = None
    """gpt-oss reasoning effort (low, medium, high); unset uses the model's default."""


@dataclass(frozen=True)
class SttSettings:
    """Settings for speech to text."""

    base_url: str = GROQ_API_ROOT
    """API root for transcription and translation."""
    model: str = "whisper-large-v3-turbo"
    """Transcription model id."""
    translation_model: str = "whisper-large-v3"
    """Translation model id (on Groq only whisper-large-v3 translates)."""
    language: str | None = None
    """ISO-639-1 language of the speech (e.g. "en"); unset lets Whisper detect it."""
    prompt: str | None = None
    """Vocabulary hint sent with every request (at most 896 characters)."""
    upload_limit_mb: float = 25.0
    """Largest file sent in one request, in MB (25 on Groq's free tier, 100 on paid tiers)."""


@dataclass(frozen=True)
class NetworkSettings:
    """Settings for every HTTP request."""

    timeout: float = 60.0
    """Seconds to wait for a response before the request counts as timed out."""
    connect_timeout: float = 5.0
    """Seconds to wait for a connection."""
    max_retries: int = 2
    """Retries after a 408, 409, 429, 5xx, timeout or connection error."""


@dataclass(frozen=True)
class Settings:
    """Everything voiced reads from its config file, credentials and environment."""

    chat: ChatSettings = field(default_factory=ChatSettings)
    stt: SttSettings = field(default_factory=SttSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    api_key: Secret | None = None
    """The Groq API key (GROQ_API_KEY or the credentials file); never in config.toml."""
    api_key_source: str = ""
    """Where the key came from, for ``voiced config``."""
    config_path: Path | None = None
    """The config file that was read, or None when there was none."""


SECTIONS: dict[str, type[Any]] = {
    "chat": ChatSettings,
    "stt": SttSettings,
    "network": NetworkSettings,
}


def config_dir(env: typing.Mapping[str, str] | None = None) -> Path:
    """Return voiced's config directory, ``$XDG_CONFIG_HOME/voiced``.

    Args:
        env: The environment to read; defaults to ``os.environ``.
    """
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "voiced"


def config_path(env: typing.Mapping[str, str] | None = None) -> Path:
    """Return the config file to read: ``$VOICED_CONFIG`` or ``<config dir>/config.toml``."""
    env = os.environ if env is None else env
    named = env.get("VOICED_CONFIG")
    return Path(named) if named else config_dir(env) / "config.toml"


def load_settings(env: typing.Mapping[str, str] | None = None) -> Settings:
    """Load settings from the config file, the credentials file and the environment.

    Precedence: ``GROQ_API_KEY`` over the credentials file; a ``base_url`` set in the file
    over ``GROQ_BASE_URL`` over the default (the more specific setting wins).

    Args:
        env: The environment to read; defaults to ``os.environ``.

    Returns:
        The effective settings. The API key may be None: commands that need it ask for it.

    Raises:
        ConfigError: The file is malformed, has an unknown key or a value of the wrong type,
            or the credentials file is readable by others.
    """
    env = os.environ if env is None else env
    path = config_path(env)
    raw = _read_toml(path, must_exist="VOICED_CONFIG" in env)
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in SECTIONS:
            raise ConfigError(
                f"{path}: unknown section [{name}]",
                f"expected one of {', '.join('[' + s + ']' for s in SECTIONS)}",
            )
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {name} must be a [{name}] table, got {_kind(value)}")
        sections[name] = _build(path, name, SECTIONS[name], value)

    base_override = env.get("GROQ_BASE_URL", "").rstrip("/")
    for name in ("chat", "stt"):
        section = sections.get(name) or SECTIONS[name]()
        if base_override and "base_url" not in raw.get(name, {}):
            section = replace(section, base_url=base_override + "/openai/v1")
        sections[name] = section

    key, source = load_api_key(env, config_dir(env) / "credentials")
    return Settings(
        **sections,
        api_key=key,
        api_key_source=source,
        config_path=path if path.exists() else None,
    )


def _read_toml(path: Path, must_exist: bool) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        if must_exist:
            raise ConfigError(
                f"{path}: no such config file", "fix VOICED_CONFIG or create the file"
            ) from None
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc


def _build(path: Path, section: str, cls: type[Any], values: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    known = [f.name for f in fields(cls)]
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(
                f"{path}: unknown key [{section}] {key}", f"expected one of {', '.join(known)}"
            )
        expected = hints[key]
        if not _matches(value, expected):
            raise ConfigError(
                f"{path}: [{section}] {key} must be {_describe(expected)}, "
                f"got {_kind(value)} {value!r}"
            )
        kwargs[key] = float(value) if _wants_float(expected) and isinstance(value, int) else value
    return cls(**kwargs)


def _options(tp: Any) -> tuple[Any, ...]:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return tuple(a for a in typing.get_args(tp) if a is not type(None))
    return (tp,)


def _matches(value: Any, tp: Any) -> bool:
    for option in _options(tp):
        if typing.get_origin(option) is Literal:
            if value in typing.get_args(option):
                return True
        elif option is float:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return True
        elif option is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return True
        elif isinstance(value, option):
            return True
    return False


def _wants_float(tp: Any) -> bool:
    return float in _options(tp)


def _describe(tp: Any) -> str:
    words = []
    for option in _options(tp):
        if typing.get_origin(option) is Literal:
            words.append("one of " + ", ".join(repr(a) for a in typing.get_args(option)))
        else:
            words.append(
                {str: "a string", int: "an integer", float: "a number"}.get(option, option.__name__)
            )
    return " or ".join(words)


def _kind(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)
