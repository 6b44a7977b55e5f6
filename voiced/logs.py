"""Logging to stderr, and the one redaction that keeps the API key out of every text shown.

:func:`redact` is used wherever text from outside (a server's error body) or a log record
leaves the process: the client's errors, the stderr handler, the log events the TUI shows.
"""

from __future__ import annotations

import logging
import os
import re

from voiced.credentials import Secret

KEY_SHAPE = re.compile(r"gsk_[A-Za-z0-9_\-]{4,}")
"""Anything shaped like a Groq key, known to this process or not."""
KEY_MASK = "gsk_[redacted]"


class RedactSecrets(logging.Filter):
    """Replace every known secret, and anything shaped like a Groq key, in a record's text.

    The message, its arguments and any traceback are redacted before a handler formats them.

    Args:
        secrets: The values to hide.
    """

    def __init__(self, secrets: list[Secret]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s.reveal()]

    def redact(self, text: str) -> str:
        """Return text with every secret masked and every Groq-shaped key replaced."""
        for secret in self.secrets:
            value = secret.reveal()
            if value in text:
                text = text.replace(value, secret.masked())
        return KEY_SHAPE.sub(KEY_MASK, text) if "gsk_" in text else text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_REDACT = RedactSecrets([])


def protect(secret: Secret | None) -> None:
    """Scrub this secret from every log record and every redacted text from now on."""
    if secret is not None and secret.reveal() and secret not in _REDACT.secrets:
        _REDACT.secrets.append(secret)
        # Longest first: a secret that is part of another must not cut that one open.
        _REDACT.secrets.sort(key=lambda known: len(known.reveal()), reverse=True)


def redact(text: str) -> str:
    """Return text safe to show or store: protected secrets and Groq-shaped keys masked.

    Args:
        text: Any text that may hold a key (a server's message, a log line).
    """
    return _REDACT.redact(text)


def redaction() -> logging.Filter:
    """The filter that redacts records; add it to every handler that shows or sends them."""
    return _REDACT


def setup_logging(verbose: bool) -> None:
    """Log voiced's records to stderr (debug when verbose); keep httpx's own logs quiet.

    httpx and httpcore log request lines and, at debug level, header traffic: they stay at
    WARNING so no header can carry the key into a log.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    protect(Secret(os.environ.get("GROQ_API_KEY", "")))
    handler.addFilter(_REDACT)
    root = logging.getLogger("voiced")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False  # pyttsx3 logs through the root logger, which would print twice
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
