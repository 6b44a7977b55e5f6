"""The inline half of the speech cleaner: emphasis, links, URLs, actions, emoji and spacing."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

# Where something other than plain text may start (over-inclusive; handlers decide).
_CANDIDATE = re.compile(r"[\n\\`*_~\[!<]|(?<![\w/@.:-])[hHwW]")
_WORD_CHAR = re.compile(r"[\w/@.:-]")
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff"
    "\ufe00-\ufe0f\u200d\u20e3\U000e0020-\U000e007f]"
)
_STAR_SPAN = re.compile(r"\*([^*\n]*?[^\s*])\*")
_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*(?:<([^>\n]*)>|([^)\s]*))(?:\s+[\"'][^\"'\n]*[\"'])?\s*\)")
_LINK_PARTIAL = re.compile(r"!?\[[^\]\n]*(?:\](?:\([^)\n]*)?)?")
_TAG = re.compile(r"<(/?[A-Za-z][A-Za-z0-9-]*)\s*/?>")
_AUTOLINK = re.compile(r"<((?:https?://|www\.)[^<>\s]+)>", re.IGNORECASE)
_LT_PARTIAL = re.compile(r"<[^<>\s]*\s*/?")
_URL_END = re.compile(r"[\s<>\"]")
SCHEMES = ("https://", "http://", "www.")
_BARE_DOMAIN_AFTER = {"at", "to", "on", "from", "visit", "see", "via", "check", "under"}
_SPAN_LIMIT, _LINK_LIMIT, _URL_LIMIT = 300, 500, 2048


def describe_url(url: str, bare: bool = False) -> str:
    """Say a URL as its domain: "a link to example.com" (just "example.com" when ``bare``)."""
    try:
        host = urlsplit(url if "://" in url else "http://" + url).hostname or ""
    except ValueError:  # such as an unclosed [ in the host
        host = ""
    host = host.removeprefix("www.")
    if not host:
        return "a link"
    return host if bare else f"a link to {host}"


class InlineStage:
    """Cleans the text of lines (the block stage has removed line markers); streams."""

    def __init__(self) -> None:
        self._buf = ""
        self._prev = "\n"  # the last input character consumed
        self._out: list[str] = []
        self._space = False  # a space is owed before the next visible text
        self._line_text = False  # the current line has visible text
        self._last = ""  # the last visible character written
        self._last_word = ""
        self._handlers: dict[str, Callable[[str, bool], str | None]] = {
            "\\": self._backslash,
            "`": self._drop_one,
            "*": self._star,
            "_": self._underscore,
            "~": self._tilde,
            "[": self._link,
            "!": self._bang,
            "<": self._angle,
        }

    def feed(self, text: str) -> str:
        """Add text; return the cleaned text that is settled."""
        self._buf += text
        return self._run(final=False)

    def flush(self) -> str:
        """Settle and return everything still held back."""
        return self._run(final=True)

    def _run(self, final: bool) -> str:
        while self._buf:
            found = _CANDIDATE.search(self._buf)
            start = found.start() if found else len(self._buf)
            if start:
                self._plain(self._buf[:start])
                self._buf = self._buf[start:]
                continue
            char = self._buf[0]
            if char == "\n":
                self._newline()
                self._buf, self._prev = self._buf[1:], "\n"
                continue
            rest = self._handlers.get(char, self._url)(self._buf, final)
            if rest is None:
                break
            self._buf = rest
        out = "".join(self._out)
        self._out.clear()
        return out

    def _plain(self, text: str) -> None:
        self._write(text)
        self._prev = text[-1]

    def _drop_one(self, buf: str, final: bool) -> str:
        self._prev = buf[0]
        return buf[1:]

    def _backslash(self, buf: str, final: bool) -> str | None:
        if len(buf) < 2:
            return None if not final else ""
        if buf[1] in "\\`*_{}[]()#+-.!<>|~":
            self._plain(buf[1])
            return buf[2:]
        return self._drop_one(buf, final)

    def _star(self, buf: str, final: bool) -> str | None:
        run = len(buf) - len(buf.lstrip("*"))
        if run == len(buf) and not final:
            return None
        self._prev = "*"
        if run > 1 or run == len(buf) or buf[1].isspace():
            if run == 1 and self._last.isdigit():
                self._write("times")  # 5 * 3
            return buf[run:]
        window = buf[:_SPAN_LIMIT]
        span = _STAR_SPAN.match(window)
        if span is None:
            if not final and "\n" not in window and len(window) < _SPAN_LIMIT:
                return None
            return buf[1:]
        after = buf[span.end() :].lstrip(" \t")
        if not after and not final:
            return None
        at_sentence_start = not self._line_text or self._last in ".!?…"
        if at_sentence_start and not after[:1].islower():
            return buf[span.end() :]  # an *action* standing as its own sentence
        return span.group(1) + buf[span.end() :]

    def _underscore(self, buf: str, final: bool) -> str | None:
        run = len(buf) - len(buf.lstrip("_"))
        if run == len(buf) and not final:
            return None
        after = buf[run : run + 1]
        if self._prev.isalnum() and after.isalnum():
            self._plain(buf[:run])  # snake_case: espeak reads it well
        else:
            self._prev = "_"
        return buf[run:]

    def _tilde(self, buf: str, final: bool) -> str | None:
        if len(buf) < 2 and not final:
            return None
        if buf[1:2].isdigit():
            self._write("about")
            self._space = True
        self._prev = "~"
        return buf[1:]

    def _link(self, buf: str, final: bool) -> str | None:
        window = buf[:_LINK_LIMIT]
        link = _LINK.match(window)
        if link:
            self._prev = "["
            text = link.group(1).strip() or link.group(2) or link.group(3)
            return text + buf[link.end() :]
        if not final and len(window) < _LINK_LIMIT and _LINK_PARTIAL.fullmatch(window):
            return None
        self._plain("[")
        return buf[1:]

    def _bang(self, buf: str, final: bool) -> str | None:
        if len(buf) < 2 and not final:
            return None
        if buf[1:2] != "[":
            self._plain("!")
            return buf[1:]
        window = buf[:_LINK_LIMIT]
        image = _LINK.match(window, 1)
        if image:
            self._prev = "["
            return image.group(1).strip() + buf[image.end() :]  # an image: its alt text
        if not final and len(window) < _LINK_LIMIT and _LINK_PARTIAL.fullmatch(window):
            return None
        self._plain("!")
        return buf[1:]

    def _angle(self, buf: str, final: bool) -> str | None:
        window = buf[:_SPAN_LIMIT]
        if autolink := _AUTOLINK.match(window):
            self._prev = "<"
            return autolink.group(1) + buf[autolink.end() :]
        if tag := _TAG.match(window):
            self._prev = ">"
            self._space = self._space or tag.group(1).lower() == "br"
            return buf[tag.end() :]
        if not final and len(window) < _SPAN_LIMIT and _LT_PARTIAL.fullmatch(window):
            return None
        self._plain("<")
        return buf[1:]

    def _url(self, buf: str, final: bool) -> str | None:
        if _WORD_CHAR.match(self._prev):  # inside a word: not a URL
            self._plain(buf[0])
            return buf[1:]
        lower = buf[:8].lower()
        if not lower.startswith(SCHEMES):
            if not final and len(buf) < 8 and any(s.startswith(lower) for s in SCHEMES):
                return None
            self._plain(buf[0])
            return buf[1:]
        window = buf[:_URL_LIMIT]
        end = _URL_END.search(window)
        if end is None and not final and len(window) < _URL_LIMIT:
            return None
        token = window[: end.start()] if end else window
        while token and (
            token[-1] in ".,;:!?'*_"
            or (token[-1] == ")" and token.count("(") < token.count(")"))
            or (token[-1] == "]" and token.count("[") < token.count("]"))
        ):
            token = token[:-1]
        bare = self._last_word.strip(".,;:!?\"'()") in _BARE_DOMAIN_AFTER
        self._write(describe_url(token, bare=bare))
        self._prev = token[-1]
        return buf[len(token) :]

    def _write(self, text: str) -> None:
        """Append visible text: no emoji, one space between words, none before punctuation."""
        for word in re.split(r"(\s+)", _EMOJI.sub("", text)):
            if not word:
                continue
            if word.isspace():
                self._space = True
                continue
            if not self._line_text:
                word = word.lstrip(",;:.!?)]}")
                if not word:
                    continue
            joined = self._line_text and not self._space
            if self._space and self._line_text and word[0] not in ",.;:!?)]}%":
                self._out.append(" ")
            self._space = False
            self._out.append(word)
            self._line_text, self._last = True, word[-1]
            self._last_word = (self._last_word if joined else "") + word.lower()

    def _newline(self) -> None:
        """End a line: it becomes a sentence of its own."""
        if self._line_text:
            if self._last.isalnum() or self._last in ")]\"'”’%":
                self._out.append(".")
            self._out.append("\n")
        self._line_text, self._space, self._last, self._last_word = False, False, "", ""
