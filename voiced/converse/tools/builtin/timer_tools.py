"""The tools the model sets, lists and cancels timers and reminders with."""

from __future__ import annotations

from datetime import datetime

from voiced.converse.tools.builtin.timers import TimerService, describe_duration, parse_when
from voiced.converse.tools.registry import Tool, ToolError, tool

MAX_DURATION_S = 366 * 86400
MAX_LABEL = 100
"""Longest timer label, in characters."""
MAX_REMINDER = 500
"""Longest reminder text, in characters."""
MAX_PENDING = 200
"""Most timers and reminders waiting at once."""


def _text(value: str, what: str, limit: int) -> str:
    """Free text a timer keeps, stripped and checked against its length limit."""
    text = value.strip()
    if len(text) > limit:
        raise ToolError(
            f"{what} is {len(text)} characters long; at most {limit} are allowed, "
            "so say it more briefly"
        )
    return text


def timer_tools(service: TimerService) -> list[Tool]:
    """Return set_timer, set_reminder, list_timers and cancel_timer, all on ``service``."""

    @tool
    async def set_timer(
        hours: float = 0, minutes: float = 0, seconds: float = 0, label: str = ""
    ) -> str:
        """Start a countdown timer; it is announced aloud when it ends, even after a restart.

        Args:
            hours: Hours to count down.
            minutes: Minutes to count down.
            seconds: Seconds to count down.
            label: What the timer is for, such as "tea" (optional).
        """
        duration = hours * 3600 + minutes * 60 + seconds
        if not 0 < duration <= MAX_DURATION_S:
            raise ToolError("a timer must last more than 0 seconds and at most a year")
        label = _text(label, "the label", MAX_LABEL)
        await _room(service)
        now = service.store.clock()
        timer = await service.add("timer", label, now + duration)
        name = f" for {timer.label}" if timer.label else ""
        return (
            f"Timer {timer.id}{name} set for {describe_duration(duration)}; "
            f"it ends at {service.clock_time(timer.due_at)}."
        )

    @tool
    async def set_reminder(
        text: str, at: str | None = None, in_minutes: float | None = None
    ) -> str:
        """Set a reminder that is said aloud at a time; give either at or in_minutes.

        Args:
            text: What to remind the user of, such as "call the dentist".
            at: The local time, as "HH:MM" (the next one) or "YYYY-MM-DD HH:MM".
            in_minutes: Minutes from now, instead of at.
        """
        now = datetime.fromtimestamp(service.store.clock(), service.zone())
        if (at is None) == (in_minutes is None):
            raise ToolError("give exactly one of at or in_minutes")
        if in_minutes is not None:
            due = now.timestamp() + in_minutes * 60
        else:
            assert at is not None
            due = parse_when(at, now).timestamp()
        if not now.timestamp() < due <= now.timestamp() + MAX_DURATION_S:
            raise ToolError("a reminder must be in the future and within a year")
        text = _text(text, "the reminder text", MAX_REMINDER)
        if not text:
            raise ToolError("the reminder needs a text")
        await _room(service)
        timer = await service.add("reminder", text, due)
        return f"Reminder {timer.id} set for {service.clock_time(due)}: {timer.label}."

    @tool
    async def list_timers() -> str:
        """List the timers and reminders that have not gone off yet."""
        pending = await service.pending()
        if not pending:
            return "There are no timers or reminders."
        now = service.store.clock()
        lines = []
        for timer in pending:
            left = describe_duration(timer.due_at - now)
            what = (
                f"reminder {timer.id}: {timer.label}"
                if timer.kind == "reminder"
                else (f"timer {timer.id}" + (f" ({timer.label})" if timer.label else ""))
            )
            lines.append(f"{what}, at {service.clock_time(timer.due_at)}, in {left}")
        return "; ".join(lines) + "."

    @tool
    async def cancel_timer(timer_id: int | None = None, label: str | None = None) -> str:
        """Cancel a timer or reminder by its number or by its label.

        Args:
            timer_id: The number list_timers gave it.
            label: Its label or reminder text, when the number is not known.
        """
        pending = await service.pending()
        if timer_id is None and label:
            wanted = label.strip().lower()
            matches = [t for t in pending if wanted in t.label.lower()]
            if len(matches) != 1:
                found = "no" if not matches else "more than one"
                raise ToolError(f"{found} pending timer matches {label!r}; use its number")
            timer_id = matches[0].id
        if timer_id is None:
            raise ToolError("give the timer's number or label")
        cancelled = await service.cancel(timer_id)
        if cancelled is None:
            raise ToolError(f"there is no pending timer or reminder number {timer_id}")
        return f"Cancelled {cancelled.kind} {cancelled.id}" + (
            f" ({cancelled.label})." if cancelled.label else "."
        )

    return [set_timer, set_reminder, list_timers, cancel_timer]


async def _room(service: TimerService) -> None:
    """Refuse a new timer when :data:`MAX_PENDING` are already waiting."""
    if len(await service.pending()) >= MAX_PENDING:
        raise ToolError(
            f"{MAX_PENDING} timers and reminders are already waiting; cancel some first"
        )
