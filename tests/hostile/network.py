"""Shared by the network hostile tests: ``voiced`` run as a real process against groqsim."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY
from tests.groqsim import GroqSim
from tests.test_cli import Voiced


@pytest.fixture
def voiced(groqsim: GroqSim, tmp_path: Path) -> Iterator[Voiced]:
    """``voiced`` with a private HOME, the simulator as GROQ_BASE_URL and TEST_KEY as the key.

    Every run asserts no traceback and no key in the output (see tests.test_cli.Voiced).
    """
    groqsim.api_key = TEST_KEY
    yield Voiced(groqsim, tmp_path)


def one_line_error(stderr: str) -> str:
    """The single ``voiced: …`` line a failed command printed; fails if there are more."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {stderr!r}"
    assert lines[0].startswith("voiced: "), lines[0]
    return lines[0]
