"""Where the control socket lives: in a directory no other user can create or enter.

``VOICED_SOCKET`` wins, then ``[daemon] socket``; by default the socket is
``$XDG_RUNTIME_DIR/voiced/control.sock``. Without a usable runtime directory (no login
session, or one that is not a private directory of this user's) it is
``${XDG_CACHE_HOME:-~/.cache}/voiced/control.sock``, as GLib falls back for its runtime
directory: a path inside the user's home, which another user cannot create first, where
``/tmp/voiced-<uid>`` could be (and so be taken over).
"""

from __future__ import annotations

import functools
import logging
import os
import stat
import typing
from pathlib import Path

SOCKET_NAME = "control.sock"
OWN_DIRECTORY = "voiced"
"""The name of the directory voiced makes for its socket (kept at mode 0700)."""

log = logging.getLogger(__name__)


def socket_path(configured: str = "", env: typing.Mapping[str, str] | None = None) -> Path:
    """Return the control socket's path (see the module's docstring for the order).

    Args:
        configured: The ``[daemon] socket`` setting ("" when unset).
        env: The environment to read; defaults to ``os.environ``.
    """
    env = os.environ if env is None else env
    named = env.get("VOICED_SOCKET") or configured
    if named:
        return Path(named).expanduser()
    runtime = env.get("XDG_RUNTIME_DIR", "")
    if runtime:
        problem = runtime_dir_problem(Path(runtime))
        if not problem:
            return Path(runtime) / OWN_DIRECTORY / SOCKET_NAME
        _warn_once(f"XDG_RUNTIME_DIR={runtime} {problem}; the control socket goes in the cache")
    return fallback_dir(env) / SOCKET_NAME


def fallback_dir(env: typing.Mapping[str, str] | None = None) -> Path:
    """The socket's directory without a runtime directory: ``$XDG_CACHE_HOME/voiced``."""
    env = os.environ if env is None else env
    cache = env.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(cache):  # the XDG spec: a relative path is to be ignored
        cache = str(Path(env.get("HOME") or Path.home()).expanduser() / ".cache")
    return Path(cache) / OWN_DIRECTORY


def runtime_dir_problem(path: Path) -> str:
    """What makes ``path`` unfit as this user's runtime directory; "" when it is fit.

    The XDG spec requires an absolute path to a directory owned by the user that no one else
    may write to (voiced keeps its own ``voiced`` directory inside it at 0700).
    """
    if not path.is_absolute():
        return "is not an absolute path"
    try:
        info = path.stat()
    except OSError as exc:
        return f"cannot be used ({exc.strerror})"
    if not stat.S_ISDIR(info.st_mode):
        return "is not a directory"
    if info.st_uid != os.getuid():
        return f"belongs to another user (uid {info.st_uid})"
    if info.st_mode & 0o022:
        return f"can be written by other users (mode {stat.S_IMODE(info.st_mode):o})"
    return ""


@functools.cache
def _warn_once(message: str) -> None:
    log.warning("%s", message)
