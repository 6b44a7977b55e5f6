"""Keeping the history under a token budget: older turns summarised, the latest kept verbatim."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from voiced.converse.context import estimate_tokens, turn_messages
from voiced.converse.records import TurnRecord
from voiced.errors import VoicedError
from voiced.groq.client import GroqClient
from voiced.groq.models import ChatRequest, Message

SUMMARY_PROMPT = (
    "You keep the memory of a voice assistant. Summarise the conversation you are given in "
    "at most 150 words of plain prose. Keep what may matter later: facts about the user, "
    "their requests and whether they were done, decisions, names, numbers, times and places. "
    "Leave out greetings and small talk. Write only the summary."
)
COMPLETION_RESERVE = 4096
"""Tokens of the context window kept free for the reply when the config sets no limit."""
log = logging.getLogger(__name__)


class ModelCatalog:
    """The context windows of the models, read once from the models list.

    Args:
        client: Where to ask.
    """

    def __init__(self, client: GroqClient) -> None:
        self._client = client
        self._windows: dict[str, int] | None = None

    async def context_window(self, model: str) -> int | None:
        """The model's context window in tokens, or None when the list does not say."""
        if self._windows is None:
            try:
                models = await self._client.list_models()
            except VoicedError as exc:
                log.info("no models list (%s); using the configured history budget", exc)
                models = []
            self._windows = {m.id: m.context_window for m in models if m.context_window}
        return self._windows.get(model)


@dataclass(frozen=True)
class Fitted:
    """The history to send: a summary of older turns and the turns kept word for word.

    Attributes:
        summary: The summary to send ("" for none).
        summary_through: The last turn id the summary covers.
        turns: The turns sent in full.
        summarised: Whether a new summary was written this time (to be stored).
    """

    summary: str
    summary_through: int
    turns: tuple[TurnRecord, ...]
    summarised: bool = False


class Compactor:
    """Summarises older turns with one chat request when the history is over its budget.

    Args:
        client: The client the summary request goes through.
        model: The model that writes the summary.
        keep_recent: Latest turns never summarised.
    """

    def __init__(self, client: GroqClient, model: str, keep_recent: int) -> None:
        self._client = client
        self.model = model
        self.keep_recent = keep_recent

    async def fit(
        self, summary: str, summary_through: int, turns: Sequence[TurnRecord], budget: int
    ) -> Fitted:
        """Return the history to send, summarising the older turns if it is over ``budget``.

        When the summary request fails, the older turns are dropped instead: the question
        still gets its answer, with a shorter memory.
        """
        unchanged = Fitted(summary, summary_through, tuple(turns))
        if history_tokens(summary, turns) <= budget or len(turns) <= self.keep_recent:
            return unchanged
        older, recent = turns[: -self.keep_recent], tuple(turns[-self.keep_recent :])
        try:
            text = await self.summarise(summary, older)
        except VoicedError as exc:
            log.warning("could not summarise the older turns (%s); leaving them out", exc)
            return Fitted(summary, summary_through, recent)
        return Fitted(text, older[-1].id, recent, summarised=True)

    async def summarise(self, previous: str, turns: Sequence[TurnRecord]) -> str:
        """Ask the model for a summary of ``turns`` that also keeps ``previous``.

        Raises:
            ApiError: The request failed.
        """
        lines = [f"Earlier summary: {previous}"] if previous else []
        for turn in turns:
            lines += [_line(m) for m in turn_messages(turn)]
        request = ChatRequest(
            model=self.model,
            messages=(Message.system(SUMMARY_PROMPT), Message.user("\n".join(lines))),
        )
        reply = await self._client.chat(request)
        text = reply.content.strip()
        if "</think>" in text:
            text = text.rpartition("</think>")[2].strip()
        return text or previous


def history_tokens(summary: str, turns: Sequence[TurnRecord]) -> int:
    """Estimated tokens of a summary and some turns as they would be sent."""
    messages = [Message.system(summary)] if summary else []
    for turn in turns:
        messages += turn_messages(turn)
    return estimate_tokens(messages)


def effective_budget(configured: int, window: int | None, reserve: int | None, fixed: int) -> int:
    """The history budget: the configured one, capped so the request fits the context window.

    Args:
        configured: ``[conversation] history_token_budget``.
        window: The model's context window, when known.
        reserve: Tokens kept for the reply (``[chat] max_completion_tokens``).
        fixed: Tokens every request needs anyway (system prompt, tools, the question).
    """
    if window is None:
        return configured
    room = window - (reserve or COMPLETION_RESERVE) - fixed
    return max(256, min(configured, room))


def _line(message: Message) -> str:
    if message.role == "tool":
        return f"Tool result: {message.content}"
    calls = "; ".join(f"{c.name}({c.arguments})" for c in message.tool_calls)
    said = message.content or ""
    if calls:
        said = f"{said} [called {calls}]".strip()
    return f"{message.role.capitalize()}: {said}"


def tools_tokens(schemas: Sequence[dict[str, object]]) -> int:
    """Estimated tokens of the ``tools`` list of a request."""
    return (len(json.dumps(list(schemas))) + 3) // 4
