"""What the microphone capture is told (CaptureOptions) and what it tells (events, stats)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from voiced.audio import devices
from voiced.config import AudioSettings

EventKind = Literal["opened", "lost", "reopen_failed", "overflow"]


@dataclass(frozen=True)
class CaptureOptions:
    """How the microphone is opened and looked after."""

    device: int | str | None = None
    """Index or part of the name; None is the system default input."""
    rate: int | None = None
    """Rate to open the device at (resampled to 16 kHz); None prefers 16 kHz."""
    block_frames: int = 2
    """Frames per PortAudio callback, each one wake-up of the loop: 1 delivers every frame at
    once, 2 (60 ms) costs about half the CPU."""
    close_block_frames: int = 1
    """Frames per callback while the consumer listens closely (``listen_closely``: voiced
    speaks): 1 hears speech over a reply up to 30 ms sooner."""
    latency: Literal["low", "high"] = "low"
    """PortAudio's suggested input latency. With a fixed block size the ALSA buffer is two
    blocks either way (120 ms at 60 ms blocks, through the pulse plugin), and bench/capture_cpu.py
    measures no CPU difference; "high" could only add buffering (end-of-speech latency)."""
    quiet_wait_frames: int = 10
    """Frames that may wait for one wake-up of the loop while the consumer lets quiet frames
    wait (``MicrophoneCapture.wait_below``); 10 is 300 ms, 1 or less hands each block over."""
    queue_frames: int = 200
    """Frames held for a slow consumer (6 s); beyond it the oldest are dropped and counted."""
    stall_timeout: float = 2.0
    """Seconds without a callback after which the device counts as lost."""
    backoff_first: float = 0.25
    """Seconds before the first reopen attempt; doubles after each failure."""
    backoff_max: float = 8.0
    """Longest wait between reopen attempts."""
    rescan_devices: bool = False
    """Re-enumerate PortAudio devices when the device is missing (closes every other stream
    in the process: only for a process that does nothing else with PortAudio)."""

    @classmethod
    def from_settings(cls, audio: AudioSettings, device: str | None = None) -> CaptureOptions:
        """Options from ``[audio]``; ``device`` (from ``--device``) overrides input_device."""
        chosen = devices.parse_device(device) if device else audio.input_device
        return cls(
            device=chosen,
            rate=audio.capture_rate,
            block_frames=audio.capture_block_ms // 30,
            close_block_frames=audio.speaking_block_ms // 30,
            quiet_wait_frames=audio.quiet_wait_ms // 30,
        )


@dataclass(frozen=True)
class CaptureEvent:
    """Something the user should hear about: the device opened, was lost, or audio was dropped."""

    kind: EventKind
    message: str
    device: str
    sample: int
    """Input-clock index when it happened."""


@dataclass
class CaptureStats:
    """Counters over the life of a capture."""

    frames: int = 0
    """Frames handed to the consumer's queue."""
    dropped: int = 0
    """Frames dropped because the consumer fell behind."""
    device_overflows: int = 0
    """Callbacks in which PortAudio reported lost input."""
    reopens: int = 0
    """Times the device was reopened after a loss."""
    handovers: int = 0
    """Times a stream of another block size took the device over (``listen_closely``)."""
    lost_samples: list[int] = field(default_factory=list)
    """Input-clock samples skipped over at each reopen."""
