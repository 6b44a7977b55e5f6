"""Carrying out the clients' commands on the daemon."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import TYPE_CHECKING

from voiced import __version__
from voiced.errors import InputError, VoicedError
from voiced.protocol import commands as c
from voiced.protocol.events import PROTOCOL_VERSION, ConfirmResolved, Event, Hello
from voiced.protocol.reports import LogRecord, ModelsChanged, Status

if TYPE_CHECKING:
    from voiced.daemon.app import Daemon
    from voiced.pipeline.agentvoice import AgentVoice


VOICE_WAIT_S = 30.0
"""How long a program's speak, notify or ask_user waits for a starting pipeline."""


class Dispatcher:
    """The daemon's :class:`voiced.daemon.server.CommandHandler`.

    Args:
        daemon: The daemon whose controls, state and engine the commands act on.
    """

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    def greeting(self) -> Hello:
        """The greeting: versions, state, mode and models."""
        d = self.daemon
        return Hello(
            protocol=PROTOCOL_VERSION,
            version=__version__,
            pid=os.getpid(),
            state=d.state.state,
            mode=d.controls.shown_mode,
            chat_model=d.models["chat"],
            stt_model=d.models["stt"],
            wake_word=d.controls.wake_word,
        )

    def recent(self) -> tuple[Event, ...]:
        """The recent conversation, the confirmations still waiting for an answer, then the
        problems that last (the history unavailable)."""
        return (*self.daemon.recent.replay(), *self.daemon.standing)

    async def handle(self, command: c.Command) -> tuple[Event, ...]:
        """Carry out one command.

        Raises:
            VoicedError: The command cannot be carried out now (the reason goes in the ack).
        """
        d = self.daemon
        match command:
            case c.Mute():
                d.controls.muted, d.controls.ptt = True, False
                d.apply_controls(flush=False)
            case c.Unmute():
                d.controls.muted = False
                d.apply_controls()
            case c.SetMode(mode=mode):
                d.controls.set_mode(mode)
                d.apply_controls(flush=mode != "muted")
            case c.PushToTalk(action=action):
                d.controls.push_to_talk(action)
                d.apply_controls()
            case c.Cancel():
                await self._cancel()
            case c.SendText(text=text):
                if not text.strip():
                    raise InputError("the message is empty", "type something to send")
                if d.voice is not None and d.voice.answer_typed(text.strip()):
                    return ()  # the answer to a program's question (ask_user)
                await d.engine.submit_text(text.strip())
            case c.Confirm(call_id=call_id, approve=approve):
                self._confirm(call_id, approve)
            case c.SetModel(kind=kind, model=model):
                if not model.strip():
                    raise InputError("no model named", "give a model id from `voiced models`")
                d.models[kind] = model.strip()
                d.engine.set_model(kind, model.strip())
                d.bus.publish(ModelsChanged(chat_model=d.models["chat"], stt_model=d.models["stt"]))
            case c.Reload():
                await d.reload()
            case c.GetStatus():
                return (self.status(command.id),)
            case c.Speak(text=text):
                await (await self._voice()).speak(text)
            case c.Notify(text=text):
                (await self._voice()).notify(text)
            case c.AskUser():
                (await self._voice()).ask(command)
        return ()

    def status(self, reply_to: str = "") -> Status:
        """The daemon's whole state as a ``status`` event."""
        d = self.daemon
        echo = getattr(d.engine, "echo", None)  # the assembled pipeline's EchoState, once built
        return Status(
            id=reply_to,
            state=d.state.state,
            mode=d.controls.shown_mode,
            ptt=d.controls.ptt,
            chat_model=d.models["chat"],
            stt_model=d.models["stt"],
            barge_in=d.settings.daemon.barge_in,
            speculative=d.settings.daemon.speculative,
            wake_word=d.controls.wake_word,
            wake_phrase=d.settings.daemon.wake_phrase,
            awake=d.engine.awake(),
            clients=d.control.clients,
            uptime_s=round(time.monotonic() - d.started, 3),
            session_cost_usd=d.session_cost_usd,
            version=__version__,
            pid=os.getpid(),
            mcp=d.mcp_states(),
            echo=echo.describe() if echo is not None else "",
            echo_erle_db=echo.last_erle_db if echo is not None else None,
        )

    async def _voice(self) -> AgentVoice:
        """The daemon's voice for other programs, once the pipeline is up (waiting up to
        VOICE_WAIT_S for it, as a typed message does).

        Raises:
            VoicedError: The pipeline did not come up, or this daemon has none.
        """
        ready = getattr(self.daemon.engine, "ready", None)
        if self.daemon.voice is None and isinstance(ready, asyncio.Event):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(VOICE_WAIT_S):
                    await ready.wait()
        voice = self.daemon.voice
        if voice is None:
            raise VoicedError(
                "voiced has no voice yet: the assistant is starting, or runs without audio",
                "try again in a moment; `voiced status` shows the daemon's state",
            )
        return voice

    async def _cancel(self) -> None:
        d = self.daemon
        cancelled = await d.engine.cancel()
        if d.voice is not None and d.voice.withdraw("the user cancelled it"):
            cancelled = True
        for call_id in list(d.recent.pending):
            d.bus.publish(ConfirmResolved(call_id=call_id, approved=False, by="cancel"))
            cancelled = True
        if not cancelled:
            d.bus.publish(LogRecord(level="info", message="cancel: nothing was in progress"))

    def _confirm(self, call_id: str, approve: bool) -> None:
        d = self.daemon
        pending = d.recent.pending
        if not pending:
            raise VoicedError("no tool is waiting for a confirmation")
        call_id = call_id or next(iter(pending))
        if call_id not in pending or not d.engine.answer(call_id, approve):
            raise VoicedError(
                f"no tool call {call_id!r} is waiting for a confirmation",
                f"waiting: {', '.join(pending) or 'none'}",
            )
        d.bus.publish(ConfirmResolved(call_id=call_id, approved=approve, by="user"))
