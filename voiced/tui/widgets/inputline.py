"""The input line: type a message to the assistant; escape gives the keys back."""

from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class MessageInput(Input):
    """A one-line input; enter sends the text, escape leaves the input.

    A focused Input takes every printable key, so the app's single-key bindings (space, m,
    y, …) only work while it is not focused: ``i`` focuses it and escape leaves it.
    """

    BINDINGS = [Binding("escape", "leave", "leave input", show=False)]

    class Send(Message):
        """The user typed a message and pressed enter."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="press i to type a message, escape to leave", id=id)

    def action_leave(self) -> None:
        """Give the keys back to the app."""
        self.screen.set_focus(None)

    @on(Input.Submitted)
    def _send(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if text:
            self.post_message(self.Send(text))
        self.clear()
