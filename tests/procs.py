"""Running ``voiced`` as a real command-line process, the one way every test does it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
"""The checkout: the working directory of processes that need no other."""


Arg = str | bytes | os.PathLike[str]
"""A command-line argument: text, or bytes for names that are not UTF-8."""


def voiced_command(*args: Arg) -> list[Arg]:
    """The command line of ``voiced ARGS…`` with this interpreter (and so this checkout)."""
    return [sys.executable, "-m", "voiced", *args]


def user_env(home: Path, config: str = ".config", **extra: str) -> dict[str, str]:
    """A minimal environment of a user whose home is ``home`` (and nothing of this one's
    but PATH): ``XDG_CONFIG_HOME`` is ``home/config`` (``.config`` by default)."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / config),
        **extra,
    }


def run_voiced(
    *args: Arg,
    env: dict[str, str],
    cwd: Path | None = None,
    stdin: str | bytes | None = None,
    timeout: float = 30,
    secret: str | None = None,
    text: bool = True,
) -> subprocess.CompletedProcess[Any]:
    """Run ``voiced ARGS…`` to its end and return what it printed.

    Fails the test when the output holds a Python traceback, or ``secret`` (an API key).

    Args:
        env: The whole environment of the process.
        cwd: Its working directory (the checkout by default).
        stdin: Its standard input; without it, stdin is /dev/null (never a terminal).
        timeout: Seconds before it is killed and the test fails.
        secret: Text that must not appear in its output.
        text: Text in and out; False for bytes (output that need not be UTF-8).
    """
    result = subprocess.run(
        voiced_command(*args),
        env=env,
        cwd=cwd or ROOT,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=text,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    shown = output if text else output.decode(errors="replace")
    assert "Traceback" not in shown, shown
    if secret is not None:
        assert secret not in shown, "the API key leaked into the output"
    return result


def spawn_voiced(
    *args: Arg, env: dict[str, str], cwd: Path | None = None, **popen: Any
) -> subprocess.Popen[Any]:
    """Start ``voiced ARGS…`` and return the running process (the caller waits or kills it).

    Args:
        env: The whole environment of the process.
        cwd: Its working directory (the checkout by default).
        **popen: More arguments of ``subprocess.Popen`` (stdin, stdout, stderr, text, …).
    """
    return subprocess.Popen(voiced_command(*args), env=env, cwd=cwd or ROOT, **popen)
