"""Routes what the daemon sends to the widgets that show it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from voiced.protocol import events as e
from voiced.protocol import reports as r
from voiced.protocol.follow import Connected, Disconnected
from voiced.protocol.shown import printable, url_hosts
from voiced.tui.widgets.confirm import ConfirmPrompt, Pending
from voiced.tui.widgets.conversation import ConversationPane
from voiced.tui.widgets.logpane import LogPane
from voiced.tui.widgets.status import StatusBar
from voiced.tui.widgets.timeline import LatencyTimeline, Milestone

Incoming = Connected | Disconnected | e.Event
"""Anything the follower yields."""
DEVICES = frozenset({"microphone", "speaker"})
"""Error codes of device problems: shown in the status bar and the log, not the conversation."""
WITHDRAWN = {"speaker_went_on": "withdrawn: you went on, so the whole question is asked below"}
"""The note under a withdrawn turn, by the reason it was withdrawn."""


@dataclass
class Views:
    """The widgets events are shown in."""

    conversation: ConversationPane
    status: StatusBar
    timeline: LatencyTimeline
    log: LogPane
    confirm: ConfirmPrompt


@dataclass
class Known:
    """What the TUI knows of the daemon, for the keys that depend on it."""

    connected: bool = False
    state: str = "connecting"
    mode: str = "wake"
    ptt: bool = False
    pid: int = 0
    echo: str = ""
    """How the daemon keeps from hearing itself, as last shown."""


class EventRouter:
    """Applies each event to the views and keeps :class:`Known` up to date.

    Args:
        views: The widgets.
        known: Updated in place as events arrive.
        notify: Shows a short message as a toast: ``notify(text, severity)``.
    """

    def __init__(self, views: Views, known: Known, notify: Callable[[str, str], None]) -> None:
        self.views = views
        self.known = known
        self._notify = notify
        self._routes: dict[type[Any], Callable[[Any], Awaitable[None] | None]] = {
            Connected: self._connected,
            Disconnected: self._disconnected,
            e.StateChanged: self._state,
            e.ModeChanged: self._mode,
            e.WakeDetected: self._woke,
            e.InputLevel: self._level,
            e.SpeechStarted: lambda _: views.status.set_voice(True),
            e.SpeechEnded: lambda _: views.status.set_voice(False),
            e.Transcript: self._transcript,
            e.AssistantDelta: self._delta,
            e.AssistantText: self._text,
            e.TurnWithdrawn: self._withdrawn,
            e.Reasoning: self._reasoning,
            e.ToolCalled: self._tool_call,
            e.ToolResult: self._tool_result,
            e.ConfirmRequest: self._confirm_request,
            e.ConfirmResolved: self._confirm_resolved,
            r.Timeline: self._timeline,
            r.ErrorReport: self._error,
            r.RateLimitSnapshot: lambda ev: views.status.set_limits(
                ev.remaining_requests, ev.remaining_tokens
            ),
            r.UsageReport: lambda ev: views.status.set_cost(ev.session_cost_usd),
            r.ModelsChanged: lambda ev: views.status.set_models(ev.chat_model, ev.stt_model),
            r.History: self._history,
            r.Status: self._status,
            r.Ack: self._ack,
            r.LogRecord: lambda ev: views.log.add(ev.message, ev.level),
            r.Goodbye: lambda ev: views.log.add(f"daemon said goodbye: {ev.reason}", "warning"),
        }

    async def route(self, item: Incoming) -> None:
        """Show one event; events of a kind the TUI does not show are ignored."""
        handler = self._routes.get(type(item))
        if handler is not None:
            result = handler(item)
            if result is not None:
                await result

    def _connected(self, item: Connected) -> None:
        hello = item.hello
        known = self.known
        if hello.pid != known.pid:  # another daemon: it reports its own devices
            self.views.status.clear_device_problem()
        known.connected, known.state, known.mode, known.ptt = True, hello.state, hello.mode, False
        known.pid = hello.pid
        self.views.status.set_state(hello.state)
        self.views.status.set_mode(hello.mode, False, hello.wake_word)
        self.views.status.set_models(hello.chat_model, hello.stt_model)
        self.views.conversation.forget_turns()
        self.views.log.add(f"connected to voiced {hello.version} (pid {hello.pid})")

    async def _disconnected(self, item: Disconnected) -> None:
        await self.views.conversation.cut_off("cut off: the link to the daemon was lost")
        self.known.connected = False
        self.known.state = "reconnecting"
        self.views.status.set_state("reconnecting")
        self.views.status.set_offline("not connected to the daemon; retrying")
        await self.views.conversation.add_notice(f"⚠ {item.reason}")
        self.views.status.set_level(None)
        self.views.status.set_voice(False)
        self.views.confirm.clear()
        self.views.log.add(f"disconnected: {item.reason}; retrying", "warning")

    def _state(self, ev: e.StateChanged) -> None:
        self.known.state = ev.state
        self.views.status.set_state(ev.state)
        if ev.state == "error" and ev.reason:
            self.views.log.add(f"daemon error state: {ev.reason}", "error")

    def _mode(self, ev: e.ModeChanged) -> None:
        self.known.mode, self.known.ptt = ev.mode, ev.ptt
        self.views.status.set_mode(ev.mode, ev.ptt, ev.wake_word)
        if ev.mode == "muted":
            self.views.status.set_level(None)

    async def _woke(self, ev: e.WakeDetected) -> None:
        await self.views.conversation.add_notice(f"◆ wake word heard (score {ev.score:.2f})")
        self.views.log.add(f"wake word {ev.word} heard at {ev.at_s:.2f} s, score {ev.score:.3f}")

    def _level(self, ev: e.InputLevel) -> None:
        self.views.status.clear_device_problem("microphone")  # audio comes in: it works
        if self.known.mode != "muted":
            self.views.status.set_level(ev.rms_db)
            self.views.status.set_voice(ev.voiced)

    async def _transcript(self, ev: e.Transcript) -> None:
        if ev.accepted:
            typed = ev.source == "typed"
            await self.views.conversation.add_user(ev.text, typed, str(ev.turn))
        else:
            await self.views.conversation.add_rejected(ev.text, ev.reason or "rejected")

    async def _reasoning(self, ev: e.Reasoning) -> None:
        turn = await self.views.conversation.assistant(str(ev.turn))
        (await turn.reasoning()).append(ev.text)

    async def _delta(self, ev: e.AssistantDelta) -> None:
        await self.views.conversation.append(str(ev.turn), ev.text)

    async def _text(self, ev: e.AssistantText) -> None:
        note = "interrupted" if ev.interrupted else ""
        await self.views.conversation.finish(str(ev.turn), ev.text, note)

    async def _withdrawn(self, ev: e.TurnWithdrawn) -> None:
        note = WITHDRAWN.get(ev.reason, f"withdrawn: {ev.reason}")
        await self.views.conversation.withdraw(str(ev.turn), note)

    async def _tool_call(self, ev: e.ToolCalled) -> None:
        turn = await self.views.conversation.assistant(str(ev.turn))
        if turn.tool_call(ev.call_id) is None:
            await turn.add_tool_call(ev.call_id, ev.name, ev.arguments)

    async def _tool_result(self, ev: e.ToolResult) -> None:
        view = self.views.conversation.find_tool_call(ev.call_id)
        if view is None:
            turn = await self.views.conversation.assistant(str(ev.turn))
            view = await turn.add_tool_call(ev.call_id, ev.name, "")
        view.set_result(ev.result, ev.ok)

    def _confirm_request(self, ev: e.ConfirmRequest) -> None:
        hosts = tuple(url_hosts(ev.arguments))
        self.views.confirm.ask(Pending(ev.call_id, ev.name, ev.question or ev.arguments, hosts))
        self.views.log.add(f"{ev.name} waits for confirmation: {printable(ev.question)}")

    def _confirm_resolved(self, ev: e.ConfirmResolved) -> None:
        self.views.confirm.resolve(ev.call_id)
        verdict = "allowed" if ev.approved else "denied"
        self.views.log.add(f"confirmation {ev.call_id} {verdict} (by {ev.by})")

    def _timeline(self, ev: r.Timeline) -> None:
        marks: list[Milestone] = [
            ("transcript", ev.transcript_ms),
            ("token", ev.first_token_ms),
            ("clause", ev.first_clause_ms),
            ("audio", ev.first_audio_ms),
        ]
        if ev.end_confirmed_ms is not None:
            marks.append(("end", ev.end_confirmed_ms))
        typed = ev.speech_end_s is None and ev.transcript_ms is None  # nothing was heard
        if typed:  # no speech to transcribe: show the stages it reached, and no "no …"
            marks = [(name, ms) for name, ms in marks if ms is not None]
        self.views.timeline.set_milestones(marks, speculative=ev.speculative, typed=typed)

    async def _error(self, ev: r.ErrorReport) -> None:
        text = f"{ev.message} ({ev.hint})" if ev.hint else ev.message
        self.views.log.add(f"[{ev.code}] {text}", "error")
        if ev.code in DEVICES:
            self.views.status.set_device_problem(ev.code, ev.message)
        else:
            await self.views.conversation.add_notice(f"⚠ {text}")

    async def _history(self, ev: r.History) -> None:
        """Replace the conversation with the daemon's recent one; an empty history (a
        restarted daemon that remembers nothing) keeps what is on screen."""
        if not ev.entries:
            return
        pane = self.views.conversation
        await pane.clear()
        for entry in ev.entries:
            if entry.role == "user":
                await pane.add_user(entry.text, turn_id=str(entry.turn))
            elif entry.role == "tool":
                turn = await pane.assistant(str(entry.turn))
                view = await turn.add_tool_call(f"h{entry.turn}-{entry.name}", entry.name, "")
                view.set_result(entry.text, entry.ok)
            else:  # possibly a reply still streaming: its next deltas continue it
                await (await pane.assistant(str(entry.turn))).show(entry.text)

    def _status(self, ev: r.Status) -> None:
        self.known.state, self.known.mode, self.known.ptt = ev.state, ev.mode, ev.ptt
        self.views.status.set_state(ev.state)
        self.views.status.set_mode(ev.mode, ev.ptt, ev.wake_word)
        self.views.status.set_models(ev.chat_model, ev.stt_model)
        self.views.status.set_cost(ev.session_cost_usd)
        if ev.echo and ev.echo != self.known.echo:  # how the daemon keeps from hearing itself
            self.known.echo = ev.echo
            self.views.log.add(f"echo: {ev.echo}", "info")

    def _ack(self, ev: r.Ack) -> None:
        if not ev.ok:
            self.views.log.add(f"{ev.command} refused: {ev.message}", "warning")
            self._notify(f"{ev.command}: {ev.message}", "warning")
