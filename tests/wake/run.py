"""Running ``voiced`` as a user does, with a private HOME and config (no server needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def voiced(home: Path, *args: str, config: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m voiced ARGS`` with ``home`` as HOME and ``config`` as its config.toml."""
    config_dir = home / ".config" / "voiced"
    config_dir.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (config_dir / "config.toml").write_text(config)
    result = subprocess.run(
        [sys.executable, "-m", "voiced", *args],
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
        },
        capture_output=True,
        text=True,
        timeout=60,
        cwd=home,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result
