"""HistoryWriter: the history store run on one worker thread, so the event loop never waits."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from voiced.converse.history import HistoryStore
from voiced.converse.sqlite import MEMORY, StoreLost, set_aside
from voiced.errors import StorageError, VoicedError

T = TypeVar("T")
TEXT_INTERVAL_S = 0.05
"""Seconds between two commits of a streaming reply's text (what a crash may lose)."""
log = logging.getLogger(__name__)


class HistoryWriter:
    """Runs every history operation, in order, on one dedicated thread.

    Structured events (a turn starts, a tool result arrives) are awaited, so they are
    committed before the conversation goes on. The text of a streaming reply is written
    behind: :meth:`update_text` only notes the latest text, and the thread commits it at
    most every ``text_interval`` seconds, so a 1000-token/s stream costs about 20 commits a
    second, not 1000, and a killed process loses at most the last ``text_interval`` of text.

    Args:
        path: The history database file.
        text_interval: Seconds between two commits of a streaming reply's text.
        fallback: When the database cannot be opened, keep the history in memory (nothing
            is kept after the process ends) and say why in :attr:`lost`, instead of failing;
            a damaged file is first moved aside. For the daemon, which must keep running.
    """

    def __init__(
        self, path: Path, text_interval: float = TEXT_INTERVAL_S, fallback: bool = False
    ) -> None:
        self.path = path
        self.text_interval = text_interval
        self.fallback = fallback
        self.lost: StoreLost | None = None
        """Set when the database could not be used and the history lives in memory."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voiced-history")
        self._store: HistoryStore | None = None
        self._pending: dict[int, dict[str, Any]] = {}
        self._pending_lock = threading.Lock()
        self._scheduled = False
        self._last_write = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    async def open(self) -> HistoryWriter:
        """Open the database on the worker thread and recover turns of dead processes.

        Raises:
            StorageError: The database cannot be opened (only without ``fallback``).
        """
        loop = asyncio.get_running_loop()
        try:
            recovered = await loop.run_in_executor(self._executor, self._open)
        except StorageError as exc:
            if not self.fallback:
                raise
            self.lost = await loop.run_in_executor(self._executor, self._fall_back, exc)
            log.error("%s (%s)", self.lost.message, self.lost.hint)
            return self
        if recovered:
            log.info("marked %d turn(s) of a stopped voiced process as interrupted", recovered)
        return self

    def _open(self) -> int:
        store = HistoryStore(self.path)
        try:
            recovered = store.recover()
        except BaseException:
            store.close()
            raise
        self._store = store
        return recovered

    def _fall_back(self, error: StorageError) -> StoreLost:
        lost = set_aside("history", self.path, error)
        self._store = HistoryStore(MEMORY)
        return lost

    async def __aenter__(self) -> HistoryWriter:
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``method(store, *args, **kwargs)`` on the worker thread and return its result.

        Raises:
            StorageError: The database failed.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(self._run, method, args, kwargs))

    def _run(self, method: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        if self._store is None:
            raise RuntimeError("HistoryWriter.open() was not awaited")
        self._write_pending()
        return method(self._store, *args, **kwargs)

    def update_text(self, message_id: int, **fields: Any) -> None:
        """Note new column values of a streaming message; written behind, in order.

        A value may be a list of text pieces the caller keeps appending to: it is joined
        only when written, so a long reply costs no quadratic joining per token.
        """
        with self._pending_lock:
            self._pending.setdefault(message_id, {}).update(fields)
            if self._scheduled:
                return
            self._scheduled = True
            delay = self._last_write + self.text_interval - time.monotonic()
        if delay <= 0:
            self._submit()
        else:
            self._timer = asyncio.get_running_loop().call_later(delay, self._submit)

    def _submit(self) -> None:
        if not self._closed:
            self._executor.submit(self._write_pending)

    def _write_pending(self) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, {}
            self._scheduled = False
            self._last_write = time.monotonic()
        store = self._store
        if store is None:
            return
        for message_id, fields in pending.items():
            values = {k: "".join(v) if isinstance(v, list) else v for k, v in fields.items()}
            try:
                store.update_message(message_id, **values)
            except VoicedError as exc:
                log.error("could not save the reply text: %s", exc)

    async def flush(self) -> None:
        """Wait until every noted update is committed."""
        await self.call(lambda store: None)

    async def aclose(self) -> None:
        """Write what is pending, close the database and stop the thread."""
        if self._timer is not None:
            self._timer.cancel()
        if self._store is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, self._close_store)
        self._closed = True
        self._executor.shutdown(wait=False)

    def _close_store(self) -> None:
        self._write_pending()
        store, self._store = self._store, None
        if store is not None:
            store.close()
