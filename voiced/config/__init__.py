"""Frozen settings loaded from TOML in the XDG config dir, overridden by the environment.

One dataclass a ``[section]`` of ``config.toml``, with a docstring under each field:
``api`` (chat, stt, network), ``audio`` (audio, listen, speech), ``assistant``
(conversation, tools, daemon), ``wake`` (wake); ``loader`` builds the whole :class:`Settings`, and
``checks`` validates each value against its field's type with messages naming the key.
"""

from voiced.config.api import (
    GROQ_API_ROOT,
    ChatSettings,
    NetworkSettings,
    ReasoningEffort,
    SttSettings,
)
from voiced.config.assistant import (
    ConversationSettings,
    DaemonMode,
    DaemonSettings,
    ToolSettings,
)
from voiced.config.audio import PHANTOM_PHRASES, AudioSettings, ListenSettings, SpeechSettings
from voiced.config.checks import build_section, describe_type, matches_type
from voiced.config.loader import (
    SECTIONS,
    Settings,
    config_dir,
    config_path,
    data_dir,
    load_settings,
)
from voiced.config.wake import WakeSettings

__all__ = [
    "GROQ_API_ROOT",
    "PHANTOM_PHRASES",
    "SECTIONS",
    "AudioSettings",
    "ChatSettings",
    "ConversationSettings",
    "DaemonMode",
    "DaemonSettings",
    "ListenSettings",
    "NetworkSettings",
    "ReasoningEffort",
    "Settings",
    "SpeechSettings",
    "SttSettings",
    "ToolSettings",
    "WakeSettings",
    "build_section",
    "describe_type",
    "matches_type",
    "config_dir",
    "config_path",
    "data_dir",
    "load_settings",
]
