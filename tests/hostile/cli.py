"""Run ``python -m voiced`` as a user would, with bytes in and out, and a private HOME."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import weakref
from pathlib import Path

from tests.conftest import TEST_KEY
from tests.procs import run_voiced, spawn_voiced

ROOT = Path(__file__).resolve().parents[2]


class Cli:
    """``voiced`` in a subprocess with HOME and XDG dirs under ``home``, and a TMPDIR of its
    own with a short path (a replay's control socket goes there, and a Unix socket path must
    fit in 107 bytes: an xdist worker's tmp_path is longer than a plain run's).

    Every run is checked: no traceback and no API key in its output.
    """

    def __init__(self, home: Path, base_url: str = "http://127.0.0.1:9") -> None:
        self.home = home
        self.tmp = Path(tempfile.mkdtemp(prefix="vcli-"))
        weakref.finalize(self, shutil.rmtree, self.tmp, True)
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
        return run_voiced(
            *args,
            env=self.env,
            cwd=self.home,
            stdin=stdin,
            timeout=timeout,
            secret=TEST_KEY,
            text=False,
        )

    def popen(self, *args: str | Path, log: Path) -> subprocess.Popen[bytes]:
        """Start ``voiced ARGS`` in the background, its output going to ``log``."""
        with log.open("ab") as out:
            return spawn_voiced(
                *args,
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
