"""A recording of vspeaker.monitor on the time.monotonic() clock, for stop and latency tests.

The fixture's SpeakerRecording stamps every read; this asks ``parec`` for a 5 ms latency so the
stamps are tight, and adds a wait for the first sound.
"""

from __future__ import annotations

import time

import numpy as np

from tests.audio.pulse import SPEAKER_RATE, SpeakerRecording

RATE = SPEAKER_RATE


class TimedRecording(SpeakerRecording):
    """``parec`` on vspeaker.monitor with a 5 ms latency.

    Args:
        env: The environment of the private PulseAudio server (``pulse.client_env()``).
        timeout: Seconds to wait for the first data.
    """

    def __init__(self, env: dict[str, str], timeout: float = 5.0) -> None:
        super().__init__(env, timeout, latency_ms=5)

    def wait_for_sound(self, after: int = 0, timeout: float = 5.0) -> int | None:
        """Wait until a non-zero sample arrives at or after index ``after``; return its index."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            loud = np.flatnonzero(self.samples()[after:])
            if loud.size:
                return after + int(loud[0])
            time.sleep(0.005)
        return None
