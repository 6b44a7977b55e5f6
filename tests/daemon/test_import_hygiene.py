"""The core never imports Textual: the daemon runs headless under systemd."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import voiced

pytestmark = pytest.mark.subprocess

ROOT = Path(__file__).resolve().parents[2]

CORE = [
    "voiced.daemon.app",
    "voiced.pipeline.assemble",
    "voiced.commands.daemon",
    "voiced.commands.control",
    "voiced.commands.doctor",
    "voiced.protocol",
]


def loaded_after_import(modules: list[str], watched: set[str]) -> list[str]:
    """Import ``modules`` in a fresh interpreter; return which ``watched`` packages got loaded."""
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"watched = {sorted(watched)!r}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in watched))\n"
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
    return list(ast.literal_eval(done.stdout.strip()))


def test_importing_the_daemon_and_its_commands_does_not_load_textual() -> None:
    assert loaded_after_import(CORE, {"textual"}) == []


def test_the_protocol_alone_loads_neither_audio_nor_http() -> None:
    heavy = {"numpy", "sounddevice", "httpx", "pyttsx3", "textual"}
    assert loaded_after_import(["voiced.protocol"], heavy) == []


def test_the_commands_that_only_talk_to_groq_load_neither_numpy_nor_the_speech_engine() -> None:
    """``voiced ask``, ``history``, ``models`` and the like start on about a quarter less CPU: the
    conversation cleans its replies' text with ``voiced.speak.cleaner`` only, and
    ``voiced.speak`` loads its Speaker (NumPy, the espeak-ng worker) on first use."""
    text_only = [
        "voiced.commands.ask",
        "voiced.commands.history",
        "voiced.commands.models",
        "voiced.commands.tools",
        "voiced.commands.show_config",
        "voiced.converse",
        "voiced.speak",
    ]
    assert loaded_after_import(text_only, {"numpy", "pyttsx3", "sounddevice"}) == []


def test_voiced_ask_loads_the_control_protocol_only_to_show_a_confirmation() -> None:
    """The protocol's messages cost ``voiced ask`` about 20 ms of CPU to import, a tenth of
    its start; it needs only their escaping of a confirmation's text, when there is one."""
    loaded = loaded_after_import(["voiced.commands.ask"], {"voiced"})
    assert "voiced.commands.ask" in loaded
    assert [m for m in loaded if m.startswith("voiced.protocol")] == []


def test_the_pipeline_moves_the_state_only_through_pipeline_states() -> None:
    """One owner of the pipeline's state: no other pipeline module calls ``state.to``."""
    package = Path(voiced.__file__).parent / "pipeline"
    movers = sorted(p.name for p in package.glob("*.py") if ".state.to(" in p.read_text())
    assert movers == ["states.py"]
