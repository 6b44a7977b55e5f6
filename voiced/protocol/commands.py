"""What clients ask of the daemon: one frozen dataclass per command, answered by an ``ack``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from voiced.protocol.events import Message, Mode


@dataclass(frozen=True, kw_only=True)
class Command(Message):
    """Base of every command; ``id`` comes back in the ``ack`` (and any reply) to it."""

    id: str = ""


@dataclass(frozen=True, kw_only=True)
class Mute(Command):
    """Stop listening (typed messages are still answered)."""

    type: ClassVar[str] = "mute"


@dataclass(frozen=True, kw_only=True)
class Unmute(Command):
    """Listen again, in the mode that was set before muting."""

    type: ClassVar[str] = "unmute"


@dataclass(frozen=True, kw_only=True)
class PushToTalk(Command):
    """Open (start) or close (stop) the microphone in push-to-talk mode, or flip it."""

    type: ClassVar[str] = "ptt"
    action: Literal["start", "stop", "toggle"]


@dataclass(frozen=True, kw_only=True)
class SetMode(Command):
    """Switch between always listening, push-to-talk and muted."""

    type: ClassVar[str] = "set_mode"
    mode: Mode


@dataclass(frozen=True, kw_only=True)
class Cancel(Command):
    """Stop speaking and drop the turn in progress."""

    type: ClassVar[str] = "cancel"


@dataclass(frozen=True, kw_only=True)
class SendText(Command):
    """A typed message, answered like a spoken one."""

    type: ClassVar[str] = "text"
    text: str


@dataclass(frozen=True, kw_only=True)
class Confirm(Command):
    """Answer a ``confirm_request``; an empty ``call_id`` answers the oldest pending one."""

    type: ClassVar[str] = "confirm"
    approve: bool
    call_id: str = ""


@dataclass(frozen=True, kw_only=True)
class SetModel(Command):
    """Use another chat or speech-to-text model from now on (until reload or restart)."""

    type: ClassVar[str] = "set_model"
    model: str
    kind: Literal["chat", "stt"] = "chat"


@dataclass(frozen=True, kw_only=True)
class Reload(Command):
    """Read the config file and credentials again (as SIGHUP does)."""

    type: ClassVar[str] = "reload"


@dataclass(frozen=True, kw_only=True)
class GetStatus(Command):
    """Ask for a ``status`` event."""

    type: ClassVar[str] = "status"


@dataclass(frozen=True, kw_only=True)
class Speak(Command):
    """Say a text aloud (for another program, e.g. an agent through ``voiced mcp``); acked
    once it has been said, or stopped."""

    type: ClassVar[str] = "speak"
    text: str


@dataclass(frozen=True, kw_only=True)
class Notify(Command):
    """Tell the user something in passing: shown in every client, and said aloud only when
    voiced is idle (not hearing, answering or speaking)."""

    type: ClassVar[str] = "notify"
    text: str


@dataclass(frozen=True, kw_only=True)
class AskUser(Command):
    """Say a question aloud and take the user's next answer: the next accepted utterance
    that begins after the question was said (or a typed message). Acked once the question is
    accepted; the answer comes as a ``user_answer`` event carrying this command's ``id``,
    which should be unique (every client sees the event)."""

    type: ClassVar[str] = "ask_user"
    question: str
    timeout_s: float = 60.0
    """Seconds to wait for the answer once the question has been said."""
