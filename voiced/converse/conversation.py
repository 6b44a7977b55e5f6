"""Conversation: its options, its memory within budget, and one turn at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from voiced.config import ReasoningEffort, ReasoningFormat, Settings
from voiced.converse.budget import Compactor, ModelCatalog, effective_budget, tools_tokens
from voiced.converse.context import context_messages, estimate_tokens
from voiced.converse.heard import heard_shares
from voiced.converse.history import HistoryStore
from voiced.converse.prompt import local_timezone, system_prompt
from voiced.converse.recorder import HistoryWriter
from voiced.converse.records import MessageRecord
from voiced.converse.tools.registry import ToolRegistry
from voiced.converse.tools.runner import ToolRunner
from voiced.converse.turn import ReplySink, TurnResult, TurnRun
from voiced.groq.client import GroqClient
from voiced.groq.models import ChatRequest, Message

__all__ = ["RAW_WITH_TOOLS", "Conversation", "ConversationOptions", "ReplySink", "TurnResult"]

RAW_WITH_TOOLS = (
    '[chat] reasoning_format = "raw" cannot go with tools (Groq refuses the request), so '
    '"parsed" is asked for while tools are offered: the same reasoning, kept apart from the '
    "answer in the same way"
)
"""Why a conversation that offers tools asks for parsed reasoning when raw is configured."""


@dataclass(frozen=True)
class ConversationOptions:
    """How the conversation asks the model; see ``[chat]`` and ``[conversation]``."""

    model: str
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: str | tuple[str, ...] | None = None
    max_completion_tokens: int | None = None
    reasoning_effort: ReasoningEffort | None = None
    reasoning_format: ReasoningFormat | None = None
    system_prompt: str = ""
    history_token_budget: int = 8000
    keep_recent_turns: int = 4
    idle_gap_s: float = 1800.0
    summary_model: str | None = None
    max_rounds: int = 8

    @classmethod
    def from_settings(cls, settings: Settings, model: str | None = None) -> ConversationOptions:
        """Build from the settings; ``model`` overrides ``[chat] model``."""
        chat, convo = settings.chat, settings.conversation
        return cls(
            model=model or chat.model,
            temperature=chat.temperature,
            top_p=chat.top_p,
            seed=chat.seed,
            stop=chat.stop or None,
            max_completion_tokens=chat.max_completion_tokens,
            reasoning_effort=chat.reasoning_effort,
            reasoning_format=chat.reasoning_format,
            system_prompt=convo.system_prompt,
            history_token_budget=convo.history_token_budget,
            keep_recent_turns=convo.keep_recent_turns,
            idle_gap_s=convo.idle_gap_minutes * 60,
            summary_model=convo.summary_model,
            max_rounds=settings.tools.max_rounds,
        )


def _now() -> datetime:
    return datetime.now(local_timezone())


@dataclass(frozen=True)
class PreparedTurn:
    """A question's turn before it is stored: which conversation, and the context to send.

    :meth:`Conversation.ask` answers from one, and speculation prepares the same one ahead
    (:meth:`Conversation.prepare`), so the request sent early is the turn's first request.
    """

    conversation_id: int
    text: str
    messages: tuple[Message, ...]
    """The context: system prompt, (summarised) history, the question."""
    at: datetime
    """The moment the system prompt states (to the minute)."""


class Conversation:
    """Answers the user, with memory and tools; one turn at a time.

    Args:
        client: Sends the chat requests.
        history: Stores every step.
        options: Model, prompt and memory settings.
        runner: Runs the tools; None offers the model no tools.
        now: The current local time (aware), for the system prompt.
    """

    def __init__(
        self,
        client: GroqClient,
        history: HistoryWriter,
        options: ConversationOptions,
        runner: ToolRunner | None = None,
        now: Callable[[], datetime] = _now,
    ) -> None:
        self.client = client
        self.history = history
        self.options = options
        self.runner = runner or ToolRunner(ToolRegistry())
        self._now = now
        self._catalog = ModelCatalog(client)
        self._compactor = Compactor(
            client, options.summary_model or options.model, options.keep_recent_turns
        )
        self._one_at_a_time = asyncio.Lock()
        self._latest: tuple[int, int] | None = None
        """(conversation id, turn id) of the turn answered last, or being answered."""
        self.acted = False
        """Whether the model asked for a tool in the turn answered last, or being answered
        (set before the tool runs)."""

    async def ask(
        self,
        text: str,
        sink: ReplySink,
        *,
        new: bool = False,
        system: str | None = None,
        at: datetime | None = None,
    ) -> TurnResult:
        """Answer ``text``, streaming the reply to ``sink``.

        Args:
            text: What the user said.
            sink: Receives the reply and reasoning as they stream.
            new: Start a new conversation whatever the idle gap.
            system: A system prompt for this turn alone, replacing the configured one and
                the date/time context.
            at: The moment to state in the system prompt; the turn's speculation passes the
                one it prepared with, so a minute turning over between the two does not make
                the early request differ. Now when None.

        Raises:
            ApiError: A request failed (the turn is stored as failed).
            StorageError: The history cannot be written.
        """
        async with self._one_at_a_time:
            self._latest, self.acted = None, False
            prepared = await self.prepare(text, new=new, system=system, at=at)
            conversation_id = prepared.conversation_id
            turn_id, _ = await self.history.call(HistoryStore.start_turn, conversation_id, text)
            self._latest = (conversation_id, turn_id)
            turn = TurnRun(self, turn_id, sink)
            try:
                result = await turn.run(prepared)
            except BaseException as exc:
                status = "failed" if isinstance(exc, Exception) else "interrupted"
                await asyncio.shield(
                    self.history.call(HistoryStore.finish_turn, turn_id, status, str(exc) or None)
                )
                raise
            status = "capped" if result.capped else "done"
            await self.history.call(HistoryStore.finish_turn, turn_id, status)
            return result

    async def mark_spoken(self, reply_id: int, spoken: str, interrupted: bool) -> None:
        """Record what of a reply was actually spoken; a cut-off reply is remembered as such."""
        await self.history.call(
            HistoryStore.update_message, reply_id, spoken=spoken, interrupted=interrupted
        )

    async def _latest_replies(self) -> tuple[MessageRecord, ...]:
        """The stored replies (assistant messages, one a round) of the turn answered last, or
        being answered, oldest first; () when that turn was stopped before it was stored.

        It lets :meth:`mark_heard` find the replies of a turn cut short, even one cancelled
        before :meth:`ask` could return.

        Raises:
            StorageError: The history cannot be read.
        """
        if self._latest is None:
            return ()
        conversation_id, turn_id = self._latest
        record = await self.history.call(HistoryStore.conversation, conversation_id)
        for turn in record.turns:
            if turn.id == turn_id:
                return tuple(m for m in turn.messages if m.role == "assistant")
        return ()

    async def mark_heard(self, heard: str) -> None:
        """Store, for each reply of the latest turn, what of it was heard when speech was cut
        short: the history (and the model, next turn) then holds only the words spoken.

        Args:
            heard: What was heard of the whole turn, as the speaker reports it.

        Raises:
            StorageError: The history cannot be read or written.
        """
        replies = await self._latest_replies()
        shares = heard_shares([r.content for r in replies], heard)
        for stored, share in zip(replies, shares, strict=True):
            if share is not None:
                await self.mark_spoken(stored.id, share, True)

    async def withdraw(self) -> None:
        """Forget the turn answered last, or being answered, from the history: the question
        and every reply (it was stopped because its speaker went on, and the whole of what
        they said is asked again). Call it once that turn is over. Nothing if there is none,
        or if its model asked for a tool: what a tool did stays on the record.

        Raises:
            StorageError: The history cannot be written.
        """
        latest = self._latest
        if latest is None or self.acted:
            return
        self._latest = None
        async with self._one_at_a_time:  # the stopped turn has stored how it ended
            await self.history.call(HistoryStore.delete_turn, latest[1])

    async def prepare(
        self,
        text: str,
        *,
        new: bool = False,
        system: str | None = None,
        at: datetime | None = None,
    ) -> PreparedTurn:
        """Choose the conversation ``text`` belongs to and build its context, changing
        nothing but summaries: what :meth:`ask` does first, and what speculation does early.

        The turn's first request is ``request(prepared.messages)``.

        Args:
            text: The question.
            new: Start a new conversation whatever the idle gap.
            system: A system prompt for this turn alone.
            at: The moment the system prompt states; now when None.

        Raises:
            StorageError: The history cannot be read or written.
        """
        moment = at if at is not None else self._now()
        gap = self.options.idle_gap_s
        conversation_id = await self.history.call(HistoryStore.conversation_for, gap, new)
        messages = await self.messages_for(conversation_id, text, system, moment)
        return PreparedTurn(conversation_id, text, tuple(messages), moment)

    async def messages_for(
        self, conversation_id: int, text: str, system: str | None, now: datetime
    ) -> list[Message]:
        """Build the request context for ``text``, summarising older turns when over budget."""
        record = await self.history.call(HistoryStore.conversation, conversation_id, True)
        turns = [t for t in record.turns if t.status != "open"]
        prompt = system if system is not None else system_prompt(self.options.system_prompt, now)
        fixed = estimate_tokens([Message.system(prompt), Message.user(text)])
        fixed += tools_tokens(self.runner.registry.schemas())
        window = await self._catalog.context_window(self.options.model)
        budget = effective_budget(
            self.options.history_token_budget, window, self.options.max_completion_tokens, fixed
        )
        fitted = await self._compactor.fit(record.summary, record.summary_through, turns, budget)
        if fitted.summarised:
            await self.history.call(
                HistoryStore.set_summary, conversation_id, fitted.summary, fitted.summary_through
            )
        return context_messages(prompt, fitted.summary, fitted.turns, text)

    @property
    def reasoning_format(self) -> ReasoningFormat | None:
        """The reasoning format asked for: the configured one, but "parsed" for "raw" while
        tools are offered (Groq refuses raw with tools; see :data:`RAW_WITH_TOOLS`)."""
        wanted = self.options.reasoning_format
        return "parsed" if wanted == "raw" and self.runner.registry.schemas() else wanted

    def request(self, messages: tuple[Message, ...]) -> ChatRequest:
        """The chat request for one round: the tools offered with ``tool_choice=auto``, and
        every ``[chat]`` parameter that is set (the rest left to the server)."""
        schemas = self.runner.registry.schemas()
        options = self.options
        return ChatRequest(
            model=options.model,
            messages=messages,
            tools=schemas or None,
            tool_choice="auto" if schemas else None,
            stop=options.stop,
            seed=options.seed,
            temperature=options.temperature,
            top_p=options.top_p,
            max_completion_tokens=options.max_completion_tokens,
            reasoning_format=self.reasoning_format,
            reasoning_effort=options.reasoning_effort,
        )
