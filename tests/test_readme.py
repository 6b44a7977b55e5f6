"""The README documents every config key, and CI runs the README's own test command."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from voiced.config import SECTIONS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def config_block() -> str:
    start = README.index("## Configuration")
    match = re.search(r"```toml\n(.*?)```", README[start:], re.S)
    assert match, "the Configuration section has no toml block"
    return match.group(1)


def test_every_config_key_is_documented_with_its_section() -> None:
    block = config_block()
    sections = re.split(r"^\[(\w+)\]$", block, flags=re.M)[1:]
    documented = dict(zip(sections[::2], sections[1::2], strict=True))
    assert set(documented) == set(SECTIONS)
    for name, cls in SECTIONS.items():
        for field in fields(cls):
            assert re.search(rf"^#? ?{field.name} = ", documented[name], re.M), (
                f"[{name}] {field.name} is not in the README's config block"
            )


def test_quick_start_is_two_commands_and_ci_runs_the_test_one() -> None:
    start = README.index("## Quick start")
    block = re.search(r"```sh\n(.*?)```", README[start:], re.S)
    assert block
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    commands = [c for c in commands if c]
    assert len(commands) == 2
    test_command = next(c for c in commands if c.endswith(" test"))
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command.removeprefix("./") in ci
