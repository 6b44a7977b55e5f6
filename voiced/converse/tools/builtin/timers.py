"""Timers and reminders that outlive a restart: the service that announces them when due."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo

from voiced.converse.prompt import local_timezone
from voiced.converse.tools.builtin.timerstore import Timer, TimerStore
from voiced.converse.tools.registry import Announce, ToolError

POLL_S = 15.0
"""How often the service looks for timers set or cancelled by another voiced process."""
LATE_S = 60.0
"""A timer announced later than this after it was due says so."""
ATTEMPTS = 3
"""Announcements of one timer that may fail (each retried at the next poll) before it is
given up and marked announced, so a broken voice does not retry it forever."""
log = logging.getLogger(__name__)


class TimerService:
    """Announces timers when they are due, including ones set before a restart.

    Args:
        store: The timers database.
        announce: Says the announcement; None stores timers without announcing them (a
            one-shot command leaves that to the daemon).
        zone: The user's timezone, for the times it says.
        poll_s: How often to look for changes made by other processes.
    """

    def __init__(
        self,
        store: TimerStore,
        announce: Announce | None,
        zone: Callable[[], tzinfo] = local_timezone,
        poll_s: float = POLL_S,
    ) -> None:
        self.store = store
        self._announce = announce
        self.zone = zone
        self._poll_s = poll_s
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failed: dict[int, int] = {}

    async def start(self) -> None:
        """Start watching for due timers (when there is someone to announce them)."""
        if self._announce is not None and self._task is None:
            self._task = asyncio.create_task(self._watch(), name="voiced-timers")

    async def aclose(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def add(self, kind: str, label: str, due_at: float) -> Timer:
        """Store a timer and make sure the watcher sees it."""
        timer = await asyncio.to_thread(self.store.add, kind, label, due_at)  # type: ignore[arg-type]
        self._changed.set()
        return timer

    async def pending(self) -> list[Timer]:
        """Every pending timer, soonest first."""
        return await asyncio.to_thread(self.store.pending)

    async def cancel(self, timer_id: int) -> Timer | None:
        """Cancel a pending timer; None when there is none with that id."""
        timer = await asyncio.to_thread(self.store.cancel, timer_id)
        self._changed.set()
        return timer

    async def _watch(self) -> None:
        starting = True
        while True:
            self._changed.clear()
            # Timers a dead process claimed but never said (this one's, after a restart).
            await asyncio.to_thread(self.store.recover, starting)
            starting = False
            pending = await self.pending()
            now = self.store.clock()
            for timer in (t for t in pending if t.due_at <= now):
                if await asyncio.to_thread(self.store.claim, timer.id):
                    await self._say(timer, now)
            later = [t.due_at - now for t in pending if t.due_at > now]
            wait = min([self._poll_s, *later])
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(wait, 0.0)):
                    await self._changed.wait()

    async def _say(self, timer: Timer, now: float) -> None:
        """Announce a claimed timer; it is marked announced only once it was said."""
        assert self._announce is not None
        try:
            await self._announce(self.announcement(timer, now))
        except Exception:  # one failed announcement must not stop the others
            failures = self._failed[timer.id] = self._failed.get(timer.id, 0) + 1
            if failures < ATTEMPTS:
                log.exception("could not announce timer %d; trying again", timer.id)
                await asyncio.to_thread(self.store.release, timer.id)
                return
            log.exception("could not announce timer %d %d times; giving up", timer.id, failures)
        except asyncio.CancelledError:
            # Stopping mid-announcement: give it back, to be said by the next process.
            await asyncio.to_thread(self.store.release, timer.id)
            raise
        self._failed.pop(timer.id, None)
        # Said: record it even if the service is stopping right now.
        marking = asyncio.ensure_future(asyncio.to_thread(self.store.announced, timer.id))
        try:
            await asyncio.shield(marking)
        except asyncio.CancelledError:
            await marking
            raise

    def announcement(self, timer: Timer, now: float) -> str:
        """The words said when ``timer`` goes off (at ``now``)."""
        if timer.kind == "reminder":
            text = f"Reminder: {timer.label.rstrip('.')}."
        elif timer.label:
            text = f"Your {timer.label} timer is done."
        else:
            text = f"Your {describe_duration(timer.due_at - timer.created_at)} timer is done."
        if now - timer.due_at > LATE_S:
            text += f" It was due at {self.clock_time(timer.due_at)}, while I wasn't running."
        return text

    def clock_time(self, when: float) -> str:
        """A wall-clock time as said: ``14:05``, with the day when it is not today."""
        moment = datetime.fromtimestamp(when, self.zone())
        today = datetime.now(self.zone()).date()
        if moment.date() == today:
            return f"{moment:%H:%M}"
        return f"{moment:%H:%M} on {moment:%A} {moment.day} {moment:%B}"


def describe_duration(seconds: float) -> str:
    """Say a duration the way people do: 90 seconds is ``1 minute and 30 seconds``."""
    if 0 < seconds < 0.5:
        return "less than a second"
    total = max(0, round(seconds))
    parts = []
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    if not parts:
        return "0 seconds"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def parse_when(at: str, now: datetime) -> datetime:
    """Read a reminder time: ``14:30``, ``2:30 pm``, ``2026-03-04 09:00`` or ISO 8601.

    A bare time of day means its next occurrence. Naive times are in ``now``'s timezone.

    Raises:
        ToolError: The time cannot be read.
    """
    text = at.strip().lower()
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?", text)
    if match and (match.group(2) or match.group(3)):
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if match.group(3):
            if not 1 <= hour <= 12:
                raise ToolError(f"cannot read the time {at!r}")
            hour = hour % 12 + (12 if match.group(3).startswith("p") else 0)
        if hour > 23 or minute > 59:
            raise ToolError(f"cannot read the time {at!r}")
        moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return moment if moment > now else moment + timedelta(days=1)
    try:
        moment = datetime.fromisoformat(at.strip())
    except ValueError:
        raise ToolError(
            f"cannot read the time {at!r}; give HH:MM or YYYY-MM-DD HH:MM, or use in_minutes"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)
