"""The core never imports Textual: the daemon runs headless under systemd."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CORE = [
    "voiced.daemon.app",
    "voiced.daemon.assemble",
    "voiced.commands.daemon",
    "voiced.commands.control",
    "voiced.commands.doctor",
    "voiced.protocol",
]


def test_importing_the_daemon_and_its_commands_does_not_load_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {CORE!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_protocol_alone_loads_neither_audio_nor_http() -> None:
    code = (
        "import sys, voiced.protocol\n"
        "heavy = {'numpy', 'sounddevice', 'httpx', 'pyttsx3', 'textual'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
