"""The API key: a value that never shows itself, and where it is loaded from."""

from __future__ import annotations

import os
import stat
import typing
from pathlib import Path

from voiced.errors import ConfigError, InsecureCredentialsError


class Secret:
    """A string that masks itself in ``str``, ``repr`` and f-strings.

    Only :meth:`reveal` gives the value, so a key passed around by mistake is never printed.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value; call this only where it is sent to the server."""
        return self._value

    def masked(self) -> str:
        """Return a form that is safe to show: the prefix and the last four characters."""
        v = self._value
        return f"{v[:4]}…{v[-4:]}" if len(v) >= 20 else "****"

    def __repr__(self) -> str:
        return f"Secret({self.masked()!r})"

    __str__ = masked

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def load_api_key(env: typing.Mapping[str, str], credentials: Path) -> tuple[Secret | None, str]:
    """Find the API key: ``GROQ_API_KEY`` first, then the credentials file.

    The credentials file holds either the bare key or a ``GROQ_API_KEY=…`` line, so the same
    file can serve as the systemd unit's ``EnvironmentFile``.

    Args:
        env: The environment.
        credentials: Path of the credentials file.

    Returns:
        The key (or None) and a description of where it came from.

    Raises:
        InsecureCredentialsError: The file is readable or writable by group or others.
        ConfigError: The file exists but holds no key.
    """
    value = env.get("GROQ_API_KEY", "").strip()
    if value:
        return Secret(value), "environment variable GROQ_API_KEY"
    try:
        mode = credentials.stat().st_mode
    except FileNotFoundError:
        return None, ""
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InsecureCredentialsError(
            f"{credentials} can be read by other users, so voiced will not use it",
            f"run: chmod 600 {credentials}",
        )
    for line in credentials.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, rest = line.partition("=")
        key = rest.strip().strip("'\"") if sep and name.strip() == "GROQ_API_KEY" else line
        if key:
            return Secret(key), str(credentials)
    raise ConfigError(f"{credentials} holds no API key", "put one line in it: GROQ_API_KEY=gsk_…")


def save_api_key(key: str, credentials: Path) -> None:
    """Write the key to the credentials file, created with mode 0600 from the start.

    Args:
        key: The API key.
        credentials: Path of the credentials file; its directory is created (0700) if needed.
    """
    credentials.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = credentials.with_name(credentials.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "w", encoding="utf-8") as fh:
        fh.write(f"GROQ_API_KEY={key}\n")
    tmp.replace(credentials)
