"""The chat parameters of one ``voiced ask``: ``[chat]`` overridden by flags, checked before
anything is sent, with errors that name the flag or the config key to change."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields, replace
from typing import Any

from voiced.config import ChatSettings, check_of
from voiced.config.api import MAX_STOP, StopSequences, stop_sequence
from voiced.errors import ParameterError

FLAGS = {
    "temperature": "--temperature",
    "top_p": "--top-p",
    "seed": "--seed",
    "stop": "--stop",
    "max_completion_tokens": "--max-tokens",
    "reasoning_format": "--reasoning-format",
}
"""Each ``[chat]`` field a flag of ``voiced ask`` overrides (its ``dest`` in voiced.cli), and
that flag."""
REFUSED = "Groq rejects that with a 400"
OTHER_FORMATS = '"parsed" or "hidden"'


@dataclass(frozen=True)
class AskParams:
    """``[chat]`` with the flags of one question applied, and which fields the flags set.

    Build with :meth:`from_args`; :meth:`check` then refuses the combinations Groq rejects.
    """

    chat: ChatSettings
    flags: frozenset[str] = frozenset()
    """The ``[chat]`` fields a flag set."""

    @classmethod
    def from_args(cls, chat: ChatSettings, args: argparse.Namespace) -> AskParams:
        """Apply the flags given to ``[chat]``, each checked against the key's own range.

        Raises:
            ParameterError: A flag's value is out of range (temperature 0–2, top_p 0–1,
                more than 4 ``--stop``, …), naming the flag.
        """
        overrides: dict[str, Any] = {}
        checks = {f.name: check_of(f) for f in fields(ChatSettings)}
        for name, flag in FLAGS.items():
            value = getattr(args, name, None)
            if value is None:
                continue
            if name == "stop":
                value = _stops(value)
            else:
                check = checks[name]
                if check is not None and not check.fits(value):
                    raise ParameterError(
                        f"{flag} must be {check.words}, got {check.show(value)}",
                        f"give a value in that range, or leave {flag} out to use [chat] {name}",
                    )
            overrides[name] = value
        return cls(replace(chat, **overrides), frozenset(overrides))

    def name(self, field: str) -> str:
        """How the user sets ``field`` for this question: its flag, or its config key."""
        return FLAGS[field] if field in self.flags else f"[chat] {field}"

    def check(self, *, json_mode: bool, tools: bool) -> None:
        """Refuse, before anything is sent, the combinations Groq rejects with a 400.

        Args:
            json_mode: The question is asked in JSON mode (``--json``).
            tools: Tools are offered to the model.

        Raises:
            ParameterError: ``reasoning_format = "raw"`` with JSON mode or tools, or stop
                sequences with JSON mode; the hint says which setting to change.
        """
        chat = self.chat
        raw = (
            "--reasoning-format raw"
            if "reasoning_format" in self.flags
            else '[chat] reasoning_format = "raw"'
        )
        if chat.reasoning_format == "raw" and json_mode:
            raise ParameterError(
                f"{raw} cannot be used with JSON mode (--json): {REFUSED}",
                f"{self._change_format()}, or ask without --json",
            )
        if chat.reasoning_format == "raw" and tools:
            raise ParameterError(
                f"{raw} cannot be used with tools: {REFUSED}",
                f"add --no-tools, or {self._change_format()}",
            )
        if chat.stop and json_mode:
            where = self.name("stop")
            fix = "leave out --stop" if "stop" in self.flags else f"remove {where}"
            raise ParameterError(
                f"stop sequences ({where}) cannot be used with JSON mode (--json): {REFUSED}",
                f"{fix}, or ask without --json",
            )

    def _change_format(self) -> str:
        if "reasoning_format" in self.flags:
            return "give --reasoning-format parsed or hidden"
        return (
            f"change [chat] reasoning_format to {OTHER_FORMATS}, or give --reasoning-format parsed"
        )


def _stops(given: list[str]) -> tuple[str, ...]:
    """The ``--stop`` values, checked one by one and counted.

    Raises:
        ParameterError: One is empty or holds control characters, or there are more than 4.
    """
    for text in given:
        if not stop_sequence(text):
            raise ParameterError(
                "--stop must be a non-empty text (line breaks and tabs are fine, other control "
                f"characters are not), got {StopSequences().show(text)}",
                "give the text the answer should end at",
            )
    if len(given) > MAX_STOP:
        raise ParameterError(
            f"--stop was given {len(given)} times: Groq accepts at most {MAX_STOP} stop sequences",
            f"give --stop at most {MAX_STOP} times",
        )
    return tuple(given)
