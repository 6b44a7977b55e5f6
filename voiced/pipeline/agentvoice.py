"""The daemon's voice for other programs (``voiced mcp``): speak, notify, and ask the user.

A question is said aloud, then the answer is the next accepted utterance that begins after
it was said (or a message typed in a client): :class:`AskingBroker` takes it the way tool
confirmations take a spoken yes or no, so it never starts a turn of its own. The daemon's
rules hold: a muted microphone cannot hear an answer, so asking then fails with a reason.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from voiced.errors import InputError, VoicedError
from voiced.pipeline.approval import ConfirmBroker, Heard
from voiced.protocol.commands import AskUser
from voiced.protocol.events import Event, ModeChanged
from voiced.protocol.reports import LogRecord, UserAnswer

if TYPE_CHECKING:
    from voiced.pipeline.host import EngineHost as Daemon

MAX_TEXT = 2000
"""Longest text (or question) another program may have said, in characters."""
ASK_TIMEOUT_S = (1.0, 600.0)
"""Least and most seconds a question may wait for its answer."""
IDLE = ("listening", "muted")
"""States in which a notification is also said aloud."""
log = logging.getLogger(__name__)

Source = Literal["voice", "typed", ""]


@dataclass
class Asked:
    """A question waiting for the user's answer."""

    command: AskUser
    answer: asyncio.Future[tuple[bool, str, Source]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    """(answered, the answer or why there is none, where it came from)."""
    asked_until: int | None = None
    """Input clock (samples) when voiced finished saying it; None while it still speaks."""

    def settle(self, answered: bool, text: str, source: Source = "") -> bool:
        """Give the outcome, unless it was given already."""
        if self.answer.done():
            return False
        self.answer.set_result((answered, text, source))
        return True


class AskingBroker(ConfirmBroker):
    """The tool-confirmation broker, which also takes the answer to a program's question.

    A tool waiting for its yes or no goes first; otherwise an accepted utterance that began
    after the question was said is the answer (one that began while voiced was still asking
    is not: it may be voiced's own voice, or the user talking over it).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.question: Asked | None = None

    @property
    def pending(self) -> bool:
        """Whether a tool or a program waits for the user's answer."""
        return super().pending or self.question is not None

    def hear(self, transcript: str, onset: int) -> Heard:
        """Take an utterance heard while something waits for an answer."""
        if super().pending:
            return super().hear(transcript, onset)
        asked = self.question
        if asked is None or asked.answer.done():
            return Heard(None, "no question waits for an answer")
        if asked.asked_until is None or onset < asked.asked_until:
            return Heard(None, "it began while voiced was asking (it may be voiced's own voice)")
        asked.settle(True, transcript, "voice")
        return Heard(True)


class AgentVoice:
    """Carries out ``speak``, ``notify`` and ``ask_user`` for the dispatcher.

    Args:
        daemon: Its bus, state and controls.
        broker: Takes the spoken answer.
        announce: Says a text (noted by the echo guard, so voiced does not answer itself).
        say: Says a question (not noted: the answer may well repeat its words).
        clock: The input clock now, in samples.
    """

    def __init__(
        self,
        daemon: Daemon,
        broker: AskingBroker,
        announce: Callable[[str], Awaitable[None]],
        say: Callable[[str], Awaitable[object]],
        clock: Callable[[], int],
    ) -> None:
        self.daemon, self.broker = daemon, broker
        self.announce, self.say, self.clock = announce, say, clock
        self._tasks: set[asyncio.Task[None]] = set()
        daemon.bus.listen(self._watch)

    async def speak(self, text: str) -> None:
        """Say ``text``; returns once it was said (or stopped).

        Raises:
            InputError: It is empty or too long.
        """
        await self.announce(_checked(text, "text to say"))

    def notify(self, text: str) -> bool:
        """Show ``text`` in every client, and say it when voiced is idle; True when said.

        Raises:
            InputError: It is empty or too long.
        """
        text = _checked(text, "notification")
        self.daemon.publish(LogRecord(level="info", message=f"notification: {text}"))
        if self.daemon.state.state not in IDLE or self.broker.pending:
            return False
        self._spawn(self.announce(text))
        return True

    def ask(self, command: AskUser) -> None:
        """Put the question (in the background); the answer is published as ``user_answer``.

        Raises:
            InputError: The question is empty or too long, or the timeout out of range.
            VoicedError: The microphone is muted, or voiced already waits for an answer.
        """
        _checked(command.question, "question")
        low, high = ASK_TIMEOUT_S
        if not (math.isfinite(command.timeout_s) and low <= command.timeout_s <= high):
            raise InputError(
                f"the timeout must be between {low:g} and {high:g} seconds, "
                f"got {command.timeout_s:g}"
            )
        if self.daemon.controls.muted and not self.daemon.controls.ptt:
            raise VoicedError(
                "the microphone is muted, so voiced cannot hear an answer",
                "ask the user to unmute it (`voiced unmute`, or m in the TUI), then ask again",
            )
        if self.broker.pending:
            what = "a tool's yes or no" if self.broker.question is None else "another answer"
            raise VoicedError(f"voiced is already waiting for {what}", "ask again in a moment")
        asked = Asked(command)
        self.broker.question = asked
        self._spawn(self._put(asked))

    def answer_typed(self, text: str) -> bool:
        """Take a typed message as the answer, when a question waits for one."""
        asked = self.broker.question
        return asked is not None and asked.settle(True, text, "typed")

    def withdraw(self, reason: str) -> bool:
        """End a waiting question without an answer (cancelled, muted)."""
        asked = self.broker.question
        return asked is not None and asked.settle(False, reason)

    async def _put(self, asked: Asked) -> None:
        question = asked.command.question
        self.daemon.publish(LogRecord(level="info", message=f"a program asks: {question}"))
        try:
            try:
                await self.say(question)
            except VoicedError as exc:
                asked.settle(False, f"the question could not be said: {exc.message}")
            asked.asked_until = self.clock()
            try:
                async with asyncio.timeout(asked.command.timeout_s):
                    answered, text, source = await asyncio.shield(asked.answer)
            except TimeoutError:
                waited = asked.command.timeout_s
                answered, text, source = False, f"no answer within {waited:g} s", ""
        finally:
            if self.broker.question is asked:
                self.broker.question = None
        self.daemon.publish(
            UserAnswer(
                id=asked.command.id,
                question=question,
                answered=answered,
                text=text if answered else "",
                source=source,
                reason="" if answered else text,
            )
        )

    def _watch(self, event: Event) -> None:
        if isinstance(event, ModeChanged) and event.mode == "muted" and not event.ptt:
            self.withdraw("the microphone was muted")

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:  # said nothing, but the daemon goes on
                log.exception("speaking for another program failed")

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _checked(text: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise InputError(f"the {what} is empty", "give some words")
    if len(text) > MAX_TEXT:
        raise InputError(
            f"the {what} is {len(text):,} characters long; at most {MAX_TEXT:,} are said",
            "say it in shorter pieces",
        )
    return text
