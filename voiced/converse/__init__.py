"""The conversation: memory in SQLite, a prompt written for speech, and tools the model calls."""

from voiced.converse.conversation import Conversation, ConversationOptions
from voiced.converse.history import HistoryStore
from voiced.converse.prompt import DEFAULT_SYSTEM_PROMPT, system_prompt
from voiced.converse.recorder import HistoryWriter
from voiced.converse.session import open_conversation
from voiced.converse.turn import ReplySink, TurnResult

__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "Conversation",
    "ConversationOptions",
    "HistoryStore",
    "HistoryWriter",
    "ReplySink",
    "TurnResult",
    "open_conversation",
    "system_prompt",
]
