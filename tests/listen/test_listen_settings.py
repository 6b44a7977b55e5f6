"""The [listen] settings: the documented defaults, the file, and errors naming the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiced.config import ListenSettings, load_settings
from voiced.errors import ConfigError


def settings_from(tmp_path: Path, text: str) -> ListenSettings:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_settings({"HOME": str(tmp_path), "VOICED_CONFIG": str(path)}).listen


def test_defaults_never_clip_a_word_nor_cut_a_pause() -> None:
    s = ListenSettings()

    assert s.preroll_ms >= 500
    assert (s.hangover_ms, s.tentative_end_ms, s.min_voiced_ms) == (700, 250, 250)
    assert s.max_utterance_s == 30.0
    assert s.confirm_speech
    assert "Thank you." in s.phantom_phrases


def test_values_are_read_from_the_listen_section(tmp_path: Path) -> None:
    s = settings_from(
        tmp_path,
        "[listen]\nhangover_ms = 900\nenergy_margin_db = 8\nconfirm_speech = false\n"
        'phantom_phrases = ["Bye.", "Ciao."]\n',
    )

    assert s.hangover_ms == 900
    assert s.energy_margin_db == 8.0 and isinstance(s.energy_margin_db, float)
    assert not s.confirm_speech
    assert s.phantom_phrases == ("Bye.", "Ciao.")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("vad_aggressiveness = 4", "vad_aggressiveness must be 0, 1, 2 or 3"),
        ("tentative_end_ms = 800", "tentative_end_ms must be shorter than hangover_ms"),
        ("start_voiced_ms = 400", "start_voiced_ms must not exceed start_window_ms"),
        ("confirm_threshold = 1.5", "confirm_threshold must be between 0 and 1"),
        ("hangover_ms = 0", "hangover_ms must be above 0"),
        ("max_utterance_s = 2", "max_utterance_s must be above cut_search_s"),
        ('hangover_ms = "long"', "[listen] hangover_ms must be an integer"),
    ],
)
def test_a_bad_value_names_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, f"[listen]\n{text}\n")

    assert str(tmp_path / "config.toml") in caught.value.message
    assert message in caught.value.message
