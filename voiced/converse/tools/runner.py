"""Running the model's tool calls: concurrently, each checked, confirmed and timed; and the loop."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from voiced.converse.tools.registry import ToolError, ToolRegistry
from voiced.converse.tools.schema import ArgumentError
from voiced.errors import BadRequestError
from voiced.groq.models import ChatCompletion, Message, ToolCall

APOLOGY = "Sorry, I couldn't finish that: it needed more steps than I'm allowed, so I stopped."
"""Said when the model still wants tools after the last allowed round."""
RESULT_LIMIT = 16_000
"""Longest tool result passed to the model, in characters."""

Problem = Literal["unknown_tool", "invalid_arguments", "not_confirmed", "timeout", "failed"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConfirmRequest:
    """A side-effect tool call waiting for the user's yes or no.

    Attributes:
        verbs: Verbs naming the action, one of which a spoken approval must say ("open":
            "yes, open it"): the tool's ``confirm_verbs``, else the first word of its name.
    """

    tool: str
    arguments: dict[str, Any]
    question: str
    verbs: tuple[str, ...] = ()


class Confirm(Protocol):
    """Asks the user whether a tool call may run; True means yes."""

    async def __call__(self, request: ConfirmRequest) -> bool: ...


async def refuse(request: ConfirmRequest) -> bool:
    """The Confirm used when nobody can be asked: always no."""
    return False


@dataclass(frozen=True)
class ToolOutcome:
    """What became of one tool call: the text the model sees, and what went wrong, if anything."""

    call: ToolCall
    content: str
    problem: Problem | None = None
    started_at: float = 0.0
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the tool ran and returned."""
        return self.problem is None

    def as_message(self) -> Message:
        """The tool message answering the call."""
        return Message.tool(self.call.id, self.content)


OnResult = Callable[[ToolOutcome], Awaitable[None]]


class ToolRunner:
    """Runs tool calls concurrently; every failure becomes a result the model can read.

    Args:
        registry: The tools the model was offered.
        confirm: Asked before a tool marked ``confirm`` runs; questions are put one at a time.
        timeout: Seconds a tool may run unless it sets its own (confirmation time excluded).
    """

    def __init__(self, registry: ToolRegistry, confirm: Confirm = refuse, timeout: float = 30.0):
        self.registry = registry
        self._confirm = confirm
        self._timeout = timeout
        self._asking = asyncio.Lock()

    async def run(
        self, calls: Sequence[ToolCall], on_result: OnResult | None = None
    ) -> list[ToolOutcome]:
        """Run every call at once; ``on_result`` hears each outcome as soon as it is known.

        Returns:
            The outcomes, in the order of ``calls``.
        """
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self._one(call, on_result)) for call in calls]
        return [task.result() for task in tasks]

    async def _one(self, call: ToolCall, on_result: OnResult | None) -> ToolOutcome:
        started = time.time()
        begun = time.monotonic()
        try:
            problem, content = await self._attempt(call)
        except Exception as exc:  # one call's failure, whatever it is, must not end the round
            log.debug("tool call %.64s failed", call.name, exc_info=True)
            problem, content = (
                "failed",
                _error(f"{_quoted(call.name)} failed: {type(exc).__name__}: {_cut(str(exc), 300)}"),
            )
        outcome = ToolOutcome(call, content, problem, started, time.monotonic() - begun)
        if problem is not None:
            log.info("tool %.64s: %s: %s", call.name, problem, content)
        if on_result is not None:
            await on_result(outcome)
        return outcome

    async def _attempt(self, call: ToolCall) -> tuple[Problem | None, str]:
        item = self.registry.get(call.name)
        if item is None:
            known = ", ".join(self.registry.names) or "none"
            return "unknown_tool", _error(
                f"there is no tool called {_quoted(call.name)}; the tools are: {known}"
            )
        try:
            arguments = item.check(call.arguments)
        except ArgumentError as exc:
            return "invalid_arguments", _error(f"invalid arguments for {item.name}: {exc}")
        if item.confirm:
            try:  # the question is put only about arguments the tool accepts
                request = ConfirmRequest(
                    item.name,
                    arguments,
                    item.question(arguments),
                    item.confirm_verbs or (item.name.split("_")[0].lower(),),
                )
            except ToolError as exc:
                return "invalid_arguments", _error(f"invalid arguments for {item.name}: {exc}")
            if not await self._ask(request):
                return "not_confirmed", _error(
                    "the user did not allow this, so nothing was done; do not retry unless asked"
                )
        limit = item.timeout or self._timeout
        try:
            async with asyncio.timeout(limit):
                value = await item.invoke(arguments)
        except TimeoutError:
            return "timeout", _error(f"{item.name} did not finish within {limit:g} seconds")
        except ToolError as exc:
            return "failed", _error(str(exc))
        except Exception as exc:  # any bug in any tool must reach the model, not the user
            log.debug("tool %s raised", item.name, exc_info=True)
            return "failed", _error(f"{item.name} failed: {type(exc).__name__}: {exc}")
        return None, _text(value)

    async def _ask(self, request: ConfirmRequest) -> bool:
        async with self._asking:
            return await self._confirm(request)


