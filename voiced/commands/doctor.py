"""``voiced doctor``: check everything voiced needs and say how to fix what is wrong."""

from __future__ import annotations

import argparse
import asyncio
import sys

MARKS = {"ok": "✓", "warn": "!", "fail": "✗"}


def run(args: argparse.Namespace) -> int:
    """Print one line per check, with the fix under each problem.

    Returns:
        0 when nothing failed (warnings allowed), 1 otherwise.
    """
    from voiced.config import Settings, load_settings
    from voiced.doctor import Check, run_checks
    from voiced.errors import ConfigError

    first: list[Check] = []
    try:
        settings = load_settings()
    except ConfigError as exc:
        first.append(Check("config", "fail", exc.message, exc.hint or "fix the file"))
        settings = Settings()
        print("voiced: checking with the default settings", file=sys.stderr)
    else:
        where = settings.config_path or "none (defaults in use)"
        first.append(Check("config", "ok", f"{where}"))
    checks = first + asyncio.run(run_checks(settings))
    width = max(len(c.name) for c in checks)
    for check in checks:
        print(f"{MARKS[check.outcome]} {check.name:<{width}}  {check.detail}")
        if check.fix and check.outcome != "ok":
            print(f"  {'':<{width}}  fix: {check.fix}")
    failed = sum(c.outcome == "fail" for c in checks)
    warned = sum(c.outcome == "warn" for c in checks)
    print(f"\n{failed} problem(s), {warned} warning(s)")
    return 1 if failed else 0
