"""Opening a conversation with everything it needs: history, timers and the enabled tools."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from voiced.config import Settings, data_dir
from voiced.converse.conversation import Conversation, ConversationOptions
from voiced.converse.recorder import HistoryWriter
from voiced.converse.sqlite import MEMORY, StoreLost, private_dir, set_aside
from voiced.converse.tools.builtin import builtin_tools
from voiced.converse.tools.builtin.timers import TimerService
from voiced.converse.tools.builtin.timerstore import TimerStore
from voiced.converse.tools.registry import (
    Announce,
    ToolContext,
    ToolRegistry,
    ToolSource,
    entry_point_tools,
)
from voiced.converse.tools.runner import Confirm, ToolRunner, refuse
from voiced.errors import StorageError
from voiced.groq.client import GroqClient

HISTORY_FILE = "history.sqlite3"
TIMERS_FILE = "timers.sqlite3"
log = logging.getLogger(__name__)


@asynccontextmanager
async def open_conversation(
    client: GroqClient,
    settings: Settings,
    confirm: Confirm = refuse,
    announce: Announce | None = None,
    model: str | None = None,
    env: Mapping[str, str] | None = None,
    offer_tools: bool = True,
    on_lost: Callable[[StoreLost], None] | None = None,
    tool_sources: Sequence[ToolSource] = (),
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
        on_lost: When given, a history or timers database that cannot be opened is kept
            in memory instead (a damaged file is moved aside first), and this is told why;
            without it, that is a StorageError. The daemon passes it, to keep running.

    Raises:
        StorageError: The data directory, or a database without ``on_lost``, cannot be used.
    """
    data = private_dir(data_dir(env))
    writer = await HistoryWriter(data / HISTORY_FILE, fallback=on_lost is not None).open()
    if writer.lost is not None and on_lost is not None:
        on_lost(writer.lost)
    try:
        store = await asyncio.to_thread(_timer_store, data / TIMERS_FILE, on_lost)
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
        for source in tool_sources:
            tools = tools.with_source(source)
        if not offer_tools:
            tools = ToolRegistry()
        runner = ToolRunner(tools, confirm, settings.tools.timeout)
        options = ConversationOptions.from_settings(settings, model)
        yield Conversation(client, writer, options, runner)
    finally:
        await timers.aclose()
        await asyncio.to_thread(store.close)
        await writer.aclose()


def _timer_store(path: Path, on_lost: Callable[[StoreLost], None] | None) -> TimerStore:
    """Open the timers database, or (with ``on_lost``) keep timers in memory when it fails."""
    try:
        return TimerStore(path)
    except StorageError as exc:
        if on_lost is None:
            raise
        lost = set_aside("timers", path, exc)
    log.error("%s (%s)", lost.message, lost.hint)
    on_lost(lost)
    return TimerStore(MEMORY)
