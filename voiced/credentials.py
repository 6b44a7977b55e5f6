"""The API key: a value that never shows itself, and where it is loaded from."""

from __future__ import annotations

import os
import re
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


CREDENTIALS_LIMIT = 64 * 1024
"""Largest credentials file read, in bytes: it holds one line."""

FORMAT = "it should hold one line: GROQ_API_KEY=gsk_…"

_ASSIGNMENT = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)")
"""``NAME=value`` or ``export NAME=value``, as in a shell script or an EnvironmentFile."""


def load_api_key(env: typing.Mapping[str, str], credentials: Path) -> tuple[Secret | None, str]:
    """Find the API key: ``GROQ_API_KEY`` first, then the credentials file.

    The credentials file holds either the bare key or a ``GROQ_API_KEY=…`` line (also
    ``export GROQ_API_KEY="…"``, with comments and other variables around it, CRLF line ends or
    a byte-order mark), so the same file can serve as the systemd unit's ``EnvironmentFile``
    or be sourced by a shell.

    Args:
        env: The environment.
        credentials: Path of the credentials file.

    Returns:
        The key (or None) and a description of where it came from.

    Raises:
        InsecureCredentialsError: The file is readable or writable by group or others.
        ConfigError: The file is not a regular file, cannot be read, is not UTF-8, holds no
            key or a malformed one; or the key has characters an HTTP header cannot carry.
            The message never shows the key.
    """
    value = env.get("GROQ_API_KEY", "").strip()
    if value:
        source = "environment variable GROQ_API_KEY"
        return _checked(value, source), source
    text = _read_credentials(credentials)
    if text is None:
        return None, ""
    return _checked(parse_credentials(text, credentials), str(credentials)), str(credentials)


def _read_credentials(path: Path) -> str | None:
    """The credentials file's text, or None when there is none."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(
                f"{path} is a directory, not a credentials file",
                f"remove it and write the key to a file of that name with mode 600; {FORMAT}",
            )
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path} is not a regular file", f"make it a file; {FORMAT}")
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise InsecureCredentialsError(
                f"{path} can be read by other users, so voiced will not use it",
                f"run: chmod 600 {path}",
            )
        with path.open("rb") as fh:
            data = fh.read(CREDENTIALS_LIMIT + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > CREDENTIALS_LIMIT:
        raise ConfigError(f"{path} is larger than 64 KiB, so not a credentials file", FORMAT)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path} is not UTF-8 text (an invalid byte on line {line})", FORMAT
        ) from None


def parse_credentials(text: str, path: Path) -> str:
    """The key in a credentials file's text.

    Blank lines and lines starting with ``#`` or ``;`` are skipped, and so are assignments
    to other variables; the key is the value of the first ``GROQ_API_KEY=`` line (quoted or
    not, ``export`` or not, an unquoted `` # comment`` after it dropped), or else the first
    line that is not an assignment.

    Raises:
        ConfigError: No key, or a malformed one; the message names the line, never the key.
    """
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        match = _ASSIGNMENT.fullmatch(line)
        if match and match[1] != "GROQ_API_KEY":
            continue
        key = _value(match[2] if match else line, path, number)
        if key:
            return key
    raise ConfigError(f"{path} holds no API key", "put one line in it: GROQ_API_KEY=gsk_…")


def _value(text: str, path: Path, number: int) -> str:
    """A value as a shell reads it: quoted, or unquoted up to a `` #`` comment."""
    if text[:1] in ("'", '"'):
        value, closed, rest = text[1:].partition(text[0])
        rest = rest.strip()
        if not closed or (rest and not rest.startswith("#")):
            raise ConfigError(f"{path}: line {number}: the quoted key is not closed", FORMAT)
        return value.strip()
    value = re.split(r"\s#", text, maxsplit=1)[0].strip()
    if any(c.isspace() for c in value):
        raise ConfigError(f"{path}: line {number}: the key has a space in it", FORMAT)
    return value


def _checked(key: str, source: str) -> Secret:
    """The key as a Secret, once it is known to fit in an HTTP header."""
    if not all("!" <= c <= "~" for c in key):
        raise ConfigError(
            f"the API key from {source} has characters an API key never has "
            "(spaces, control characters or non-ASCII letters)",
            "copy the key again from https://console.groq.com/keys",
        )
    return Secret(key)


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
