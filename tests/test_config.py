"""Settings: defaults, the TOML file, environment overrides and errors that name the problem."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voiced.config import GROQ_API_ROOT, load_settings
from voiced.credentials import Secret, load_api_key, save_api_key
from voiced.errors import ConfigError, InsecureCredentialsError

KEY = "gsk_abcdefghijklmnopqrstuvwxyz0123456789"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "config" / "voiced").mkdir(parents=True)
    return {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}


def write_config(env: dict[str, str], text: str) -> Path:
    path = Path(env["XDG_CONFIG_HOME"]) / "voiced" / "config.toml"
    path.write_text(text)
    return path


def test_defaults_without_a_file(env: dict[str, str]) -> None:
    settings = load_settings(env)
    assert settings.chat.model == "openai/gpt-oss-20b"
    assert settings.stt.model == "whisper-large-v3-turbo"
    assert settings.stt.translation_model == "whisper-large-v3"
    assert settings.chat.base_url == settings.stt.base_url == GROQ_API_ROOT
    assert settings.network.max_retries == 2
    assert settings.api_key is None
    assert settings.config_path is None


def test_file_values_are_read_and_ints_become_floats(env: dict[str, str]) -> None:
    path = write_config(
        env,
        '[chat]\nmodel = "openai/gpt-oss-120b"\ntemperature = 1\nreasoning_effort = "low"\n'
        '[stt]\nbase_url = "http://localhost:9000/v1"\nlanguage = "de"\n'
        "[network]\nmax_retries = 5\n",
    )
    settings = load_settings(env)
    assert settings.chat.model == "openai/gpt-oss-120b"
    assert settings.chat.temperature == 1.0 and isinstance(settings.chat.temperature, float)
    assert settings.chat.reasoning_effort == "low"
    assert settings.stt.base_url == "http://localhost:9000/v1"
    assert settings.stt.language == "de"
    assert settings.network.max_retries == 5
    assert settings.config_path == path


def test_voiced_config_names_another_file(env: dict[str, str], tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text('[chat]\nmodel = "qwen/qwen3.8-27b"\n')
    assert load_settings({**env, "VOICED_CONFIG": str(other)}).chat.model == "qwen/qwen3.8-27b"


def test_voiced_config_naming_a_missing_file_is_an_error(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings({**env, "VOICED_CONFIG": "/nonexistent/voiced.toml"})


def test_groq_base_url_applies_unless_the_file_names_a_base_url(env: dict[str, str]) -> None:
    write_config(env, '[stt]\nbase_url = "http://localhost:9000/v1"\n')
    settings = load_settings({**env, "GROQ_BASE_URL": "http://127.0.0.1:8123/"})
    assert settings.chat.base_url == "http://127.0.0.1:8123/openai/v1"
    assert settings.stt.base_url == "http://localhost:9000/v1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[chat\nmodel = 1", r"config\.toml: not valid TOML: .*line 1"),
        ("[chatt]\nmodel = 'x'", r"config\.toml: unknown section \[chatt\]"),
        ("[chat]\nmodle = 'x'", r"config\.toml: unknown key \[chat\] modle \(expected one of base"),
        ("[chat]\ntemperature = 'hot'", r"\[chat\] temperature must be a number, got a string"),
        ("[network]\nmax_retries = 1.5", r"\[network\] max_retries must be an integer, got a n"),
        ("[network]\nmax_retries = true", r"max_retries must be an integer, got a boolean"),
        ("[chat]\nreasoning_effort = 'max'", r"reasoning_effort must be one of 'low', 'medium'"),
        ("chat = 3", r"chat must be a \[chat\] table, got an integer"),
        ("[daemon]\nspeculate_after_ms = 0", r"\[daemon\] speculate_after_ms must be above 0"),
        (
            "[daemon]\nspeculate_after_ms = 700",
            r"speculate_after_ms \(700\) must be shorter than \[listen\] hangover_ms \(700\)",
        ),
    ],
)
def test_bad_files_name_the_file_the_key_and_what_was_expected(
    env: dict[str, str], text: str, message: str
) -> None:
    write_config(env, text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(env)
    assert env["XDG_CONFIG_HOME"] in str(caught.value)


def test_key_from_environment_wins(env: dict[str, str]) -> None:
    creds = Path(env["XDG_CONFIG_HOME"]) / "voiced" / "credentials"
    save_api_key("gsk_from_file_0000000000000", creds)
    settings = load_settings({**env, "GROQ_API_KEY": KEY})
    assert settings.api_key == Secret(KEY)
    assert settings.api_key_source == "environment variable GROQ_API_KEY"


@pytest.mark.parametrize(
    "content", [f"{KEY}\n", f"# mine\nGROQ_API_KEY={KEY}\n", f"GROQ_API_KEY='{KEY}'"]
)
def test_key_from_credentials_file(env: dict[str, str], content: str) -> None:
    creds = Path(env["XDG_CONFIG_HOME"]) / "voiced" / "credentials"
    creds.write_text(content)
    creds.chmod(0o600)
    settings = load_settings(env)
    assert settings.api_key is not None and settings.api_key.reveal() == KEY
    assert settings.api_key_source == str(creds)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_credentials_readable_by_others_are_refused_with_the_chmod(
    env: dict[str, str], mode: int
) -> None:
    creds = Path(env["XDG_CONFIG_HOME"]) / "voiced" / "credentials"
    creds.write_text(KEY)
    creds.chmod(mode)
    with pytest.raises(InsecureCredentialsError) as caught:
        load_settings(env)
    assert f"chmod 600 {creds}" in str(caught.value)
    assert KEY not in str(caught.value)


def test_empty_credentials_file_is_an_error(tmp_path: Path) -> None:
    creds = tmp_path / "credentials"
    creds.write_text("# nothing\n")
    creds.chmod(0o600)
    with pytest.raises(ConfigError, match="holds no API key"):
        load_api_key({}, creds)


def test_saved_credentials_are_private_from_the_start(tmp_path: Path) -> None:
    creds = tmp_path / "new" / "credentials"
    save_api_key(KEY, creds)
    assert os.stat(creds).st_mode & 0o777 == 0o600
    assert os.stat(creds.parent).st_mode & 0o777 == 0o700
    assert load_api_key({}, creds)[0] == Secret(KEY)


def test_secret_never_shows_itself() -> None:
    secret = Secret(KEY)
    for shown in (str(secret), repr(secret), f"{secret}", secret.masked()):
        assert KEY not in shown
    assert secret.masked() == "gsk_…6789"
    assert Secret("short").masked() == "****"
    assert secret.reveal() == KEY


def test_the_daemon_speculates_at_its_own_tentative_end(env: dict[str, str]) -> None:
    """``voiced listen`` keeps [listen] tentative_end_ms; the daemon's segmenter announces the
    tentative end (and speculates) after [daemon] speculate_after_ms, unless it does not
    speculate at all."""
    write_config(env, "[listen]\ntentative_end_ms = 300\n[daemon]\nspeculate_after_ms = 180\n")
    settings = load_settings(env)
    assert settings.listen.tentative_end_ms == 300
    assert settings.daemon_listen.tentative_end_ms == 180
    assert settings.daemon_listen.hangover_ms == settings.listen.hangover_ms
    write_config(env, "[daemon]\nspeculative = false\n")
    assert load_settings(env).daemon_listen.tentative_end_ms == 250
