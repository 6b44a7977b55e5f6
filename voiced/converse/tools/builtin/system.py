"""The computer's status: battery, processor, memory and disk, in words."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

import psutil

from voiced.converse.tools.registry import Tool, tool

CPU_SAMPLE_S = 0.3
"""How long the processor load is measured."""


def _size(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if count < 1024 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def battery_status() -> str:
    """Describe the battery, or say there is none."""
    battery = psutil.sensors_battery()
    if battery is None:
        return "There is no battery: the computer runs on mains power."
    state = "charging" if battery.power_plugged else "on battery"
    text = f"The battery is at {battery.percent:.0f} percent, {state}"
    secs = battery.secsleft
    if not battery.power_plugged and isinstance(secs, int) and secs > 0:
        hours, minutes = divmod(secs // 60, 60)
        text += (
            f", about {hours} hours {minutes} minutes left"
            if hours
            else f", about {minutes} minutes left"
        )
    return text + "."


def cpu_status() -> str:
    """Describe the processor load over a short sample."""
    percent = psutil.cpu_percent(interval=CPU_SAMPLE_S)
    load1, _, _ = os.getloadavg()
    cores = psutil.cpu_count() or 1
    return (
        f"The processor is {percent:.0f} percent busy on {cores} cores; load average {load1:.2f}."
    )


def memory_status() -> str:
    """Describe memory use."""
    memory = psutil.virtual_memory()
    return (
        f"Memory: {_size(memory.used)} of {_size(memory.total)} used ({memory.percent:.0f} "
        f"percent), {_size(memory.available)} available."
    )


def disk_status(path: Path) -> str:
    """Describe the disk that holds ``path``."""
    usage = psutil.disk_usage(str(path))
    return (
        f"Disk: {_size(usage.free)} free of {_size(usage.total)} ({usage.percent:.0f} percent "
        f"used) on the disk holding {path}."
    )


def system_tools(home: Path | None = None) -> list[Tool]:
    """Return the ``system_status`` tool.

    Args:
        home: The directory whose disk is reported; defaults to the user's home.
    """
    where = home or Path.home()

    @tool
    def system_status(part: str = "all") -> str:
        """Tell the computer's battery, processor load, memory and disk space.

        Args:
            part: One of "all", "battery", "cpu", "memory" or "disk".
        """
        parts: dict[str, Callable[[], str]] = {
            "battery": battery_status,
            "cpu": cpu_status,
            "memory": memory_status,
            "disk": partial(disk_status, where),
        }
        if part != "all" and part not in parts:
            return f"Unknown part {part[:40]!r}; ask for all, battery, cpu, memory or disk."
        chosen = parts.values() if part == "all" else [parts[part]]
        return " ".join(report() for report in chosen)

    return [system_status]
