"""When the microphone counts: listening mode, mute and push-to-talk, as one gate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from voiced.config import DaemonMode
from voiced.protocol.events import ListeningMode, Mode, ModeChanged

PttAction = Literal["start", "stop", "toggle"]


@dataclass
class Controls:
    """The user's say over the microphone.

    ``mode`` is how the daemon listens when not muted; push-to-talk holds the microphone open
    while ``ptt`` is set, in push-to-talk mode and also while muted (a hotkey press is an
    explicit wish to be heard). In "wake" mode the microphone is open, but what it hears is
    sent nowhere until the wake word is heard (:mod:`voiced.pipeline.addressing`).

    Attributes:
        mode: "wake", "always" or "push_to_talk".
        muted: The microphone is off.
        ptt: Push-to-talk is held.
    """

    mode: ListeningMode = "wake"
    muted: bool = False
    ptt: bool = False
    wake_word: str = ""
    """The wake word's phrase, shown with the mode."""

    @classmethod
    def from_setting(cls, mode: DaemonMode, wake_word: str = "") -> Controls:
        """Start as ``[daemon] mode`` says ("muted" starts muted, in wake mode after)."""
        if mode == "muted":
            return cls(mode="wake", muted=True, wake_word=wake_word)
        return cls(mode=mode, wake_word=wake_word)

    @property
    def shown_mode(self) -> Mode:
        """The mode as the protocol shows it: "muted" wins."""
        return "muted" if self.muted else self.mode

    @property
    def mic_open(self) -> bool:
        """Whether what the microphone hears may start a turn."""
        return self.ptt or (self.mode != "push_to_talk" and not self.muted)

    def set_mode(self, mode: Mode) -> None:
        """Switch mode; "muted" mutes, the others unmute."""
        if mode == "muted":
            self.muted = True
        else:
            self.mode, self.muted = mode, False
        self.ptt = False

    def push_to_talk(self, action: PttAction) -> None:
        """Hold (start), release (stop) or flip push-to-talk."""
        self.ptt = {"start": True, "stop": False, "toggle": not self.ptt}[action]

    def event(self) -> ModeChanged:
        """The protocol event describing the controls now."""
        return ModeChanged(mode=self.shown_mode, ptt=self.ptt, wake_word=self.wake_word)
