"""Audio devices through PortAudio: list them, pick one by name or index, find a format it takes."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from voiced.audio.frames import SAMPLE_RATE
from voiced.errors import AudioDeviceError

Kind = Literal["input", "output"]

CHECK_DEVICES = (
    "run `voiced devices` to see them; check that PulseAudio or PipeWire is running "
    "and that libasound2-plugins is installed"
)

_rescan_lock = threading.Lock()


def sounddevice() -> ModuleType:
    """Import sounddevice, turning a missing PortAudio library into an AudioDeviceError."""
    try:
        import sounddevice as sd
    except OSError as exc:
        raise AudioDeviceError(
            f"PortAudio could not be loaded: {exc}",
            "install it: sudo apt-get install libportaudio2",
        ) from exc
    module: ModuleType = sd
    return module


@dataclass(frozen=True)
class DeviceInfo:
    """One PortAudio device as ``voiced devices`` shows it."""

    index: int
    name: str
    hostapi: str
    inputs: int
    """Most input channels (0: not a microphone)."""
    outputs: int
    """Most output channels (0: not a speaker)."""
    default_rate: float
    """The device's default sample rate in Hz."""
    default_input: bool = False
    """Whether this is the system's default input."""
    default_output: bool = False
    """Whether this is the system's default output."""

    def channels(self, kind: Kind) -> int:
        """Channels the device has in the direction ``kind``."""
        return self.inputs if kind == "input" else self.outputs


def list_devices() -> list[DeviceInfo]:
    """Return every device PortAudio knows, marking the system defaults.

    Raises:
        AudioDeviceError: PortAudio is missing or fails to enumerate devices.
    """
    sd = sounddevice()
    try:
        raw: Any = sd.query_devices()
        apis: Any = sd.query_hostapis()
    except sd.PortAudioError as exc:
        raise AudioDeviceError(f"cannot list audio devices: {exc}", CHECK_DEVICES) from exc
    default_in, default_out = (_default_index(sd, kind) for kind in ("input", "output"))
    return [
        DeviceInfo(
            index=int(d["index"]),
            name=str(d["name"]),
            hostapi=str(apis[d["hostapi"]]["name"]),
            inputs=int(d["max_input_channels"]),
            outputs=int(d["max_output_channels"]),
            default_rate=float(d["default_samplerate"]),
            default_input=d["index"] == default_in,
            default_output=d["index"] == default_out,
        )
        for d in raw
    ]


def _default_index(sd: ModuleType, kind: Kind) -> int | None:
    try:
        return int(sd.query_devices(kind=kind)["index"])
    except sd.PortAudioError:
        return None


def parse_device(spec: int | str | None) -> int | str | None:
    """Normalise a device setting: "3" is index 3, "" or None the system default."""
    if isinstance(spec, str):
        spec = spec.strip()
        if not spec:
            return None
        if spec.isdigit():
            return int(spec)
    return spec


def find_device(
    spec: int | str | None, kind: Kind, devices: list[DeviceInfo] | None = None
) -> DeviceInfo:
    """Pick the device a setting names: an index, part of a name, or None for the default.

    A name matches case-insensitively; an exact name wins over names that merely contain it.

    Raises:
        AudioDeviceError: No such device, the name is ambiguous, or there is none at all.
    """
    devices = list_devices() if devices is None else devices
    usable = [d for d in devices if d.channels(kind)]
    what = "microphone" if kind == "input" else "speaker"
    key = "input_device" if kind == "input" else "output_device"
    choices = "; ".join(f"{d.index}: {d.name}" for d in usable)
    if not usable:
        raise AudioDeviceError(f"no {what} found (PortAudio lists no {kind} device)", CHECK_DEVICES)
    spec = parse_device(spec)
    if spec is None:
        for device in usable:
            if getattr(device, f"default_{kind}"):
                return device
        raise AudioDeviceError(
            f"no default {what} is set",
            f"set [audio] {key} to one of these ({choices}), or check `voiced devices`",
        )
    if isinstance(spec, int):
        for device in usable:
            if device.index == spec:
                return device
        raise AudioDeviceError(
            f"no {kind} device has index {spec}", f"set [audio] {key} to one of: {choices}"
        )
    wanted = spec.casefold()
    exact = [d for d in usable if d.name.casefold() == wanted]
    matches = exact or [d for d in usable if wanted in d.name.casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise AudioDeviceError(
            f"no {kind} device matches {spec!r}", f"set [audio] {key} to one of: {choices}"
        )
    several = "; ".join(f"{d.index}: {d.name}" for d in matches)
    raise AudioDeviceError(
        f"{spec!r} matches several {kind} devices ({several})",
        f"use more of the name or the index in [audio] {key}",
    )


def input_format(device: DeviceInfo, rate: int | None = None) -> tuple[int, int]:
    """Find (rate, channels) the device records int16 at: 16 kHz mono when it can.

    Args:
        device: The microphone.
        rate: A rate to insist on; None tries 16 kHz, then the device's default rate.

    Raises:
        AudioDeviceError: The device takes none of these formats.
    """
    sd = sounddevice()
    rates = [rate] if rate else [SAMPLE_RATE, round(device.default_rate)]
    channel_counts = sorted({1, min(2, device.inputs), device.inputs})
    last_error = ""
    for channels in channel_counts:
        for candidate in rates:
            try:
                sd.check_input_settings(
                    device=device.index, samplerate=candidate, channels=channels, dtype="int16"
                )
                return candidate, channels
            except sd.PortAudioError as exc:
                last_error = str(exc)
    raise AudioDeviceError(
        f"microphone {device.name!r} takes no 16-bit format at {' or '.join(map(str, rates))} Hz "
        f"({last_error})",
        "set [audio] capture_rate to a rate the device supports, or pick another device",
    )


def rescan() -> None:
    """Make PortAudio enumerate devices again (to find one plugged in after it started).

    Every PortAudio stream open in this process is closed by it.
    """
    sd = sounddevice()
    with _rescan_lock:
        sd._terminate()
        sd._initialize()
