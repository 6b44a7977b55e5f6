"""Showing a confirmation's text safely: invisible characters escaped, each URL's host named.

A confirmation question is built from the model's arguments, so it may hold terminal escapes
or bidi overrides that make a prompt show something else than what will run. Every prompt
(the TUI's, ``voiced ask``'s) shows the question through :func:`printable` and the host of
each URL argument on its own line (:func:`url_hosts`).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

ESCAPED = frozenset({"Cc", "Cf", "Zl", "Zp"})
"""Unicode categories shown escaped: control (terminal escapes, line breaks), format (bidi
overrides, zero-width characters), line and paragraph separators."""


def printable(text: str) -> str:
    """``text`` with every control or invisible formatting character written as an escape
    (``\\x1b``, ``\\u202e``), so what is shown is what is there."""
    return "".join(_escape(c) if unicodedata.category(c) in ESCAPED else c for c in text)


def _escape(char: str) -> str:
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def shown_host(url: str) -> str | None:
    """The host of an http(s) URL as a prompt shows it, or None for anything else.

    A host in another script is followed by its ASCII (punycode) form, which tells apart
    look-alike letters: ``аpple.com (xn--pple-43d.com)``.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    shown = printable(host)
    if not host.isascii():
        try:
            shown += f" ({host.encode('idna').decode('ascii')})"
        except UnicodeError:
            shown += " (not a valid host name)"
    return shown


def url_hosts(arguments: Mapping[str, Any] | str) -> list[str]:
    """The hosts of the URLs among a call's arguments (a mapping, or its JSON text), in order.

    Only string arguments at the top level are looked at; JSON that is not an object has none.
    """
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except (ValueError, RecursionError):
            return []
        if not isinstance(arguments, dict):
            return []
    hosts = [shown_host(v) for v in arguments.values() if isinstance(v, str)]
    return list(dict.fromkeys(h for h in hosts if h is not None))
