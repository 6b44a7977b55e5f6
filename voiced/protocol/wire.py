"""The wire format: one JSON object per line, at most MAX_LINE_BYTES, typed by its ``type``.

The daemon sends no line over MAX_EVENT_BYTES (long texts are cut with a visible note, text
that UTF-8 cannot carry is replaced), half of what any client reads, so one oversized or
unencodable value can never make a line that clients refuse.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson

from voiced.errors import ProtocolError
from voiced.protocol import commands as c
from voiced.protocol import events as e
from voiced.protocol import reports as r
from voiced.protocol.fit import dump_line

MAX_LINE_BYTES = 1 << 20
"""Longest line a client reads; a longer one is skipped (read and dropped piecewise)."""

MAX_EVENT_BYTES = 256 << 10
"""Longest line the daemon sends: events are cut to fit (the history event is the largest)."""

MAX_COMMAND_BYTES = 64 << 10
"""Longest command line the daemon accepts."""

EVENT_TYPES: dict[str, type[e.Event]] = {
    cls.type: cls
    for cls in (
        e.Hello,
        e.StateChanged,
        e.ModeChanged,
        e.WakeDetected,
        e.InputLevel,
        e.SpeechStarted,
        e.SpeechPaused,
        e.SpeechResumed,
        e.SpeechEnded,
        e.Transcript,
        e.AssistantDelta,
        e.AssistantText,
        e.TurnWithdrawn,
        e.Reasoning,
        e.ToolCalled,
        e.ToolResult,
        e.ConfirmRequest,
        e.ConfirmResolved,
        r.ModelsChanged,
        r.SpeakingStarted,
        r.SpeakingStopped,
        r.Timeline,
        r.ErrorReport,
        r.RateLimitSnapshot,
        r.UsageReport,
        r.History,
        r.Status,
        r.Ack,
        r.LogRecord,
        r.Goodbye,
        r.UserAnswer,
    )
}
"""Every event class by its ``type``."""

COMMAND_TYPES: dict[str, type[c.Command]] = {
    cls.type: cls
    for cls in (
        c.Mute,
        c.Unmute,
        c.PushToTalk,
        c.SetMode,
        c.Cancel,
        c.SendText,
        c.Confirm,
        c.SetModel,
        c.Reload,
        c.GetStatus,
        c.Speak,
        c.Notify,
        c.AskUser,
    )
}
"""Every command class by its ``type``."""

M = TypeVar("M", bound=e.Message)


def encode(message: e.Message, **extra: Any) -> bytes:
    """Return ``message`` as one JSON line (with a trailing newline).

    Text UTF-8 cannot carry (lone surrogates) is replaced by U+FFFD. An event is at most
    MAX_EVENT_BYTES: its longest texts are cut to fit, each ending with a note of how much
    was cut. A command is sent whole (the daemon refuses one over MAX_COMMAND_BYTES).

    Args:
        message: The event or command.
        extra: Fields added beside the message's own (e.g. the replay timestamp ``t``).

    Raises:
        ProtocolError: An event is too big even with its texts cut (none of the protocol's
            events can be: only an absurd number of short values would do it).
    """
    data = message.to_dict()
    if extra:
        data = {**extra, **data}
    return dump_line(data, MAX_EVENT_BYTES if isinstance(message, e.Event) else None)


def decode_object(line: bytes | str, limit: int = MAX_LINE_BYTES) -> dict[str, Any]:
    """Parse one line into a JSON object with a string ``type``.

    Raises:
        ProtocolError: The line is too long, not JSON, not an object, or has no ``type``.
    """
    if len(line) > limit:
        raise ProtocolError(f"message of {len(line)} bytes is over the {limit}-byte limit")
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("each line must be one JSON object")
    if not isinstance(data.get("type"), str):
        raise ProtocolError("the message has no string 'type'")
    return data


def decode_event(line: bytes | str) -> e.Event:
    """Parse a line from the daemon into its event.

    Raises:
        ProtocolError: Malformed, or a ``type`` this client does not know.
    """
    return _build(decode_object(line), EVENT_TYPES, "event")


def decode_command(line: bytes | str) -> c.Command:
    """Parse a line from a client into its command.

    Raises:
        ProtocolError: Malformed, over MAX_COMMAND_BYTES, or an unknown command.
    """
    return _build(decode_object(line, MAX_COMMAND_BYTES), COMMAND_TYPES, "command")


def _build(data: dict[str, Any], types: dict[str, type[M]], what: str) -> M:
    cls = types.get(data["type"])
    if cls is None:
        raise ProtocolError(
            f"unknown {what} type {data['type']!r}", f"known: {', '.join(sorted(types))}"
        )
    return cls.from_dict(data)
