"""One turn in progress: each round streamed to the sink and stored the moment it arrives."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Protocol

from voiced.converse.history import HistoryStore
from voiced.converse.reasoning import ThinkSplitter
from voiced.converse.tools.runner import APOLOGY, ToolLoop, ToolOutcome
from voiced.groq.models import ChatCompletion, Message

if TYPE_CHECKING:
    from voiced.converse.conversation import Conversation, PreparedTurn


class ReplySink(Protocol):
    """Where a reply goes as it streams: the terminal, the speech queue, the TUI."""

    async def content(self, text: str) -> None:
        """Words of the answer, to show and say."""

    async def reasoning(self, text: str) -> None:
        """The model's reasoning: to show (or not), never to say."""


@dataclass(frozen=True)
class TurnResult:
    """What a turn produced.

    Attributes:
        text: Everything said, over all rounds (the apology included).
        reasoning: The model's reasoning, think blocks included.
        reply_ids: The stored assistant messages, for :meth:`Conversation.mark_spoken`.
        capped: The turn hit the round limit and ended with the apology.
    """

    conversation_id: int
    turn_id: int
    text: str
    reasoning: str
    reply_ids: tuple[int, ...]
    rounds: int
    capped: bool
    outcomes: tuple[ToolOutcome, ...]


class TurnRun:
    """One turn in progress: streams each round to the sink and stores it as it goes."""

    def __init__(self, conversation: Conversation, turn_id: int, sink: ReplySink) -> None:
        self.c = conversation
        self.turn_id = turn_id
        self.sink = sink
        self.said: list[str] = []
        self.reasoning: list[str] = []
        self.reply_ids: list[int] = []
        self.spoke = False

    async def run(self, prepared: PreparedTurn) -> TurnResult:
        """Run the tool loop from the prepared context; end with the apology when capped."""
        conversation_id = prepared.conversation_id
        loop = ToolLoop(self.c.runner, self.c.options.max_rounds)
        result = await loop.run(prepared.messages, self, self.tool_result)
        if result.capped:
            await self.say(APOLOGY)
            self.reply_ids.append(
                await self.c.history.call(
                    HistoryStore.add_message, self.turn_id, "assistant", content=APOLOGY
                )
            )
        return TurnResult(
            conversation_id,
            self.turn_id,
            "".join(self.said),
            "".join(self.reasoning),
            tuple(self.reply_ids),
            result.rounds,
            result.capped,
            result.outcomes,
        )

    async def say(self, text: str, continues: bool = False) -> None:
        """Send words to the sink; a new round's words start on a new line.

        Args:
            text: The words.
            continues: They go on from words of the same round: passed on as they are, even
                when a word was cut between two deltas ("Li", "ma.").
        """
        if not text:
            return
        new_line = not continues and self.said and not self.said[-1][-1:].isspace()
        if new_line and not text[:1].isspace():
            text = "\n" + text
        self.said.append(text)
        await self.sink.content(text)

    async def __call__(self, messages: tuple[Message, ...]) -> ChatCompletion:
        """Send one request, stream its reply out, and store it as it arrives."""
        self.spoke = False
        history = self.c.history
        request = self.c.request(messages)
        reply_id = await history.call(
            HistoryStore.add_message,
            self.turn_id,
            "assistant",
            status="streaming",
            model=request.model,
        )
        self.reply_ids.append(reply_id)
        begun, first = time.monotonic(), None
        splitter = ThinkSplitter()
        content: list[str] = []
        thought: list[str] = []
        try:
            async with self.c.client.stream_chat(request) as stream:
                history.update_text(reply_id, request_id=stream.completion.request_id)
                async for delta in stream:
                    first = first or time.monotonic()
                    said, inline = splitter.feed(delta.content) if delta.content else ("", "")
                    await self._take(said, delta.reasoning + inline, content, thought)
                    history.update_text(reply_id, content=content, reasoning=thought)
                await self._take(*splitter.close(), content, thought)
        except BaseException as exc:
            status = "failed" if isinstance(exc, Exception) else "interrupted"
            update = history.call(
                HistoryStore.update_message,
                reply_id,
                status=status,
                error=str(exc) or None,
                content="".join(content),
                reasoning="".join(thought),
            )
            await asyncio.shield(update)
            raise
        completion = replace(
            stream.completion, content="".join(content), reasoning="".join(thought)
        )
        if completion.tool_calls:
            self.c.acted = True  # before any of them runs
        usage = asdict(completion.usage) if completion.usage else None
        timings = {"total_s": round(time.monotonic() - begun, 4)}
        if first is not None:
            timings["first_token_s"] = round(first - begun, 4)
        await history.call(
            HistoryStore.update_message,
            reply_id,
            status="done",
            content=completion.content,
            reasoning=completion.reasoning,
            tool_calls=completion.tool_calls,
            usage=usage,
            request_id=completion.request_id,
            timings=timings,
            model=completion.model or request.model,
        )
        return completion

    async def _take(
        self, said: str, thought: str, content: list[str], reasoning: list[str]
    ) -> None:
        """Pass a delta's words to the sink and its reasoning aside, keeping both."""
        if thought:
            reasoning.append(thought)
            self.reasoning.append(thought)
            await self.sink.reasoning(thought)
        if said:
            content.append(said)
            continues, self.spoke = self.spoke, True
            await self.say(said, continues)

    async def tool_result(self, outcome: ToolOutcome) -> None:
        """Store a tool call's outcome the moment it is known."""
        await self.c.history.call(
            HistoryStore.add_message,
            self.turn_id,
            "tool",
            content=outcome.content,
            tool_call_id=outcome.call.id,
            tool_name=outcome.call.name,
            status="done" if outcome.ok else "failed",
            error=outcome.problem,
            timings={"duration_s": round(outcome.duration_s, 4)},
        )
