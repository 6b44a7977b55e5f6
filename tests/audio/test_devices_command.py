"""``voiced devices`` as a user runs it, against the private PulseAudio server."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tests.audio.pulse import PulseServer
from tests.procs import run_voiced, user_env


def voiced_devices(
    home: Path, env: dict[str, str], *args: str, config: str = ""
) -> subprocess.CompletedProcess[str]:
    (home / ".config" / "voiced").mkdir(parents=True, exist_ok=True)
    (home / ".config" / "voiced" / "config.toml").write_text(config)
    base = user_env(home)
    if "PYTHONPATH" in os.environ:
        base["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return run_voiced("devices", *args, env={**base, **env}, cwd=home)


HEADINGS = ("INDEX", "NAME", "API", "IN", "OUT", "RATE", "DEFAULT FOR", "VOICED USES")


def rows(table: str) -> dict[str, dict[str, str]]:
    """Map each device name to its row, cut at the header's column positions; "*" is the mark."""
    header, *lines = table.splitlines()
    starts = [re.search(rf"(?<!\S){h}(?!\S)", header).start() for h in HEADINGS]  # type: ignore[union-attr]
    parsed = {}
    for line in lines:
        cells = [line[s:e].strip() for s, e in zip(starts, [*starts[1:], None], strict=True)]
        row = dict(zip(HEADINGS, cells, strict=True))
        row["*"] = line[: starts[0]].strip()
        parsed[row["NAME"]] = row
    return parsed


def test_devices_lists_every_device_and_marks_the_defaults_voiced_uses(
    pulse: PulseServer,
    tmp_path: Path,
) -> None:
    result = voiced_devices(tmp_path, pulse.env)

    assert result.returncode == 0, result.stderr
    table = rows(result.stdout)
    assert {"vmic", "micfeed", "vspeaker", "pulse", "default"} <= set(table)
    default, vmic = table["default"], table["vmic"]
    assert default["*"] == "*"
    assert default["DEFAULT FOR"] == default["VOICED USES"] == "input, output"
    assert vmic["*"] == vmic["DEFAULT FOR"] == vmic["VOICED USES"] == ""
    assert int(vmic["IN"]) > 0 and vmic["API"] == "ALSA"
    assert vmic["RATE"].endswith(" Hz") and int(vmic["RATE"].split()[0]) >= 8000


def test_devices_marks_the_configured_microphone(
    pulse: PulseServer,
    tmp_path: Path,
) -> None:
    result = voiced_devices(tmp_path, pulse.env, config='[audio]\ninput_device = "VMIC"\n')

    assert result.returncode == 0, result.stderr
    table = rows(result.stdout)
    assert table["vmic"]["*"] == "*" and table["vmic"]["VOICED USES"] == "input"
    assert table["default"]["DEFAULT FOR"] == "input, output"
    assert table["default"]["VOICED USES"] == "output"


def test_devices_json_gives_one_object_per_device(
    pulse: PulseServer,
    tmp_path: Path,
) -> None:
    result = voiced_devices(tmp_path, pulse.env, "--json", config="[audio]\noutput_device = 2\n")

    assert result.returncode == 0, result.stderr
    devices = [json.loads(line) for line in result.stdout.splitlines()]
    by_name = {d["name"]: d for d in devices}
    assert by_name["default"]["default_input"] and by_name["default"]["voiced_input"]
    assert [d["index"] for d in devices if d["voiced_output"]] == [2]
    assert by_name["vmic"]["inputs"] > 0 and by_name["vmic"]["default_rate"] > 0


def test_devices_warns_when_the_configured_device_matches_nothing(
    pulse: PulseServer,
    tmp_path: Path,
) -> None:
    config = '[audio]\noutput_device = "USB headset"\n'
    result = voiced_devices(tmp_path, pulse.env, config=config)

    assert result.returncode == 0
    assert "vspeaker" in result.stdout
    assert "no output device matches 'USB headset'" in result.stderr
    assert "[audio] output_device" in result.stderr


def test_devices_without_a_sound_server_says_how_to_fix_it(tmp_path: Path) -> None:
    dead = tmp_path / "no-server"
    env = {"XDG_RUNTIME_DIR": str(dead), "PULSE_SERVER": f"unix:{dead}/native"}
    result = voiced_devices(tmp_path, env)

    assert result.returncode == 2
    assert result.stderr.startswith("voiced: no audio devices found")
    assert "PulseAudio" in result.stderr
