"""Tools and the user: calls and results reported as events, side effects confirmed first."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Sequence

from voiced.converse.tools import runner
from voiced.converse.tools.registry import ToolRegistry
from voiced.groq.models import ToolCall
from voiced.listen.filter import normalise
from voiced.protocol.events import ConfirmRequest, ConfirmResolved, Event, ToolCalled, ToolResult

CONFIRM_TIMEOUT_S = 60.0
"""A confirmation nobody answers counts as no after this long."""
YES = frozenset({"yes", "yeah", "yep", "sure", "ok", "okay", "do it", "go ahead", "please do"})
NO = frozenset({"no", "nope", "dont", "cancel", "stop", "never mind", "no thanks"})


def yes_or_no(transcript: str) -> bool | None:
    """True for a spoken yes, False for a no, None for anything else."""
    words = " ".join(normalise(transcript))
    return True if words in YES else False if words in NO else None


class ConfirmBroker:
    """The tool runner's Confirm: asks every client (and the user aloud), waits for an answer.

    Args:
        publish: Where the confirmation events go.
        turn: The number of the turn in progress.
        timeout_s: Seconds before an unanswered question counts as no.
    """

    def __init__(
        self,
        publish: Callable[[Event], None],
        turn: Callable[[], int],
        timeout_s: float = CONFIRM_TIMEOUT_S,
    ) -> None:
        self.publish, self.turn, self.timeout_s = publish, turn, timeout_s
        self.say: Callable[[str], None] | None = None
        """Speaks the question (set by the turn in progress)."""
        self._pending: dict[str, asyncio.Future[bool]] = {}
        self._ids = itertools.count(1)

    @property
    def pending(self) -> bool:
        """Whether a question waits for its answer."""
        return bool(self._pending)

    async def __call__(self, request: runner.ConfirmRequest) -> bool:
        """Ask; True when the user said yes in time."""
        call_id = f"confirm-{next(self._ids)}"
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        self.publish(
            ConfirmRequest(
                turn=self.turn(),
                call_id=call_id,
                name=request.tool,
                arguments=json.dumps(request.arguments, ensure_ascii=False),
                question=request.question,
                timeout_s=self.timeout_s,
            )
        )
        if self.say is not None:
            self.say(request.question)
        try:
            async with asyncio.timeout(self.timeout_s):
                return await future
        except TimeoutError:
            self.publish(ConfirmResolved(call_id=call_id, approved=False, by="timeout"))
            return False
        finally:
            self._pending.pop(call_id, None)

    def answer(self, call_id: str, approve: bool) -> bool:
        """Resolve a question; "" answers the oldest. False when none has that id."""
        call_id = call_id or next(iter(self._pending), "")
        future = self._pending.get(call_id)
        if future is None or future.done():
            return False
        future.set_result(approve)
        return True

    def answer_by_voice(self, approve: bool) -> str | None:
        """Resolve the oldest question from a spoken yes or no; return its id."""
        call_id = next(iter(self._pending), None)
        if call_id is not None and self.answer(call_id, approve):
            self.publish(ConfirmResolved(call_id=call_id, approved=approve, by="user"))
            return call_id
        return None


class ReportingRunner(runner.ToolRunner):
    """A ToolRunner that tells the clients about each call as it starts and ends.

    Args:
        registry: The tools offered.
        confirm: Asked before side-effect tools run.
        timeout: Seconds a tool may run.
        publish: Where the events go.
        turn: The number of the turn in progress.
    """

    def __init__(
        self,
        registry: ToolRegistry,
        confirm: runner.Confirm,
        timeout: float,
        publish: Callable[[Event], None],
        turn: Callable[[], int],
    ) -> None:
        super().__init__(registry, confirm, timeout)
        self.publish, self.turn = publish, turn

    async def run(
        self, calls: Sequence[ToolCall], on_result: runner.OnResult | None = None
    ) -> list[runner.ToolOutcome]:
        """Run the calls, reporting each."""
        turn = self.turn()
        for call in calls:
            self.publish(
                ToolCalled(turn=turn, call_id=call.id, name=call.name, arguments=call.arguments)
            )

        async def report(outcome: runner.ToolOutcome) -> None:
            self.publish(
                ToolResult(
                    turn=turn,
                    call_id=outcome.call.id,
                    name=outcome.call.name,
                    ok=outcome.ok,
                    result=outcome.content,
                )
            )
            if on_result is not None:
                await on_result(outcome)

        return await super().run(calls, report)
