"""Separate ``<think>…</think>`` reasoning from a streamed reply's content, tags split or not."""

from __future__ import annotations

OPEN = "<think>"
CLOSE = "</think>"


class ThinkSplitter:
    """Feed content deltas; get back (content, reasoning) with the think blocks moved aside.

    A tag may arrive cut across deltas: the longest tail that could start a tag is held back
    until the next delta (or :meth:`close`) tells what it is. Whitespace right after a think
    block, before any content, is dropped so the answer does not start with blank lines.
    """

    def __init__(self) -> None:
        self._held = ""
        self._thinking = False
        self._said_anything = False

    def feed(self, text: str) -> tuple[str, str]:
        """Split one delta.

        Args:
            text: The delta's content as the model streamed it.

        Returns:
            The content to show and say, and the reasoning, either possibly empty.
        """
        text = self._held + text
        self._held = ""
        content: list[str] = []
        reasoning: list[str] = []
        while text:
            tag = CLOSE if self._thinking else OPEN
            out = reasoning if self._thinking else content
            at = text.find(tag)
            if at >= 0:
                out.append(text[:at])
                text = text[at + len(tag) :]
                self._thinking = not self._thinking
                continue
            keep = _partial_tag_length(text, tag)
            out.append(text[: len(text) - keep])
            self._held = text[len(text) - keep :]
            break
        return self._content("".join(content)), "".join(reasoning)

    def close(self) -> tuple[str, str]:
        """Return whatever was held back once the stream has ended."""
        held, self._held = self._held, ""
        if self._thinking:
            return "", held
        return self._content(held), ""

    def _content(self, text: str) -> str:
        if not self._said_anything:
            text = text.lstrip()
            self._said_anything = bool(text)
        return text


def _partial_tag_length(text: str, tag: str) -> int:
    """Length of the longest tail of ``text`` that is a proper prefix of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0
