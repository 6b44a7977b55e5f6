"""The [speech] section of config.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiced.config import load_settings
from voiced.errors import ConfigError


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "voiced").mkdir()
    return {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}


def write(env: dict[str, str], text: str) -> None:
    (Path(env["XDG_CONFIG_HOME"]) / "voiced" / "config.toml").write_text(text)


def test_speech_defaults(env: dict[str, str]) -> None:
    speech = load_settings(env).speech
    assert (speech.voice, speech.rate, speech.volume, speech.earcons) == (None, 175, 1.0, True)


def test_speech_settings_are_read(env: dict[str, str]) -> None:
    write(env, '[speech]\nvoice = "gmw/en-us"\nrate = 200\nvolume = 1\nearcons = false\n')
    speech = load_settings(env).speech
    assert (speech.voice, speech.rate, speech.volume, speech.earcons) == (
        "gmw/en-us",
        200,
        1.0,
        False,
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("rate = 20", "[speech] rate must be between 80 and 450"),
        ("volume = 1.5", "[speech] volume must be between 0.0 and 1.0"),
        ('rate = "fast"', "[speech] rate must be an integer"),
        ("earcons = 1", "[speech] earcons must be"),
        ('speaker = "x"', "unknown key [speech] speaker"),
    ],
)
def test_bad_speech_settings_name_the_key(env: dict[str, str], line: str, message: str) -> None:
    write(env, f"[speech]\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert message in str(caught.value)
    assert "config.toml" in str(caught.value)
