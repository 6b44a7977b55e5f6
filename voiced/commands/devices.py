"""``voiced devices``: the audio devices PortAudio sees, with the defaults and voiced's marked."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from voiced.audio.devices import DeviceInfo, Kind, find_device, list_devices
from voiced.commands.common import settings
from voiced.errors import AudioDeviceError


def run(args: argparse.Namespace) -> int:
    """Print the device table (or JSON lines); warn when a configured device matches nothing."""
    loaded = settings()
    found = list_devices()
    if not found:
        raise AudioDeviceError(
            "no audio devices found",
            "check that PulseAudio or PipeWire is running; PortAudio reaches them through "
            "libasound2-plugins: sudo apt-get install libasound2-plugins",
        )
    configured: tuple[tuple[Kind, int | str | None], ...] = (
        ("input", loaded.audio.input_device),
        ("output", loaded.audio.output_device),
    )
    used: dict[int, list[str]] = {}
    warnings = []
    for kind, spec in configured:
        try:
            chosen = find_device(spec, kind, found)
        except AudioDeviceError as exc:
            warnings.append(f"voiced: warning: voiced has no {kind} device: {exc}")
            continue
        used.setdefault(chosen.index, []).append(kind)
    if args.json:
        for device in found:
            record = dataclasses.asdict(device)
            record["voiced_input"] = "input" in used.get(device.index, [])
            record["voiced_output"] = "output" in used.get(device.index, [])
            print(json.dumps(record, ensure_ascii=False))
    else:
        print(table(found, used), end="")
    sys.stdout.flush()
    for warning in warnings:
        print(warning, file=sys.stderr)
    return 0


def table(found: list[DeviceInfo], used: dict[int, list[str]]) -> str:
    """Render devices as an aligned table; ``*`` marks the ones voiced uses, and for what."""
    rows = [("", "INDEX", "NAME", "API", "IN", "OUT", "RATE", "DEFAULT FOR", "VOICED USES")]
    for d in found:
        defaults = [kind for kind in ("input", "output") if getattr(d, f"default_{kind}")]
        rows.append(
            (
                "*" if d.index in used else "",
                str(d.index),
                d.name,
                d.hostapi,
                str(d.inputs),
                str(d.outputs),
                f"{d.default_rate:.0f} Hz",
                ", ".join(defaults),
                ", ".join(used.get(d.index, [])),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines) + "\n"
