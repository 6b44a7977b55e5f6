"""Run ``voiced transcribe`` as its own process and measure its peak resident memory."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import TEST_KEY


@dataclass(frozen=True)
class Run:
    """What one ``voiced transcribe`` process did."""

    returncode: int
    stdout: str
    stderr: str
    peak_rss_mb: float
    """Its largest resident set (``ru_maxrss`` from ``wait4``), in MB."""


def transcribe_peak(
    audio: Path, base_url: str, *args: str, config: str = "", timeout: float = 600
) -> Run:
    """Run ``python -m voiced transcribe AUDIO ARGS`` against ``base_url`` with a private HOME.

    Args:
        audio: The file to transcribe.
        base_url: Where the loopback server listens (GROQ_BASE_URL).
        args: More command-line arguments, e.g. ``--format srt``.
        config: The text of config.toml, if any.
        timeout: Seconds before the process is killed (its Run then has returncode -9).
    """
    with tempfile.TemporaryDirectory(prefix="voiced-rss-") as home:
        config_dir = Path(home) / ".config" / "voiced"
        config_dir.mkdir(parents=True)
        (config_dir / "config.toml").write_text(config)
        env = {
            "PATH": os.environ["PATH"],
            "HOME": home,
            "XDG_CONFIG_HOME": str(Path(home) / ".config"),
            "GROQ_API_KEY": TEST_KEY,
            "GROQ_BASE_URL": base_url,
        }
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "voiced", "transcribe", str(audio), *args],
                env=env,
                cwd=home,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
            killer = threading.Timer(timeout, proc.kill)
            killer.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            finally:
                killer.cancel()
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            return Run(
                proc.returncode,
                out.read().decode(errors="replace"),
                err.read().decode(errors="replace"),
                usage.ru_maxrss / 1024,  # kilobytes on Linux
            )
