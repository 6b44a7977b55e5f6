"""The help screen: every key and what it does."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, str], ...] = (
    ("space", "push-to-talk: press to start talking, press again to stop"),
    ("m", "mute or unmute the microphone"),
    ("c, escape", "cancel: stop speaking and drop the turn in progress"),
    ("y / n", "allow or deny the tool waiting for confirmation"),
    ("i", "type a message (enter sends it, escape leaves the input)"),
    ("l", "show or hide the log"),
    ("?", "this help"),
    ("q", "quit the TUI (a daemon running on its own keeps running)"),
)
"""Every key of the main screen and what it does."""

HELP_NOTES = (
    "Terminals report key presses but not releases, so push-to-talk cannot be held: space "
    "opens the microphone and a second space closes it (`voiced ptt start|stop` does the same "
    "from a desktop hotkey).",
    "While the input line has focus it takes every key; press escape to give them back.",
)


class HelpScreen(ModalScreen[None]):
    """A modal list of keys; escape, q or ? closes it."""

    BINDINGS = [
        Binding("escape", "close", "close", show=False),
        Binding("question_mark", "close", "close", show=False),
        Binding("q", "close", "close", show=False),
    ]

    def __init__(
        self, keys: Sequence[tuple[str, str]] = KEYS, notes: Sequence[str] = HELP_NOTES
    ) -> None:
        super().__init__()
        self.keys = tuple(keys)
        self.notes = tuple(notes)

    def compose(self) -> ComposeResult:
        width = max(len(key) for key, _ in self.keys)
        rows = [
            Content.assemble((key.ljust(width), "bold $accent"), "  ", what)
            for key, what in self.keys
        ]
        with Vertical(id="help"):
            yield Static(Content.styled("Keys", "bold"), id="help-title")
            yield Static(Content("\n").join(rows), id="help-keys")
            for note in self.notes:
                yield Static(Content(note), classes="help-note")

    def action_close(self) -> None:
        """Go back to the conversation."""
        self.dismiss(None)
