"""Where the control socket lives."""

from __future__ import annotations

import os
import typing
from pathlib import Path

SOCKET_NAME = "control.sock"


def socket_path(configured: str = "", env: typing.Mapping[str, str] | None = None) -> Path:
    """Return the control socket's path.

    ``VOICED_SOCKET`` wins, then ``[daemon] socket``, then
    ``$XDG_RUNTIME_DIR/voiced/control.sock``; without XDG_RUNTIME_DIR (no login session)
    ``/tmp/voiced-<uid>/control.sock``.

    Args:
        configured: The ``[daemon] socket`` setting ("" when unset).
        env: The environment to read; defaults to ``os.environ``.
    """
    env = os.environ if env is None else env
    named = env.get("VOICED_SOCKET") or configured
    if named:
        return Path(named).expanduser()
    runtime = env.get("XDG_RUNTIME_DIR")
    base = Path(runtime) if runtime else Path("/tmp") / f"voiced-{os.getuid()}"
    return (base / "voiced" if runtime else base) / SOCKET_NAME
