"""Tools and the user: calls and results reported as events, side effects confirmed first.

A side-effect tool waits for the user's answer: from the keyboard (any client's ``confirm``
command, the TUI's y and n) always; by voice only as :meth:`ConfirmBroker.hear` allows.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from voiced.audio.frames import SAMPLE_RATE
from voiced.converse.tools import runner
from voiced.converse.tools.registry import ToolRegistry
from voiced.groq.models import ToolCall
from voiced.listen.filter import normalise
from voiced.protocol.events import ConfirmRequest, ConfirmResolved, Event, ToolCalled, ToolResult

CONFIRM_TIMEOUT_S = 60.0
"""A confirmation nobody answers counts as no after this long."""
ANSWER_AFTER_S = 1.0
"""A spoken answer must begin at least this long after voiced finished asking: sooner, it may
be voiced's own voice heard back (as ``utterances.ECHO_TAIL_S``)."""
YES = frozenset({"yes", "yeah", "yep", "sure", "ok", "okay", "do it", "go ahead", "please do"})
NO = frozenset({"no", "nope", "dont", "cancel", "stop", "never mind", "no thanks"})
AFFIRMATIVE = frozenset({"yes", "yeah", "yep"})
"""Words that may open a spoken approval ("yes, open it")."""
OBJECTS = frozenset(
    {("it",), ("that",), ("this",)}
    | {("the", noun) for noun in ("page", "link", "site", "website", "url", "app", "program")}
    | {("the", "application")}
)
"""What may follow the verb in a spoken approval, besides a short argument ("Firefox")."""
Say = Callable[[str, str], Awaitable[object]]
"""Speaks a question and how to answer it; returns once it has been said."""
log = logging.getLogger(__name__)


def yes_or_no(transcript: str) -> bool | None:
    """True for a bare spoken yes, False for a no, None for anything else.

    A bare yes never approves anything (see :func:`names_the_action`); it is told apart to
    say why it did not.
    """
    words = " ".join(normalise(transcript))
    return True if words in YES else False if words in NO else None


def names_the_action(transcript: str, verbs: Sequence[str], arguments: dict[str, Any]) -> bool:
    """Whether a transcript is a spoken approval naming the action: all of it is "yes" (or
    "yeah", "yep"), one of ``verbs``, then "it", "that", "the page"… or a short argument
    ("yes, open Firefox"); "please" may be added anywhere.

    Args:
        transcript: What was heard.
        verbs: The tool's confirmation verbs ("open").
        arguments: The call's arguments (a short string one may name the object).
    """
    words = tuple(w for w in normalise(transcript) if w != "please")
    if len(words) < 3 or words[0] not in AFFIRMATIVE or words[1] not in verbs:
        return False
    rest = words[2:]
    named = {normalise(v) for v in arguments.values() if isinstance(v, str)}
    named = {n for n in named if 0 < len(n) <= 5}
    return rest in OBJECTS or rest in named or (rest[0] == "the" and rest[1:] in named)


@dataclass(frozen=True)
class Heard:
    """What a transcript heard while a question waits did.

    Attributes:
        answered: True (allowed), False (refused) or None (no answer: ``reason`` says why).
        reason: Why it was not taken as an answer.
    """

    answered: bool | None
    reason: str = ""


@dataclass
class _Question:
    request: runner.ConfirmRequest
    future: asyncio.Future[bool]
    asked_until: int | None = None
    """Input clock (samples) when voiced finished asking; None while it still speaks."""


