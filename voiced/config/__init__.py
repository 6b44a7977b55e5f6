"""Frozen settings loaded from TOML in the XDG config dir, overridden by the environment.

One dataclass a ``[section]`` of ``config.toml``, with a docstring under each field:
``api`` (chat, stt, network), ``audio`` (audio, listen, speech), ``assistant``
(conversation, tools, daemon), ``wake`` (wake), ``mcp`` (the ``[[mcp.servers]]`` tables);
``loader`` builds the whole :class:`Settings`, and
``tomlfile`` reads the file and checks each value's type, ``checks`` holds what each field
accepts (declared beside it) and checks it, with messages naming the key.
"""

from voiced.config.api import (
    GROQ_API_ROOT,
    ChatSettings,
    NetworkSettings,
    ReasoningEffort,
    ReasoningFormat,
    SttSettings,
)
from voiced.config.assistant import (
    ConversationSettings,
    DaemonMode,
    DaemonSettings,
    ToolSettings,
)
from voiced.config.audio import PHANTOM_PHRASES, AudioSettings, ListenSettings, SpeechSettings
from voiced.config.checks import Check, Url, check_of, mask_url
from voiced.config.loader import (
    SECTIONS,
    Settings,
    config_dir,
    config_path,
    data_dir,
    load_settings,
)
from voiced.config.mcp import ConfirmPolicy, McpServerSettings, McpSettings
from voiced.config.tomlfile import build_section, describe_type, matches_type
from voiced.config.wake import WakeSettings

__all__ = [
    "GROQ_API_ROOT",
    "PHANTOM_PHRASES",
    "SECTIONS",
    "AudioSettings",
    "ChatSettings",
    "ConfirmPolicy",
    "ConversationSettings",
    "DaemonMode",
    "DaemonSettings",
    "ListenSettings",
    "McpServerSettings",
    "McpSettings",
    "NetworkSettings",
    "ReasoningEffort",
    "ReasoningFormat",
    "Settings",
    "SpeechSettings",
    "SttSettings",
    "ToolSettings",
    "Url",
    "Check",
    "WakeSettings",
    "build_section",
    "check_of",
    "describe_type",
    "matches_type",
    "config_dir",
    "config_path",
    "data_dir",
    "load_settings",
    "mask_url",
]
