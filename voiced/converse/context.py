"""Stored turns turned back into chat messages the API accepts, however the turn ended."""

from __future__ import annotations

from collections.abc import Sequence

from voiced.converse.records import MessageRecord, TurnRecord
from voiced.groq.models import Message

SUMMARY_HEADING = "Summary of the earlier part of this conversation:"


def turn_messages(turn: TurnRecord) -> list[Message]:
    """Return a stored turn as chat messages.

    A reply cut short while being spoken counts as what was actually spoken. Tool calls
    without a stored result (the process died, or the turn hit its round limit) are left
    out, and so are results without their call, so the API never sees a dangling call.
    """
    results = {m.tool_call_id: m for m in turn.messages if m.role == "tool" and m.tool_call_id}
    out: list[Message] = []
    for record in turn.messages:
        if record.role == "user":
            out.append(Message.user(record.content))
        elif record.role == "assistant":
            out += _assistant(record, results)
    return out


def _assistant(record: MessageRecord, results: dict[str, MessageRecord]) -> list[Message]:
    text = record.spoken if record.interrupted and record.spoken is not None else record.content
    calls = tuple(c for c in record.tool_calls if c.id in results)
    if not text and not calls:
        return []
    answered = [Message.tool(c.id, results[c.id].content) for c in calls]
    return [Message.assistant(text or None, calls), *answered]


def context_messages(
    system: str, summary: str, turns: Sequence[TurnRecord], user_text: str
) -> list[Message]:
    """Return the messages of a request: system prompt (with the summary), turns, question.

    Args:
        system: The system prompt.
        summary: The summary of turns no longer sent word for word ("" for none).
        turns: The earlier turns to send in full.
        user_text: What the user just said.
    """
    prompt = f"{system}\n\n{SUMMARY_HEADING} {summary}" if summary else system
    messages = [Message.system(prompt)]
    for turn in turns:
        messages += turn_messages(turn)
    messages.append(Message.user(user_text))
    return messages


def estimate_tokens(messages: Sequence[Message]) -> int:
    """Estimate the tokens of some messages: about four characters a token, plus framing.

    Deliberately simple and on the high side for English; the budget it guards is far
    below the context window, so precision would buy nothing.
    """
    total = 0
    for message in messages:
        size = len(message.content or "")
        size += sum(len(c.name) + len(c.arguments) + 16 for c in message.tool_calls)
        total += 4 + (size + 3) // 4
    return total
