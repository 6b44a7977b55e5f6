"""Logging to stderr, with the API key scrubbed from every record."""

from __future__ import annotations

import logging
import os

from voiced.credentials import Secret


class RedactSecrets(logging.Filter):
    """Replace every known secret in a record's message with its masked form.

    Args:
        secrets: The values to hide.
    """

    def __init__(self, secrets: list[Secret]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s.reveal()]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self.secrets:
            message = message.replace(secret.reveal(), secret.masked())
        record.msg, record.args = message, None
        return True


_REDACT = RedactSecrets([])


def protect(secret: Secret | None) -> None:
    """Scrub this secret from every log record from now on."""
    if secret is not None and secret.reveal() and secret not in _REDACT.secrets:
        _REDACT.secrets.append(secret)


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
