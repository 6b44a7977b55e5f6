"""The [audio] config section: device names or indices, capture rate and block size."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiced.audio.capture import CaptureOptions
from voiced.config import AudioSettings, load_settings
from voiced.errors import ConfigError


def settings_from(tmp_path: Path, text: str) -> AudioSettings:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_settings({"VOICED_CONFIG": str(path), "HOME": str(tmp_path)}).audio


def test_devices_are_named_by_index_or_by_part_of_the_name(tmp_path: Path) -> None:
    audio = settings_from(tmp_path, '[audio]\ninput_device = 3\noutput_device = "USB"\n')
    assert (audio.input_device, audio.output_device) == (3, "USB")
    assert CaptureOptions.from_settings(audio).device == 3


def test_device_flag_overrides_the_config_and_digits_mean_an_index(tmp_path: Path) -> None:
    audio = settings_from(tmp_path, '[audio]\ninput_device = "USB"\ncapture_block_ms = 30\n')
    options = CaptureOptions.from_settings(audio, device="2")
    assert (options.device, options.block_frames) == (2, 1)
    assert CaptureOptions.from_settings(audio, device="Blue Yeti").device == "Blue Yeti"


def test_defaults_use_the_system_devices_with_60_ms_blocks() -> None:
    options = CaptureOptions.from_settings(AudioSettings())
    assert (options.device, options.rate, options.block_frames) == (None, None, 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("input_device = 1.5", "[audio] input_device must be an integer or a string"),
        ("input_device = -1", "[audio] input_device must be a device index of 0 or more"),
        ("capture_rate = 1000", "[audio] capture_rate must be between 8000 and 384000"),
        ("capture_block_ms = 45", "[audio] capture_block_ms must be 30, 60, 90"),
        ("speaker = 1", "unknown key [audio] speaker"),
    ],
)
def test_bad_audio_settings_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, f"[audio]\n{text}\n")
    assert message in str(caught.value)