def _error(message: str) -> str:
    return json.dumps({"error": message}, ensure_ascii=False)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… [cut]"


def _quoted(name: str) -> str:
    """A tool name the model wrote, quoted and short enough for a message."""
    return repr(_cut(name, 64))


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > RESULT_LIMIT:
        text = text[:RESULT_LIMIT] + f"… [cut: {len(text) - RESULT_LIMIT} more characters]"
    return text


class ModelRound(Protocol):
    """Sends the messages to the model once (streaming the reply out) and returns the reply.

    Attributes:
        spoke: Whether the latest call put words out before it ended; a failed request
            that already said something is not retried, so nothing is said twice.
    """

    spoke: bool

    async def __call__(self, messages: tuple[Message, ...]) -> ChatCompletion: ...


@dataclass(frozen=True)
class LoopResult:
    """How a turn's tool loop ended.

    Attributes:
        messages: The assistant and tool messages the turn added, in order.
        rounds: Requests answered by the model.
        capped: The model still wanted tools after the last allowed round.
        outcomes: Every tool call's outcome, round by round in the order of the calls.
    """

    messages: tuple[Message, ...]
    rounds: int
    capped: bool
    outcomes: tuple[ToolOutcome, ...] = ()


class ToolLoop:
    """Ask the model, run the tools it calls, give it the results; repeat until it answers.

    Args:
        runner: Runs each round's calls.
        max_rounds: Most requests in one turn (the last may not call tools any more).
    """

    def __init__(self, runner: ToolRunner, max_rounds: int = 8) -> None:
        self.runner = runner
        self.max_rounds = max_rounds

    async def run(
        self,
        messages: Sequence[Message],
        ask: ModelRound,
        on_result: OnResult | None = None,
    ) -> LoopResult:
        """Run the loop from ``messages`` (the context, ending with the user's words).

        Raises:
            BadRequestError: ``tool_use_failed`` twice in a row, or any other refusal.
            ApiError: A request failed.
        """
        sent = list(messages)
        added: list[Message] = []
        done: list[ToolOutcome] = []
        for round_number in range(1, self.max_rounds + 1):
            reply = await self._ask(tuple(sent), ask)
            added.append(reply.as_message())
            if not reply.tool_calls:
                return LoopResult(tuple(added), round_number, False, tuple(done))
            if round_number == self.max_rounds:
                break
            outcomes = await self.runner.run(reply.tool_calls, on_result)
            done += outcomes
            results = [o.as_message() for o in outcomes]
            added += results
            sent += [reply.as_message(), *results]
        return LoopResult(tuple(added), self.max_rounds, True, tuple(done))

    async def _ask(self, messages: tuple[Message, ...], ask: ModelRound) -> ChatCompletion:
        try:
            return await ask(messages)
        except BadRequestError as exc:
            if exc.code != "tool_use_failed":
                raise
            if ask.spoke:
                raise _reported(exc, "after part of the reply was said") from exc
            log.info("tool_use_failed; asking once more: %s", exc.failed_generation)
        try:
            return await ask(messages)
        except BadRequestError as exc:
            if exc.code != "tool_use_failed":
                raise
            raise _reported(exc, "twice in a row") from exc


def _reported(exc: BadRequestError, when: str) -> BadRequestError:
    """The tool_use_failed error as the user sees it, with what the model wrote."""
    wrote = (exc.failed_generation or "(nothing)").replace("\n", " ")[:300]
    return BadRequestError(
        f"the model failed to call its tools {when} (tool_use_failed); it wrote: {wrote}",
        "ask again in other words, or try another model with --model",
        exc.details,
    )
