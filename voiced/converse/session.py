"""Opening a conversation with everything it needs: history, timers and the enabled tools."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from voiced.config import Settings, data_dir
from voiced.converse.conversation import Conversation, ConversationOptions
from voiced.converse.recorder import HistoryWriter
from voiced.converse.sqlite import private_dir
from voiced.converse.tools.builtin import builtin_tools
from voiced.converse.tools.builtin.timers import TimerService
from voiced.converse.tools.builtin.timerstore import TimerStore
from voiced.converse.tools.registry import Announce, ToolContext, ToolRegistry, entry_point_tools
from voiced.converse.tools.runner import Confirm, ToolRunner, refuse
from voiced.groq.client import GroqClient

HISTORY_FILE = "history.sqlite3"
TIMERS_FILE = "timers.sqlite3"


@asynccontextmanager
async def open_conversation(
    client: GroqClient,
    settings: Settings,
    confirm: Confirm = refuse,
    announce: Announce | None = None,
    model: str | None = None,
    env: Mapping[str, str] | None = None,
    offer_tools: bool = True,
    keep_going: bool = False,
) -> AsyncIterator[Conversation]:
    """Open the history, the timers and the tools, and yield a conversation over them.

    Args:
        client: Sends the chat requests.
        settings: ``[chat]``, ``[conversation]`` and ``[tools]`` are read.
        confirm: Asked before side-effect tools run; the default refuses.
        announce: Says due timers aloud; None leaves them to a process that has a voice.
        model: Overrides ``[chat] model``.
        env: The environment for ``$XDG_DATA_HOME``; defaults to ``os.environ``.
        offer_tools: False offers the model no tools at all this time.
        keep_going: When the history cannot be opened, keep it in memory (and move a damaged
            file aside) instead of failing; ``conversation.history.lost`` then says why.

    Raises:
        StorageError: The data directory or a database cannot be used.
    """
    data = private_dir(data_dir(env))
    writer = await HistoryWriter(data / HISTORY_FILE, fallback=keep_going).open()
    try:
        store = await asyncio.to_thread(TimerStore, data / TIMERS_FILE)
    except BaseException:
        await writer.aclose()
        raise
    timers = TimerService(store, announce)
    try:
        await timers.start()
        tools = ToolRegistry(
            [
                *builtin_tools(settings.tools, data, timers),
                *entry_point_tools(ToolContext(data, announce)),
            ]
        ).select(settings.tools.enabled, settings.tools.disabled)
        if not offer_tools:
            tools = ToolRegistry()
        runner = ToolRunner(tools, confirm, settings.tools.timeout)
        options = ConversationOptions.from_settings(settings, model)
        yield Conversation(client, writer, options, runner)
    finally:
        await timers.aclose()
        await asyncio.to_thread(store.close)
        await writer.aclose()
