"""The conversation pane: turns in order, the newest at the bottom and kept in view."""

from __future__ import annotations

from typing import TypeVar

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from voiced.tui.widgets.repeats import Repeated
from voiced.tui.widgets.turns import AssistantTurn, RejectedTranscript, ToolCallView, UserTurn

MAX_ENTRIES = 200
"""Entries kept on screen; older ones are removed (the daemon keeps the history)."""

W = TypeVar("W", bound=Widget)


class Notice(Static):
    """A line from voiced itself; said again right after, it is counted rather than repeated."""

    def __init__(self, text: str) -> None:
        super().__init__(Content(text), classes="turn notice")
        self.said = Repeated.said(text, "warning")

    def again(self) -> None:
        """Count the line once more: ``⚠ text  ×3 · last 14:03:22``."""
        self.said.again()
        self.update(Content.assemble(self.said.text, "  ", (self.said.tally, "$text-muted")))


class ConversationPane(VerticalScroll):
    """Shows user turns, rejected transcripts and assistant replies as they stream in."""

    can_focus = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._turns: dict[str, AssistantTurn] = {}
        self._asked: dict[str, UserTurn] = {}
        """The question of each turn, by turn id."""

    def on_mount(self) -> None:
        self.anchor()

    async def add_user(self, text: str, typed: bool = False, turn_id: str = "") -> UserTurn:
        """Show what the user said or typed (the question of turn ``turn_id``, when given)."""
        user = await self._add(UserTurn(text, typed, turn_id))
        if turn_id:
            self._asked[turn_id] = user
        return user

    async def add_rejected(self, text: str, reason: str) -> RejectedTranscript:
        """Show a rejected transcript, dimmed, with the reason it was rejected."""
        return await self._add(RejectedTranscript(text, reason))

    async def add_notice(self, text: str) -> Notice:
        """Show a line from voiced itself, such as an error spoken to the user; the same line
        again right after it is counted on that line instead."""
        last = self.children[-1] if self.children else None
        if isinstance(last, Notice) and last.said.text == text:
            last.again()
            return last
        return await self._add(Notice(text))

    async def assistant(self, turn_id: str) -> AssistantTurn:
        """The reply of a turn, created at the bottom when it is first needed."""
        turn = self._turns.get(turn_id)
        if turn is None:
            turn = AssistantTurn(turn_id)
            self._turns[turn_id] = turn
            await self._add(turn)
        return turn

    def find_tool_call(self, call_id: str) -> ToolCallView | None:
        """The view of a tool call in any reply, by id."""
        for turn in reversed(self._turns.values()):
            view = turn.tool_call(call_id)
            if view is not None:
                return view
        return None

    async def append(self, turn_id: str, text: str) -> None:
        """Stream a piece of a reply into its turn."""
        await (await self.assistant(turn_id)).append(text)

    async def finish(self, turn_id: str, text: str | None, note: str = "") -> None:
        """End a reply; ``note`` (for example "interrupted") is shown under it."""
        await (await self.assistant(turn_id)).finish(text, note)

    async def cut_off(self, note: str) -> None:
        """End every unfinished reply with ``note`` (the link to the daemon was lost)."""
        for turn in self._turns.values():
            if turn.streaming:
                await turn.finish(None, note)

    async def withdraw(self, turn_id: str, note: str) -> None:
        """Show turn ``turn_id`` as withdrawn: its question and reply stay where they are,
        dimmed, with ``note`` under the reply (or after the question when it has none)."""
        asked, reply = self._asked.get(turn_id), self._turns.get(turn_id)
        if asked is not None:
            asked.withdraw("" if reply is not None else note)
        if reply is not None:
            await reply.withdraw(note)

    def forget_turns(self) -> None:
        """Keep what is shown but start new replies below it (a restarted daemon counts
        its turns from 1 again)."""
        self._turns.clear()
        self._asked.clear()

    async def clear(self) -> None:
        """Remove every entry (before the daemon replays the recent conversation)."""
        for turn in self._turns.values():
            await turn.finish(None)
        self._turns.clear()
        self._asked.clear()
        await self.remove_children()

    async def _add(self, widget: W) -> W:
        await self.mount(widget)
        excess = len(self.children) - MAX_ENTRIES
        if excess > 0:
            for old in list(self.children)[:excess]:
                if isinstance(old, AssistantTurn):
                    self._turns.pop(old.turn_id, None)
                elif isinstance(old, UserTurn) and self._asked.get(old.turn_id) is old:
                    del self._asked[old.turn_id]
                await old.remove()
        return widget
