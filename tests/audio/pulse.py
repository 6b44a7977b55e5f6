"""A private PulseAudio server with a virtual microphone and speaker, for real audio tests.

The layout follows ``shared/reference/headless-audio.md``: ``micfeed`` (16 kHz mono) is the
sink a test plays into, ``vmic`` is its monitor remapped as the default source, ``vspeaker``
(22050 Hz mono) is the default sink whose monitor a test records, and two loopbacks into a
``keepalive`` sink make new streams start promptly.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

VAUDIO_PA = """\
.fail
load-module module-native-protocol-unix auth-anonymous=1 auth-cookie-enabled=0
load-module module-null-sink sink_name=vspeaker rate=22050 channels=1
load-module module-null-sink sink_name=micfeed rate=16000 channels=1
load-module module-remap-source master=micfeed.monitor source_name=vmic
load-module module-null-sink sink_name=keepalive rate=16000 channels=1
load-module module-loopback source=micfeed.monitor sink=keepalive latency_msec={mic_keepalive_ms} \
source_dont_move=true sink_dont_move=true
load-module module-loopback source=vspeaker.monitor sink=keepalive latency_msec=20 \
source_dont_move=true sink_dont_move=true
set-default-sink vspeaker
set-default-source vmic
"""

ASOUND_CONF = """\
pcm.vmic { type pulse; device "vmic" }
pcm.micfeed { type pulse; device "micfeed" }
pcm.vspeaker { type pulse; device "vspeaker" }
"""
"""Named ALSA devices, so one process can pick ``vmic`` or ``vspeaker`` through PortAudio."""

DAEMON_CONF = """\
realtime-priority = 30
"""
"""The server's sink threads (real-time where it may: root, or an audio group) run above the
tests, which CI runs under ``chrt -r 20``: at the default 5 any busy test thread preempted
them, and the sink's monitor, which the speaker tests record, lost samples."""

SPEAKER_RATE = 22050
PROMPT_START = 0.15
"""A stream counts as starting promptly when its first data arrives within this many seconds."""


class PulseError(RuntimeError):
    """The test PulseAudio server could not be started or used."""


def missing_tools() -> list[str]:
    """Return the PulseAudio programs this fixture needs that are not installed."""
    return [tool for tool in ("pulseaudio", "paplay", "parec", "pactl") if not shutil.which(tool)]


