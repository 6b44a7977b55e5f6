"""One entry of the conversation: a user's words, a rejected transcript, an assistant's reply."""

from __future__ import annotations

import json
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Markdown, Static
from textual.widgets.markdown import MarkdownStream

ARGS_PREVIEW = 60
"""Characters of a tool call's arguments shown in its title."""


class UserTurn(Static):
    """What the user said (or typed); ``turn_id`` is the turn it started ("" unknown)."""

    def __init__(self, text: str, typed: bool = False, turn_id: str = "") -> None:
        self._who = "you (typed)" if typed else "you"
        super().__init__(Content.assemble((self._who, "bold"), "  ", text), classes="turn user")
        self.text = text
        self.turn_id = turn_id

    def withdraw(self, note: str = "") -> None:
        """Dim it as a question withdrawn, with ``note`` after it when given."""
        self.add_class("withdrawn")
        if note:
            tail = ("  — " + note, "italic")
            self.update(Content.assemble((self._who, "bold"), "  ", self.text, tail))


class RejectedTranscript(Static):
    """A transcript the filter threw away, dimmed, with the reason."""

    def __init__(self, text: str, reason: str) -> None:
        body = Content.assemble(("rejected", "italic"), "  ", repr(text), f" — {reason}")
        super().__init__(body, classes="turn rejected")
        self.text = text
        self.reason = reason


class ToolCallView(Collapsible):
    """A tool call, collapsed to its title; expanding shows the arguments and the result."""

    def __init__(self, call_id: str, name: str, arguments: Any) -> None:
        args = arguments if isinstance(arguments, str) else json.dumps(arguments)
        preview = args if len(args) <= ARGS_PREVIEW else args[: ARGS_PREVIEW - 1] + "…"
        self._args = f"arguments: {args}" if args else ""
        self._heading = f"⚙ {name}({preview})"
        self._body = Static(Content(self._args), classes="tool-body")
        super().__init__(self._body, title=self._heading, classes="tool")
        self.call_id = call_id
        self.tool_name = name
        self.result: str | None = None

    def set_result(self, result: str, ok: bool = True) -> None:
        """Show the tool's result (or its error) under the arguments, and ✓ or ✗ beside it."""
        self.result = result
        label = "result" if ok else "failed"
        self._body.update(Content("\n".join(filter(None, (self._args, f"{label}: {result}")))))
        self.title = f"{self._heading}  {'✓' if ok else '✗'}"
        self.set_class(not ok, "failed")


class ReasoningView(Collapsible):
    """The model's reasoning, collapsed; text streams into it as it arrives."""

    def __init__(self) -> None:
        self._body = Static("", classes="reasoning-body")
        self.text = ""
        super().__init__(self._body, title="reasoning", classes="reasoning")

    def append(self, text: str) -> None:
        """Add reasoning text."""
        self.text += text
        self._body.update(Content(self.text))


class AssistantTurn(Vertical):
    """The assistant's reply: reasoning and tool calls above, the streamed text below.

    Mount it with ``await``: its parts exist once the mount is complete.
    """

    def __init__(self, turn_id: str) -> None:
        super().__init__(classes="turn assistant")
        self.turn_id = turn_id
        self.text = ""
        self.ended = False
        self.steps = Vertical(classes="steps")
        """Holds the reasoning and the tool calls, in the order they came."""
        self.reply = Markdown("", classes="reply")
        """The widget the reply's text streams into."""
        self._stream: MarkdownStream | None = None
        self._note: Static | None = None
        self.withdrawn = False
        """Whether the turn was withdrawn (dimmed, with why under it)."""

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("voiced", "bold"), classes="who")
        yield self.steps
        yield self.reply

    @property
    def streaming(self) -> bool:
        """Whether pieces of the reply came in and its end did not."""
        return self._stream is not None

    async def show(self, text: str) -> None:
        """Show ``text`` as the reply so far (replayed history); more may stream in after it."""
        self.text = text
        await self.reply.update(text)

    async def append(self, text: str) -> None:
        """Stream a piece of the reply in."""
        if self.ended or not text:
            return
        self.text += text
        if self._stream is None:
            self._stream = Markdown.get_stream(self.reply)
        await self._stream.write(text)

    async def finish(self, text: str | None, note: str = "") -> None:
        """End the reply: show the final text and an optional note such as "interrupted".

        Args:
            text: The complete reply, or None to keep what streamed in.
            note: Shown dimmed after the reply.
        """
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        if text is not None and text != self.reply.source:
            self.text = text
            await self.reply.update(text)
        if note and not self.ended and not self.withdrawn:
            await self._set_note(note)
        self.ended = True

    async def withdraw(self, note: str) -> None:
        """Dim the reply as part of a withdrawn turn, ``note`` under it in place of any other
        (such as "interrupted"); pieces that come after are not shown."""
        self.withdrawn = True
        self.add_class("withdrawn")
        await self.finish(None)
        await self._set_note(note)

    async def _set_note(self, note: str) -> None:
        if self._note is None:
            self._note = Static(Content(note), classes="note")
            await self.mount(self._note)
        else:
            self._note.update(Content(note))

    async def reasoning(self) -> ReasoningView:
        """The reasoning view of this turn, created on first use."""
        for view in self.steps.query(ReasoningView):
            return view
        view = ReasoningView()
        await self.steps.mount(view)
        return view

    async def add_tool_call(self, call_id: str, name: str, arguments: Any) -> ToolCallView:
        """Show a tool call under what came before it."""
        view = ToolCallView(call_id, name, arguments)
        await self.steps.mount(view)
        return view

    def tool_call(self, call_id: str) -> ToolCallView | None:
        """The view of a tool call of this turn, by id."""
        for view in self.steps.query(ToolCallView):
            if view.call_id == call_id:
                return view
        return None
