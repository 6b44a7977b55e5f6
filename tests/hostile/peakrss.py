"""Run ``voiced transcribe`` as its own process and measure its peak resident memory."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
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
    """Its largest resident set (``VmHWM`` read by the process itself as it exits), in MB."""


LAUNCH = """
import atexit, os, runpy, sys

def peak():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    with open(os.environ["VOICED_PEAK_FILE"], "w") as out:
        out.write(line.split()[1])

atexit.register(peak)
sys.argv[0] = "voiced"
runpy.run_module("voiced", run_name="__main__", alter_sys=True)
"""
"""``python -m voiced`` with one addition: at exit it writes its own high-water RSS (kB).

Not ``ru_maxrss`` from ``wait4``: Linux carries into it the RSS of the process that forked
the child (here pytest or the bench, often larger than the child), while ``VmHWM`` counts only
the memory of the program after ``exec``."""


def transcribe_peak(
    audio: Path, base_url: str, *args: str, config: str = "", timeout: float = 600
) -> Run:
    """Run ``python -m voiced transcribe AUDIO ARGS`` against ``base_url`` with a private HOME.

    Args:
        audio: The file to transcribe.
        base_url: Where the loopback server listens (GROQ_BASE_URL).
        args: More command-line arguments, e.g. ``--format srt``.
        config: The text of config.toml, if any.
        timeout: Seconds before the process is killed (its Run then has returncode -9 and no
            peak).
    """
    with tempfile.TemporaryDirectory(prefix="voiced-rss-") as home:
        peak_file = Path(home) / "peak-kb"
        config_dir = Path(home) / ".config" / "voiced"
        config_dir.mkdir(parents=True)
        (config_dir / "config.toml").write_text(config)
        env = {
            "PATH": os.environ["PATH"],
            "HOME": home,
            "XDG_CONFIG_HOME": str(Path(home) / ".config"),
            "GROQ_API_KEY": TEST_KEY,
            "GROQ_BASE_URL": base_url,
            "VOICED_PEAK_FILE": str(peak_file),
        }
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(
                [sys.executable, "-c", LAUNCH, "transcribe", str(audio), *args],
                env=env,
                cwd=home,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            out.seek(0)
            err.seek(0)
            peak_kb = int(peak_file.read_text()) if peak_file.exists() else 0
            return Run(
                proc.returncode,
                out.read().decode(errors="replace"),
                err.read().decode(errors="replace"),
                peak_kb / 1024,
            )
