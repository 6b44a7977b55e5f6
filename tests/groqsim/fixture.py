"""The `groqsim` pytest fixture: a started GroqSim per test, stopped afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import GroqSim


@pytest.fixture
def groqsim() -> Iterator[GroqSim]:
    """A running GroqSim (api key gsk_test), stopped after the test even if a reply stalls.

    Teardown fails if the simulator itself raised internally (a bug in groqsim, not the client).
    """
    with GroqSim() as sim:
        yield sim
    assert not sim.errors, f"groqsim failed internally: {sim.errors!r}"