class PulseServer:
    """One private ``pulseaudio`` process; every path it uses lives under ``root``.

    Args:
        root: A directory of its own (created if needed); the runtime dir, state, log,
            ``vaudio.pa`` and ALSA config go there.
        mic_keepalive_ms: Latency of the keep-alive reader on the microphone. At 20 ms the
            server sends every reader of ``vmic`` 5 ms chunks (about 180 wake-ups a second for
            the client); at 200 ms it sends them at the latency they ask for, as a desktop
            server does for a microphone with one reader (``bench/capture_cpu.py`` uses both).
        memfd: Share audio with clients through memfd, as desktop servers do by default. Off
            for the tests (POSIX shared memory instead): with memfd blocks the server aborted
            once in a test run (memblock.c: n_imported > 0, after "Cannot send block reference
            with non-registered memfd ID", PulseAudio issue 824) while echo-cancel ran.
    """

    def __init__(self, root: Path, mic_keepalive_ms: int = 20, memfd: bool = False) -> None:
        self.root = Path(root)
        self.mic_keepalive_ms = mic_keepalive_ms
        self.memfd = memfd
        self.runtime = self.root / "run"
        self.log = self.root / "pa.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self.env: dict[str, str] = {
            "XDG_RUNTIME_DIR": str(self.runtime),
            "PULSE_RUNTIME_PATH": str(self.runtime / "pulse"),
            "PULSE_STATE_PATH": str(self.runtime / "state"),
            "PULSE_COOKIE": str(self.runtime / "state" / "cookie"),
            "PULSE_SERVER": f"unix:{self.runtime / 'pulse' / 'native'}",
            "ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{self.root / 'asound.conf'}",
        }

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def client_env(self) -> dict[str, str]:
        """Return ``os.environ`` with this server's variables on top, for a client process."""
        return {**os.environ, **self.env}

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and return once new streams start promptly (pitfall 1).

        Raises:
            PulseError: The tools are missing, the server died, or it was not ready in time.
        """
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the server process without waiting for it (:meth:`wait_ready` does).

        Raises:
            PulseError: The tools are missing.
        """
        if missing := missing_tools():
            raise PulseError(f"not installed: {', '.join(missing)}")
        for sub in ("pulse", "state"):
            (self.runtime / sub).mkdir(parents=True, exist_ok=True)
        self.runtime.chmod(0o700)
        (self.root / "vaudio.pa").write_text(
            VAUDIO_PA.format(mic_keepalive_ms=self.mic_keepalive_ms)
        )
        (self.root / "asound.conf").write_text(ASOUND_CONF)
        (self.root / "daemon.conf").write_text(DAEMON_CONF)
        self._proc = subprocess.Popen(
            [
                "pulseaudio",
                "--daemonize=no",
                "--exit-idle-time=-1",
                f"--enable-memfd={'yes' if self.memfd else 'no'}",
                "-n",
                "-F",
                str(self.root / "vaudio.pa"),
                f"--log-target=file:{self.log}",
            ],
            env={**self.client_env(), "PULSE_CONFIG": str(self.root / "daemon.conf")},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Return once a launched server starts new streams promptly: at once if it was
        launched a few seconds ago (the slow start is the server's first ~2 s).

        Raises:
            PulseError: The server died, or it was not ready in time (it is then stopped).
        """
        deadline = time.monotonic() + timeout
        try:
            self._wait_until_prompt(deadline)
        except BaseException:
            self.stop()
            raise

    def _wait_until_prompt(self, deadline: float) -> None:
        prompt_in_a_row = 0
        while prompt_in_a_row < 2:
            if not self.running:
                raise PulseError(f"pulseaudio exited during start; see {self.log}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise PulseError(f"pulseaudio not ready in time; see {self.log}")
            delay = self._first_data_delay(min(left, 3.0))
            prompt_in_a_row = prompt_in_a_row + 1 if delay < PROMPT_START else 0
            if delay == float("inf"):
                time.sleep(0.02)

    def _first_data_delay(self, limit: float) -> float:
        """Seconds until a fresh ``parec`` on vmic delivers data, or inf if it does not."""
        began = time.monotonic()
        proc = subprocess.Popen(
            ["parec", "-d", "vmic", "--raw", "--format=s16le", "--rate=16000", "--channels=1"],
            env=self.client_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], limit)
            if ready and os.read(proc.stdout.fileno(), 64):
                return time.monotonic() - began
            return float("inf")
        finally:
            proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()

    def stop(self) -> None:
        """Kill the server (SIGTERM, then SIGKILL after 2 s); never hangs."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGCONT)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=2)

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): its streams go silent without closing."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused server run again (SIGCONT)."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGCONT)

    def play_to_mic(self, wav: Path) -> subprocess.Popen[bytes]:
        """Start ``paplay -d micfeed WAV``: the file is heard on ``vmic``; the caller waits."""
        return subprocess.Popen(
            ["paplay", "-d", "micfeed", str(wav)],
            env=self.client_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def record_speaker(self, timeout: float = 5.0) -> SpeakerRecording:
        """Start recording ``vspeaker.monitor``; returns once the first data has arrived.

        Raises:
            PulseError: ``parec`` delivered nothing within ``timeout`` seconds.
        """
        return SpeakerRecording(self.client_env(), timeout)

    def record_mic(self, timeout: float = 5.0) -> SpeakerRecording:
        """Start recording what the microphone hears (``micfeed.monitor``, 16 kHz), stamped
        like :meth:`record_speaker`; returns once the first data has arrived.

        Raises:
            PulseError: ``parec`` delivered nothing within ``timeout`` seconds.
        """
        return SpeakerRecording(self.client_env(), timeout, device="micfeed.monitor", rate=16000)

    def __enter__(self) -> PulseServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SpeakerRecording:
    """A running ``parec`` on a sink's monitor (s16le mono; by default ``vspeaker.monitor`` at
    22050 Hz), read by a thread.

    Each read is stamped on arrival, so samples can be placed on the ``time.monotonic()``
    clock: the null sink renders at exactly its rate, so sample ``n`` reached the monitor at
    ``t0 + n / rate``; every read bounds ``t0`` from above (data arrives after it was
    rendered) and the tightest bound is kept. Times mapped this way are at most a few ms late.

    Args:
        env: The environment of the private PulseAudio server.
        timeout: Seconds to wait for the first data.
        latency_ms: The latency ``parec`` asks the server for (smaller: tighter time stamps).
        device: The monitor source to record.
        rate: Its rate (the sink's own, so nothing is resampled).
    """

    def __init__(
        self,
        env: dict[str, str],
        timeout: float,
        latency_ms: int = 20,
        device: str = "vspeaker.monitor",
        rate: int = SPEAKER_RATE,
    ) -> None:
        self.rate = rate
        self._proc = subprocess.Popen(
            [
                "parec",
                "-d",
                device,
                "--raw",
                "--format=s16le",
                "--channels=1",
                f"--rate={rate}",
                f"--latency-msec={latency_ms}",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._data = bytearray()
        self._t0 = float("inf")
        self._lock = threading.Lock()
        self._started = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True, name="parec-reader")
        self._reader.start()
        if not self._started.wait(timeout):
            self.stop()
            raise PulseError(f"parec on {device} delivered nothing in {timeout} s")

    def _read(self) -> None:
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        while chunk := os.read(fd, 4096):
            arrived = time.monotonic()
            with self._lock:
                self._data += chunk
                self._t0 = min(self._t0, arrived - (len(self._data) // 2) / self.rate)
            self._started.set()

    def samples(self) -> npt.NDArray[np.int16]:
        """Return the samples recorded so far, without stopping."""
        with self._lock:
            data = bytes(self._data[: len(self._data) // 2 * 2])
        return np.frombuffer(data, dtype="<i2").astype(np.int16)

    def time_of(self, index: int) -> float:
        """time.monotonic() at which sample ``index`` reached the monitor (a few ms late)."""
        with self._lock:
            return self._t0 + index / self.rate

    def index_at(self, moment: float) -> int:
        """The sample that reached the monitor at time.monotonic() ``moment``."""
        with self._lock:
            return int((moment - self._t0) * self.rate)

    def stop(self) -> npt.NDArray[np.int16]:
        """End ``parec`` and return every sample it recorded."""
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
