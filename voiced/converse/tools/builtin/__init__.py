"""The tools voiced comes with: clock, timers, calculator, system, notes, launching, weather."""

from __future__ import annotations

from pathlib import Path

from voiced.config import ToolSettings
from voiced.converse.tools.builtin.calculator import calculator_tools
from voiced.converse.tools.builtin.clock import clock_tools
from voiced.converse.tools.builtin.launch import launch_tools
from voiced.converse.tools.builtin.notes import NotesFile, notes_tools
from voiced.converse.tools.builtin.system import system_tools
from voiced.converse.tools.builtin.timer_tools import timer_tools
from voiced.converse.tools.builtin.timers import TimerService
from voiced.converse.tools.builtin.weather import OpenMeteo, weather_tools
from voiced.converse.tools.registry import Tool


def builtin_tools(settings: ToolSettings, data_dir: Path, timers: TimerService) -> list[Tool]:
    """Return every built-in tool, configured from ``[tools]``.

    Args:
        settings: The ``[tools]`` settings.
        data_dir: voiced's data directory (the default notes file lives there).
        timers: The timer service the timer tools use.
    """
    notes = Path(settings.notes_file).expanduser() if settings.notes_file else data_dir / "notes.md"
    weather = OpenMeteo(settings.weather_geocoding_url, settings.weather_forecast_url)
    return [
        *clock_tools(),
        *timer_tools(timers),
        *calculator_tools(),
        *system_tools(),
        *notes_tools(NotesFile(notes)),
        *launch_tools(settings.open_command),
        *weather_tools(weather),
    ]


__all__ = ["builtin_tools"]
