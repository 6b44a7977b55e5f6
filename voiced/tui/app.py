"""The Textual app: composes the widgets, maps keys to daemon commands, follows the daemon."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Footer

from voiced.credentials import Secret
from voiced.errors import DaemonNotRunningError, VoicedError
from voiced.protocol import commands as cmd
from voiced.protocol.follow import Connected, Follower
from voiced.protocol.shown import printable
from voiced.tui.keyscreen import KeyCheck, KeyScreen
from voiced.tui.router import EventRouter, Incoming, Known, Views
from voiced.tui.widgets.confirm import ConfirmPrompt
from voiced.tui.widgets.conversation import ConversationPane
from voiced.tui.widgets.help import HelpScreen
from voiced.tui.widgets.inputline import MessageInput
from voiced.tui.widgets.logpane import LogPane
from voiced.tui.widgets.status import StatusBar
from voiced.tui.widgets.timeline import LatencyTimeline

KeySaved = Callable[[Secret], Awaitable[None]]
"""Called once the first-run screen has saved a key."""
HostReady = Callable[[], Awaitable[None]]
"""Returns once the daemon started inside this process listens (or has failed)."""
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
"""The schemes of the links the TUI opens."""


class VoicedApp(App[None]):
    """The voiced terminal interface, one client of the daemon's control socket.

    Args:
        socket: The daemon's control socket.
        credentials: The credentials file; with ``need_key`` the app opens on the key screen.
        need_key: No API key is configured yet.
        key_check: Checks a typed key with the server before it is saved.
        on_key_saved: Awaited after the key is saved (the in-process daemon starts then).
        host_ready: Given when the daemon runs inside this process (and stops when the TUI
            quits): the TUI connects once it returns.
    """

    CSS_PATH = "app.tcss"
    TITLE = "voiced"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("space", "ptt", "talk"),
        Binding("m", "mute", "mute"),
        Binding("c", "cancel", "cancel"),
        Binding("escape", "cancel", "cancel", show=False),
        Binding("y", "confirm(True)", "allow"),
        Binding("n", "confirm(False)", "deny"),
        Binding("i", "type", "type"),
        Binding("l", "toggle_log", "log"),
        Binding("question_mark", "help", "help", key_display="?"),
        Binding("q", "quit", "quit"),
    ]

    class Received(Message):
        """Something came from the daemon (posted by the reader worker)."""

        def __init__(self, item: Incoming) -> None:
            super().__init__()
            self.item = item

    def __init__(
        self,
        socket: Path,
        *,
        credentials: Path | None = None,
        need_key: bool = False,
        key_check: KeyCheck | None = None,
        on_key_saved: KeySaved | None = None,
        host_ready: HostReady | None = None,
    ) -> None:
        super().__init__()
        self.follower = Follower(socket)
        self.credentials = credentials
        self.need_key = need_key
        self.key_check = key_check
        self.on_key_saved = on_key_saved
        self.host_ready = host_ready
        self.known = Known()
        """What the TUI knows of the daemon: connection, state, mode, push-to-talk."""
        self.router: EventRouter | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield ConversationPane(id="conversation")
        yield ConfirmPrompt(id="confirm")
        yield LatencyTimeline(id="timeline")
        yield LogPane(id="log")
        yield MessageInput(id="input")
        yield Footer()

    def on_mount(self) -> None:
        self.router = EventRouter(
            Views(
                self.query_one(ConversationPane),
                self.query_one(StatusBar),
                self.query_one(LatencyTimeline),
                self.query_one(LogPane),
                self.query_one(ConfirmPrompt),
            ),
            self.known,
            lambda text, severity: self.notify(text, severity=_severity(severity)),
        )
        self.query_one(LogPane).display = False
        self.query_one(ConversationPane).focus()
        if self.host_ready is not None:
            self.query_one(StatusBar).set_state("starting")
            self.query_one(LogPane).add("the daemon runs inside the TUI: q stops it too")
        if self.need_key and self.credentials is not None:
            self.push_screen(KeyScreen(self.credentials, self.key_check), self._key_saved)
        self.follow()

    async def _key_saved(self, key: Secret | None) -> None:
        if key is None:
            return
        self.query_one(LogPane).add(f"saved the API key {key.masked()}")
        try:
            if self.on_key_saved is not None:
                await self.on_key_saved(key)
            elif self.follower.connected:
                await self._send(cmd.Reload())
        except VoicedError as exc:
            self._host_failed(str(exc))

    def host_failed(self, error: VoicedError) -> None:
        """Report that the daemon started inside this process failed (from its thread)."""
        try:
            self.call_from_thread(self._host_failed, str(error))
        except RuntimeError:  # the app is not running (any more)
            pass

    def _host_failed(self, message: str) -> None:
        self.query_one(LogPane).add(f"the in-process daemon stopped: {message}", "error")
        self.notify(message, title="the in-process daemon stopped", severity="error")

    @work(exclusive=True, group="follow")
    async def follow(self) -> None:
        """Follow the daemon across restarts, posting everything it sends to the app."""
        if self.host_ready is not None:
            await self.host_ready()
        try:
            async for item in self.follower:
                self.post_message(self.Received(item))
                if isinstance(item, Connected):
                    await self._send(cmd.GetStatus())
        finally:
            await self.follower.aclose()

    @on(Received)
    async def _route(self, message: Received) -> None:
        if self.router is not None:
            await self.router.route(message.item)

    @on(MessageInput.Send)
    async def _typed(self, message: MessageInput.Send) -> None:
        await self._send(cmd.SendText(text=message.text))

    async def _send(self, command: cmd.Command) -> None:
        try:
            await self.follower.send(command)
        except DaemonNotRunningError as exc:
            self.notify(f"{command.type}: {exc.message}", severity="warning")

    async def action_ptt(self) -> None:
        """Open the microphone, or close it when push-to-talk holds it open.

        Terminals send no key releases, so a press toggles; the daemon does the flip, so two
        quick presses open and close even before its ``mode`` event comes back.
        """
        await self._send(cmd.PushToTalk(action="toggle"))

    async def action_mute(self) -> None:
        """Mute, or unmute when muted."""
        await self._send(cmd.Unmute() if self.known.mode == "muted" else cmd.Mute())

    async def action_cancel(self) -> None:
        """Stop speaking and drop the turn in progress."""
        await self._send(cmd.Cancel())

    async def action_confirm(self, approve: bool) -> None:
        """Answer the confirmation shown in the prompt."""
        pending = self.query_one(ConfirmPrompt).current
        if pending is None:
            self.notify("nothing waits for confirmation", severity="information")
            return
        await self._send(cmd.Confirm(approve=approve, call_id=pending.request_id))
        self.query_one(ConfirmPrompt).resolve(pending.request_id)

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        """Open a link from the conversation: only http, https and mailto; others are refused.

        A reply's links come from the model, so a ``file:``, ``javascript:`` or custom-scheme
        link must not reach the desktop's opener.
        """
        try:
            scheme = urlsplit(url.strip()).scheme.lower()
        except ValueError:  # such as an unclosed "[" in the host
            scheme = ""
        if scheme not in LINK_SCHEMES:
            shown = printable(url if len(url) <= 80 else url[:80] + "…")
            self.notify(
                f"refused to open {shown}: only http, https and mailto links are opened",
                severity="warning",
            )
            return
        super().open_url(url, new_tab=new_tab)

    def action_type(self) -> None:
        """Focus the input line."""
        self.query_one(MessageInput).focus()

    def action_toggle_log(self) -> None:
        """Show or hide the log pane."""
        log = self.query_one(LogPane)
        log.display = not log.display

    def action_help(self) -> None:
        """Show every key."""
        self.push_screen(HelpScreen())


def _severity(level: str) -> Literal["information", "warning", "error"]:
    return "error" if level == "error" else "warning" if level == "warning" else "information"
