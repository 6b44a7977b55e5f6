"""Running ``voiced`` as a user does, with a private HOME and config (no server needed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.procs import run_voiced, user_env


def voiced(home: Path, *args: str, config: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m voiced ARGS`` with ``home`` as HOME and ``config`` as its config.toml."""
    config_dir = home / ".config" / "voiced"
    config_dir.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (config_dir / "config.toml").write_text(config)
    return run_voiced(*args, env=user_env(home), cwd=home, timeout=60)
