"""Run ``python -m voiced`` as a user would, with bytes in and out, and a private HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_KEY

ROOT = Path(__file__).resolve().parents[2]


class Cli:
    """``voiced`` in a subprocess with HOME, XDG dirs and TMPDIR under ``home``.

    Every run is checked: no traceback and no API key in its output.
    """

    def __init__(self, home: Path, base_url: str = "http://127.0.0.1:9") -> None:
        self.home = home
        self.tmp = home / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.data = home / ".local" / "share" / "voiced"
        (home / ".config" / "voiced").mkdir(parents=True, exist_ok=True)
        self.env = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_RUNTIME_DIR": str(home / "run"),
            "TMPDIR": str(self.tmp),
            "GROQ_API_KEY": TEST_KEY,
            "GROQ_BASE_URL": base_url,
        }
        (home / "run").mkdir(mode=0o700, exist_ok=True)

    def __call__(
        self, *args: str | bytes | Path, stdin: bytes | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[bytes]:
        done = subprocess.run(
            [sys.executable, "-m", "voiced", *(os.fsencode(a) for a in args)],
            env=self.env,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            cwd=self.home,
        )
        output = done.stdout + done.stderr
        assert b"Traceback" not in output, output.decode(errors="replace")
        assert TEST_KEY.encode() not in output, "the API key leaked into the output"
        return done

    def popen(self, *args: str | Path, log: Path) -> subprocess.Popen[bytes]:
        """Start ``voiced ARGS`` in the background, its output going to ``log``."""
        with log.open("ab") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "voiced", *map(str, args)],
                env=self.env,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )


def one_line_error(done: subprocess.CompletedProcess[bytes]) -> str:
    """The single ``voiced: …`` line a failed command printed on stderr (asserted)."""
    lines = done.stderr.decode(errors="replace").strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("voiced: "), lines
    return lines[0]
