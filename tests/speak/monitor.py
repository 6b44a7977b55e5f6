"""A recording of vspeaker.monitor whose samples can be placed on the time.monotonic() clock.

The fixture's SpeakerRecording has no clock; stop and latency measurements need one. Each
read from ``parec`` is stamped on arrival. The null sink renders at exactly 22050 Hz, so
sample ``n`` reached the monitor at ``t0 + n / 22050``; every read bounds ``t0`` from above
(data arrives after it was rendered), and the tightest bound is kept. Times mapped this way
are at most a few ms late, so delays measured with them err on the long side.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time

import numpy as np
import numpy.typing as npt

RATE = 22050


class TimedRecording:
    """``parec`` on vspeaker.monitor, read by a thread that stamps every read.

    Args:
        env: The environment of the private PulseAudio server (``pulse.client_env()``).
        timeout: Seconds to wait for the first data.
    """

    def __init__(self, env: dict[str, str], timeout: float = 5.0) -> None:
        command = ["parec", "-d", "vspeaker.monitor", "--raw", "--format=s16le"]
        command += ["--channels=1", f"--rate={RATE}", "--latency-msec=5"]
        self._proc = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self._lock = threading.Lock()
        self._data = bytearray()
        self._t0 = float("inf")
        self._started = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True, name="timed-parec")
        self._reader.start()
        if not self._started.wait(timeout):
            self.stop()
            raise RuntimeError(f"parec on vspeaker.monitor delivered nothing in {timeout} s")

    def _read(self) -> None:
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        while chunk := os.read(fd, 4096):
            arrived = time.monotonic()
            with self._lock:
                self._data += chunk
                self._t0 = min(self._t0, arrived - (len(self._data) // 2) / RATE)
            self._started.set()

    def samples(self) -> npt.NDArray[np.int16]:
        """Every sample recorded so far."""
        with self._lock:
            data = bytes(self._data[: len(self._data) // 2 * 2])
        return np.frombuffer(data, dtype="<i2").astype(np.int16)

    def time_of(self, index: int) -> float:
        """time.monotonic() at which sample ``index`` reached the monitor (a few ms late)."""
        with self._lock:
            return self._t0 + index / RATE

    def index_at(self, moment: float) -> int:
        """The sample that reached the monitor at time.monotonic() ``moment``."""
        with self._lock:
            return int((moment - self._t0) * RATE)

    def wait_for_sound(self, after: int = 0, timeout: float = 5.0) -> int | None:
        """Wait until a non-zero sample arrives at or after index ``after``; return its index."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            loud = np.flatnonzero(self.samples()[after:])
            if loud.size:
                return after + int(loud[0])
            time.sleep(0.005)
        return None

    def stop(self) -> npt.NDArray[np.int16]:
        """End ``parec`` and return every sample recorded."""
        self._proc.terminate()
        try:
            self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=2)
        self._reader.join(timeout=2)
        if self._proc.stdout is not None and not self._reader.is_alive():
            self._proc.stdout.close()
        return self.samples()