class ConfirmBroker:
    """The tool runner's Confirm: asks every client (and the user aloud), waits for an answer.

    Args:
        publish: Where the confirmation events go.
        turn: The number of the turn in progress.
        timeout_s: Seconds before an unanswered question counts as no.
        clock: The input clock now, in samples (utterances' onsets are on it).
        voice: Whether a spoken phrase naming the action may allow a tool.
        window_s: Seconds after voiced finished asking in which a spoken answer may begin.
    """

    def __init__(
        self,
        publish: Callable[[Event], None],
        turn: Callable[[], int],
        timeout_s: float = CONFIRM_TIMEOUT_S,
        clock: Callable[[], int] = lambda: 0,
        voice: bool = False,
        window_s: float = 10.0,
    ) -> None:
        self.publish, self.turn, self.timeout_s, self.clock = publish, turn, timeout_s, clock
        self.voice, self.window_s = voice, window_s
        self.say: Say | None = None
        """Speaks the question (set by the pipeline)."""
        self._pending: dict[str, _Question] = {}
        self._ids = itertools.count(1)
        self._speaking: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> bool:
        """Whether a question waits for its answer."""
        return bool(self._pending)

    def how_to_answer(self, request: runner.ConfirmRequest) -> str:
        """What voiced says after the question: how the user may answer it."""
        if self.voice:
            verb = request.verbs[0] if request.verbs else "do"
            return f"To allow it, say: yes, {verb} it. Or press y in voiced."
        return "To allow it, press y in voiced."

    async def __call__(self, request: runner.ConfirmRequest) -> bool:
        """Ask; True when the user allowed it in time.

        A question whose turn is cancelled is published as resolved (``by="cancel"``), so
        no client keeps showing it.
        """
        call_id = f"confirm-{next(self._ids)}"
        question = _Question(request, asyncio.get_running_loop().create_future())
        self._pending[call_id] = question
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
        if self.say is None:
            question.asked_until = self.clock()
        else:
            task = asyncio.create_task(self._ask_aloud(question))
            self._speaking.add(task)
            task.add_done_callback(self._speaking.discard)
        try:
            async with asyncio.timeout(self.timeout_s):
                return await question.future
        except TimeoutError:
            self.publish(ConfirmResolved(call_id=call_id, approved=False, by="timeout"))
            return False
        except asyncio.CancelledError:
            if question.future.cancelled():  # not answered: the turn was stopped
                self.publish(ConfirmResolved(call_id=call_id, approved=False, by="cancel"))
            raise
        finally:
            self._pending.pop(call_id, None)

    def answer(self, call_id: str, approve: bool) -> bool:
        """Resolve a question; "" answers the oldest. False when none has that id."""
        call_id = call_id or next(iter(self._pending), "")
        question = self._pending.get(call_id)
        if question is None or question.future.done():
            return False
        question.future.set_result(approve)
        return True

    def hear(self, transcript: str, onset: int) -> Heard:
        """Take an utterance heard while a question waits as its answer, if it is one.

        A spoken no ("no", "cancel", "stop", …) refuses at any time: refusing is safe. A
        spoken approval counts only with ``voice`` on, when the whole utterance names the
        action (:func:`names_the_action`) and began after voiced finished asking (and
        :data:`ANSWER_AFTER_S` more), within ``window_s``. A bare "yes" or "okay" never
        allows anything. An answer resolves the oldest question and is published.

        Args:
            transcript: What was heard.
            onset: Where the voice began, on the input clock (samples).
        """
        call_id, question = next(iter(self._pending.items()), ("", None))
        if question is None or question.future.done():
            return Heard(None, "no tool waits for an answer")
        if yes_or_no(transcript) is False:
            return self._resolve(call_id, False)
        request = question.request
        verb = request.verbs[0] if request.verbs else "do"
        if not self.voice:
            return Heard(None, "a tool waits for a yes or no: press y or n in voiced")
        if not names_the_action(transcript, request.verbs, request.arguments):
            if yes_or_no(transcript):
                return Heard(None, f'a bare yes allows nothing: say "yes, {verb} it"')
            return Heard(None, "a tool waits for a yes or no")
        asked = question.asked_until
        if asked is None or onset < asked + round(ANSWER_AFTER_S * SAMPLE_RATE):
            return Heard(None, "it began while voiced was asking (it may be voiced's own voice)")
        if onset > asked + round(self.window_s * SAMPLE_RATE):
            return Heard(
                None,
                f"too late for a spoken answer ({self.window_s:g} s): press y or n in voiced",
            )
        return self._resolve(call_id, True)

    def _resolve(self, call_id: str, approve: bool) -> Heard:
        if not self.answer(call_id, approve):
            return Heard(None, "no tool waits for an answer")
        self.publish(ConfirmResolved(call_id=call_id, approved=approve, by="user"))
        return Heard(approve)

    async def _ask_aloud(self, question: _Question) -> None:
        assert self.say is not None
        try:
            await self.say(question.request.question, self.how_to_answer(question.request))
        except Exception as exc:  # a question that cannot be said still waits for the keyboard
            log.warning("could not say the question %r: %s", question.request.question, exc)
        finally:
            question.asked_until = self.clock()


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
