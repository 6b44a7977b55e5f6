"""The whole Settings: sections from the TOML file, the key, the environment."""

from __future__ import annotations

import os
import typing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from voiced.config.api import ChatSettings, NetworkSettings, SttSettings
from voiced.config.assistant import ConversationSettings, DaemonSettings, ToolSettings
from voiced.config.audio import AudioSettings, ListenSettings, SpeechSettings
from voiced.config.checks import Url
from voiced.config.mcp import McpSettings
from voiced.config.tomlfile import build_section, kind_of, read_toml, shown_name
from voiced.config.wake import WakeSettings
from voiced.credentials import Secret, load_api_key
from voiced.errors import ConfigError


@dataclass(frozen=True)
class Settings:
    """Everything voiced reads from its config file, credentials and environment."""

    chat: ChatSettings = field(default_factory=ChatSettings)
    stt: SttSettings = field(default_factory=SttSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    conversation: ConversationSettings = field(default_factory=ConversationSettings)
    tools: ToolSettings = field(default_factory=ToolSettings)
    listen: ListenSettings = field(default_factory=ListenSettings)
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    wake: WakeSettings = field(default_factory=WakeSettings)
    mcp: McpSettings = field(default_factory=McpSettings)
    api_key: Secret | None = None
    """The Groq API key (GROQ_API_KEY or the credentials file); never in config.toml."""
    api_key_source: str = ""
    """Where the key came from, for ``voiced config``."""
    config_path: Path | None = None
    """The config file that was read, or None when there was none."""

    def __post_init__(self) -> None:
        if self.daemon.speculate_after_ms >= self.listen.hangover_ms:
            raise ConfigError(
                f"[daemon] speculate_after_ms ({self.daemon.speculate_after_ms}) must be shorter "
                f"than [listen] hangover_ms ({self.listen.hangover_ms})"
            )

    @property
    def daemon_listen(self) -> ListenSettings:
        """``[listen]`` as the daemon segments with it: when it speculates, its tentative end
        comes after ``[daemon] speculate_after_ms`` of silence."""
        if not self.daemon.speculative:
            return self.listen
        return replace(self.listen, tentative_end_ms=self.daemon.speculate_after_ms)


SECTIONS: dict[str, type[Any]] = {
    "chat": ChatSettings,
    "stt": SttSettings,
    "network": NetworkSettings,
    "audio": AudioSettings,
    "conversation": ConversationSettings,
    "tools": ToolSettings,
    "listen": ListenSettings,
    "speech": SpeechSettings,
    "daemon": DaemonSettings,
    "wake": WakeSettings,
    "mcp": McpSettings,
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


def data_dir(env: typing.Mapping[str, str] | None = None) -> Path:
    """Return voiced's data directory, ``$XDG_DATA_HOME/voiced`` (history, timers, notes).

    Args:
        env: The environment to read; defaults to ``os.environ``.
    """
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(
        Path(env.get("HOME", "~")).expanduser() / ".local" / "share"
    )
    return Path(base) / "voiced"


def groq_base_url(env: typing.Mapping[str, str]) -> str:
    """``GROQ_BASE_URL`` without its trailing slash, or "" when unset.

    Raises:
        ConfigError: It is not an http or https URL with a host.
    """
    value = env.get("GROQ_BASE_URL", "").strip().rstrip("/")
    if value and not Url().fits(value):
        raise ConfigError(
            f"the environment variable GROQ_BASE_URL must be {Url().words}, "
            f"got {Url().show(value)}",
            "set it to the server without /openai/v1, e.g. https://api.groq.com, or unset it",
        )
    return value


def load_settings(env: typing.Mapping[str, str] | None = None) -> Settings:
    """Load settings from the config file, the credentials file and the environment.

    Precedence: ``GROQ_API_KEY`` over the credentials file; a ``base_url`` set in the file
    over ``GROQ_BASE_URL`` over the default (the more specific setting wins).

    Args:
        env: The environment to read; defaults to ``os.environ``.

    Returns:
        The effective settings. The API key may be None: commands that need it ask for it.

    Raises:
        ConfigError: The file is malformed, has an unknown key, a value of the wrong type or
            out of its range; GROQ_BASE_URL is not a URL; the credentials file is readable by
            others or cannot be read as one.
    """
    env = os.environ if env is None else env
    path = config_path(env)
    raw = read_toml(path, must_exist="VOICED_CONFIG" in env)
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in SECTIONS:
            raise ConfigError(
                f"{path}: unknown section [{shown_name(name)}]",
                f"expected one of {', '.join('[' + s + ']' for s in SECTIONS)}",
            )
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {name} must be a [{name}] table, got {kind_of(value)}")
        sections[name] = build_section(path, name, SECTIONS[name], value)

    base_override = groq_base_url(env)
    for name in ("chat", "stt"):
        section = sections.get(name) or SECTIONS[name]()
        if base_override and "base_url" not in raw.get(name, {}):
            section = replace(section, base_url=base_override + "/openai/v1")
        sections[name] = section

    key, source = load_api_key(env, config_dir(env) / "credentials")
    try:
        return Settings(
            **sections,
            api_key=key,
            api_key_source=source,
            config_path=path if path.exists() else None,
        )
    except ConfigError as exc:  # sections that disagree with each other
        raise ConfigError(f"{path}: {exc.message}", exc.hint) from None
