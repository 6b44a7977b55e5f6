"""The status bar: daemon state, live mic level and voice activity, models, limits, cost."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

METER_CELLS = 10
"""Cells of the mic level meter."""
FLOOR_DB = -60.0
"""Level shown as an empty meter; 0 dBFS fills it."""
_BLOCKS = " ▁▂▃▄▅▆▇█"
MODE_LABELS = {
    "wake": "wake word",
    "always": "always listening",
    "push_to_talk": "push-to-talk",
    "muted": "muted",
}


def level_meter(level_db: float | None, cells: int = METER_CELLS) -> str:
    """Draw a level in dBFS as a bar of block characters.

    Args:
        level_db: The level, or None when there is none (muted, disconnected).
        cells: Width of the bar.

    Returns:
        A string of exactly ``cells`` characters.
    """
    if level_db is None:
        return "·" * cells
    fraction = min(max((level_db - FLOOR_DB) / -FLOOR_DB, 0.0), 1.0)
    eighths = round(fraction * cells * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (_BLOCKS[part] if part and full < cells else "")
    return bar.ljust(cells, "░")[:cells]


def money(usd: float) -> str:
    """Format a session cost: four decimals below a cent, two above."""
    return f"${usd:.4f}" if usd < 0.01 else f"${usd:.2f}"


STATE_STYLES = {
    "listening": "$success",
    "hearing": "$accent",
    "transcribing": "$secondary",
    "thinking": "$secondary",
    "speaking": "$primary",
    "muted": "$text-muted",
    "error": "$error",
}
"""Colour of each state's name; any other (connecting, reconnecting) is a warning."""


class StatusBar(Widget):
    """Two lines at the top: state, mode, mic and cost; then models and rate limits.

    Drawn as one widget so that its parts never go stale or overlap as they change width.
    """

    state: reactive[str] = reactive("connecting")
    mode: reactive[str] = reactive("")
    ptt: reactive[bool] = reactive(False)
    wake_word: reactive[str] = reactive("")
    level_db: reactive[float | None] = reactive(None)
    voice: reactive[bool] = reactive(False)
    models: reactive[str] = reactive("")
    limits: reactive[str] = reactive("")
    cost: reactive[float] = reactive(0.0)
    offline: reactive[str] = reactive("")
    devices: reactive[tuple[tuple[str, str], ...]] = reactive(())
    """Device problems: (device, what is wrong), such as ("microphone", "no microphone
    found"); shown before the models until the device works again."""

    def render(self) -> Content:
        mode = MODE_LABELS.get(self.mode, self.mode)
        if self.mode == "wake" and self.wake_word:
            mode = f"wake word “{self.wake_word}”"
        mode += " · talking" if self.ptt else ""
        left = Content.assemble(
            (f" {self.state} ", f"bold {STATE_STYLES.get(self.state, '$warning')} on $boost"),
            "  ",
            (mode, "bold $warning" if self.ptt else ""),
            "  mic ",
            (level_meter(self.level_db), "$success" if self.voice else "$text-muted"),
            " ",
            ("●", "$success") if self.voice else ("○", "$text-muted"),
        )
        right = Content(money(self.cost))
        gap = max(self.size.width - left.cell_length - right.cell_length, 1)
        second = (
            Content.styled(self.offline, "$warning")
            if self.offline
            else Content.styled(f"{self.models}   {self.limits}".rstrip(), "$text-muted")
        )
        if self.devices and not self.offline:
            problems = " · ".join(problem for _, problem in self.devices)
            second = Content.assemble((f"⚠ {problems}", "$warning"), "   ", second)
        return Content("\n").join(
            [left + " " * gap + right, second.truncate(self.size.width, ellipsis=True)]
        )

    def set_state(self, state: str) -> None:
        """Show the daemon's state (listening, hearing, …) or the link's (reconnecting)."""
        self.state = state

    def set_mode(self, mode: str, ptt: bool, wake_word: str = "") -> None:
        """Show the listening mode (with the wake word in wake mode), and whether push-to-talk
        holds the microphone open."""
        self.mode, self.ptt = mode, ptt
        if wake_word:
            self.wake_word = wake_word

    def set_level(self, level_db: float | None) -> None:
        """Show the latest input level in dBFS, or None for no input."""
        self.level_db = level_db

    def set_voice(self, active: bool) -> None:
        """Light or dim the voice activity dot."""
        self.voice = active

    def set_models(self, chat: str, stt: str) -> None:
        """Show the chat and speech-to-text models."""
        self.offline = ""
        self.models = f"chat {chat} · speech {stt}"

    def set_offline(self, reason: str) -> None:
        """Say why there is no daemon, in place of the models and limits."""
        self.offline = reason

    def set_device_problem(self, device: str, problem: str) -> None:
        """Show what is wrong with a device (the latest problem of each device)."""
        others = tuple((d, p) for d, p in self.devices if d != device)
        self.devices = (*others, (device, problem))

    def clear_device_problem(self, device: str | None = None) -> None:
        """The device works again (None: every device, as for another daemon)."""
        self.devices = tuple((d, p) for d, p in self.devices if device not in (None, d))

    def set_limits(self, requests: int | None, tokens: int | None) -> None:
        """Show the requests and tokens remaining in the current rate-limit windows."""
        parts = []
        if requests is not None:
            parts.append(f"{requests:,} req")
        if tokens is not None:
            parts.append(f"{tokens:,} tok")
        self.limits = " · ".join(parts) + (" left" if parts else "")

    def set_cost(self, usd: float) -> None:
        """Show what this session has cost so far."""
        self.cost = usd
