"""The first-run screen: take a Groq API key, check it, save it to the credentials file (0600)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Static

from voiced.credentials import Secret, save_api_key
from voiced.errors import ApiError, AuthenticationError, VoicedError

KeyCheck = Callable[[Secret], Awaitable[None]]
"""Asks the server whether a key works; raises AuthenticationError when it does not."""

KEYS_URL = "https://console.groq.com/keys"


def key_problem(key: str) -> str:
    """Say what is wrong with a typed key, or return "" when it looks like a key."""
    if not key:
        return "paste the key, then press enter"
    if any(c.isspace() or not c.isprintable() for c in key):
        return "a key has no spaces or control characters: paste it again"
    if len(key) < 20:
        return "that is too short for an API key: paste the whole key"
    return ""


class KeyScreen(Screen[Secret]):
    """Takes the key in a masked input and dismisses with it once it is saved.

    Args:
        credentials: The file to write (mode 0600).
        check: Optional server check; a key the server rejects is not saved, while a
            server that cannot be reached does not stop the key from being saved.
    """

    BINDINGS = [Binding("escape", "app.quit", "quit")]

    def __init__(self, credentials: Path, check: KeyCheck | None = None) -> None:
        super().__init__()
        self.credentials = credentials
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(id="keybox"):
            yield Static(Content.styled("voiced needs a Groq API key", "bold"), id="key-title")
            yield Static(
                f"Create one at {KEYS_URL}, paste it below and press enter.\n"
                f"It is saved to {self.credentials}, readable only by you.",
                id="key-help",
            )
            yield Input(password=True, placeholder="gsk_…", id="key-input")
            yield Static("", id="key-status")

    def on_mount(self) -> None:
        self.query_one("#key-input", Input).focus()

    def _status(self, text: str, level: str = "") -> None:
        status = self.query_one("#key-status", Static)
        status.set_classes(level)
        status.update(Content(text))

    @on(Input.Submitted, "#key-input")
    async def _submit(self, event: Input.Submitted) -> None:
        typed = event.value.strip()
        problem = key_problem(typed)
        if problem:
            self._status(problem, "error")
            return
        key = Secret(typed)
        event.input.disabled = True
        try:
            note = await self._checked(key)
            if note is None:
                return
            await asyncio.to_thread(save_api_key, key.reveal(), self.credentials)
        except OSError as exc:
            self._status(f"could not write {self.credentials}: {exc.strerror}", "error")
            return
        finally:
            event.input.disabled = False
            event.input.focus()
        self.notify(f"saved {key.masked()} to {self.credentials}{note}", title="API key")
        self.dismiss(key)

    async def _checked(self, key: Secret) -> str | None:
        """Run the server check: None when the key was rejected, else a note to show."""
        if self.check is None:
            return ""
        self._status(f"checking {key.masked()} with the server…")
        try:
            await self.check(key)
        except AuthenticationError:
            self._status(
                f"the server rejected {key.masked()}: check it and paste it again", "error"
            )
            self.query_one("#key-input", Input).clear()
            return None
        except (ApiError, VoicedError) as exc:
            return f" (not checked: {exc.message})"
        return " (checked with the server)"
