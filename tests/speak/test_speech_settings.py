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


def test_the_groq_voice_settings_default_to_espeak_and_orpheus_troy(env: dict[str, str]) -> None:
    speech = load_settings(env).speech
    assert speech.engine == "espeak"
    assert (speech.groq_model, speech.groq_voice) == ("canopylabs/orpheus-v1-english", "troy")
    assert speech.groq_first_byte_s == 1.5
    assert speech.base_url == "https://api.groq.com/openai/v1"


def test_the_groq_voice_settings_are_read_and_groq_base_url_reaches_them(
    env: dict[str, str],
) -> None:
    write(
        env,
        '[speech]\nengine = "groq"\ngroq_model = "canopylabs/orpheus-arabic-saudi"\n'
        'groq_voice = "fahad"\ngroq_first_byte_s = 0.8\n',
    )
    speech = load_settings({**env, "GROQ_BASE_URL": "http://127.0.0.1:9"}).speech
    assert (speech.engine, speech.groq_voice, speech.groq_first_byte_s) == ("groq", "fahad", 0.8)
    assert speech.groq_model == "canopylabs/orpheus-arabic-saudi"
    assert speech.base_url == "http://127.0.0.1:9/openai/v1"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('engine = "piper"', "[speech] engine must be one of 'espeak', 'groq'"),
        ('groq_voice = "tara"', "[speech] groq_voice must be one of autumn, diana, hannah"),
        (
            'groq_model = "canopylabs/orpheus-arabic-saudi"',
            "groq_voice must be one of abdullah, fahad, sultan, lulwa, noura, aisha for "
            "canopylabs/orpheus-arabic-saudi, got 'troy'",
        ),
        ("groq_first_byte_s = 0", "[speech] groq_first_byte_s must be above 0 and at most 30"),
        ('base_url = "ftp://example.com"', "[speech] base_url must be an http:// or https://"),
    ],
)
def test_bad_groq_voice_settings_name_the_key(
    env: dict[str, str], lines: str, message: str
) -> None:
    write(env, f"[speech]\n{lines}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert message in str(caught.value)


def test_a_voice_of_a_model_voiced_does_not_know_is_taken_as_given(env: dict[str, str]) -> None:
    write(env, '[speech]\ngroq_model = "canopylabs/orpheus-v2"\ngroq_voice = "nova"\n')
    assert load_settings(env).speech.groq_voice == "nova"
