"""Class 6 and 8, credentials: the key is parsed as a shell would read the file, a broken or
misplaced credentials file is one line that never shows the key, and ``voiced config`` never
prints credentials embedded in a URL."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from tests.procs import run_voiced, user_env
from voiced.commands.show_config import render
from voiced.config import load_settings, mask_url
from voiced.credentials import load_api_key
from voiced.doctor import check_api
from voiced.errors import ConfigError, InsecureCredentialsError

KEY = "gsk_hostile_0123456789abcdefghijklmnop"


@pytest.fixture
def creds(tmp_path: Path) -> Path:
    (tmp_path / "config" / "voiced").mkdir(parents=True)
    return tmp_path / "config" / "voiced" / "credentials"


def write(path: Path, content: bytes | str) -> Path:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    path.chmod(0o600)
    return path


def key_in(path: Path) -> str:
    key, source = load_api_key({}, path)
    assert key is not None and source == str(path)
    return key.reveal()


@pytest.mark.parametrize(
    "content",
    [
        f"export GROQ_API_KEY={KEY}\n",
        f'export GROQ_API_KEY="{KEY}"\n',
        f"export  GROQ_API_KEY='{KEY}'\n",
        f"GROQ_API_KEY={KEY}  # from console.groq.com\n",
        f'GROQ_API_KEY="{KEY}" # quoted, then a comment\n',
        f"# voiced\r\nGROQ_API_KEY={KEY}\r\n",
        f"\ufeffGROQ_API_KEY={KEY}\n",
        f"\ufeff{KEY}\r\n",
        f"; a systemd comment\nGROQ_API_KEY={KEY}\n",
        f"GROQ_BASE_URL=https://proxy.example\nGROQ_API_KEY={KEY}\n",
        f"export OTHER=1\n\n{KEY}\n",
        f"GROQ_API_KEY = {KEY}\n",
    ],
    ids=[
        "export",
        "export-double-quoted",
        "export-single-quoted",
        "inline-comment",
        "quoted-then-comment",
        "crlf",
        "bom",
        "bom-bare-crlf",
        "semicolon-comment",
        "other-variable-first",
        "export-other-then-bare",
        "spaces-around-equals",
    ],
)
def test_the_key_is_read_as_a_shell_or_systemd_reads_the_file(creds: Path, content: str) -> None:
    assert key_in(write(creds, content)) == KEY


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (f'GROQ_API_KEY="{KEY}\n', "line 1: the quoted key is not closed"),
        (f"# key\nGROQ_API_KEY={KEY} extra\n", "line 2: the key has a space in it"),
        ("GROQ_API_KEY=gsk_caf\u00e9_0123456789abcdef\n", "has characters an API key never has"),
        ("GROQ_API_KEY=\n# nothing else\n", "holds no API key"),
    ],
)
def test_a_malformed_key_is_named_by_its_line_never_shown(
    creds: Path, content: str, message: str
) -> None:
    write(creds, content)
    with pytest.raises(ConfigError) as caught:
        load_api_key({}, creds)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert "gsk_" not in str(caught.value).replace("GROQ_API_KEY=gsk_…", "")


def test_a_key_from_the_environment_that_no_header_can_carry_is_refused(creds: Path) -> None:
    with pytest.raises(ConfigError, match="environment variable GROQ_API_KEY has characters"):
        load_api_key({"GROQ_API_KEY": "gsk_\u2013pasted_from_a_document_0123"}, creds)


def test_a_credentials_file_that_is_not_utf8(creds: Path) -> None:
    write(creds, b"GROQ_API_KEY=gsk_\xff\xfe0123456789abcdef\n")
    with pytest.raises(ConfigError) as caught:
        load_api_key({}, creds)
    assert str(caught.value).startswith(f"{creds} is not UTF-8 text (an invalid byte on line 1)")
    assert "0123456789" not in str(caught.value)


@pytest.mark.parametrize("mode", [0o700, 0o755])
def test_a_directory_where_the_credentials_file_should_be(creds: Path, mode: int) -> None:
    """Not a traceback (0700), and not a chmod 600 that would not help (0755)."""
    creds.mkdir(mode=mode)
    creds.chmod(mode)
    with pytest.raises(ConfigError) as caught:
        load_api_key({}, creds)
    assert not isinstance(caught.value, InsecureCredentialsError)
    assert str(caught.value).startswith(f"{creds} is a directory, not a credentials file")


def test_a_credentials_file_over_64_kib_is_refused(creds: Path) -> None:
    write(creds, "# padding\n" * 7000 + f"GROQ_API_KEY={KEY}\n")
    with pytest.raises(ConfigError, match="larger than 64 KiB"):
        load_api_key({}, creds)


def test_a_credentials_path_under_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "voiced").write_text("a file where the config directory should be")
    with pytest.raises(ConfigError, match="credentials: cannot read: Not a directory"):
        load_api_key({}, tmp_path / "voiced" / "credentials")


# voiced config: credentials embedded in a URL are masked.


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("https://user:hunter2@proxy.example/openai/v1", "https://***@proxy.example/openai/v1"),
        ("https://token@proxy.example/v1", "https://***@proxy.example/v1"),
        (
            "https://proxy.example/v1?key=hunter2&region=eu#hunter2",
            "https://proxy.example/v1?key=***&region=***#***",
        ),
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("user:hunter2@proxy.example", "***"),
    ],
)
def test_mask_url_hides_userinfo_query_values_and_fragment(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_voiced_config_masks_credentials_in_every_url(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[stt]\nbase_url = "https://alice:hunter2@proxy.example/openai/v1?key=sekrit"\n'
        '[tools]\nweather_forecast_url = "https://api.example/v1?apikey=sekrit"\n'
    )
    env = {
        "HOME": str(tmp_path),
        "VOICED_CONFIG": str(config),
        "GROQ_BASE_URL": "https://bob:swordfish@gateway.example/",
        "GROQ_API_KEY": KEY,
    }
    shown = render(load_settings(env))
    for secret in ("alice", "hunter2", "sekrit", "bob", "swordfish", KEY):
        assert secret not in shown
    assert 'base_url = "https://***@gateway.example/openai/v1"' in shown  # [chat]
    assert 'base_url = "https://***@proxy.example/openai/v1?key=***"' in shown  # [stt]
    assert 'weather_forecast_url = "https://api.example/v1?apikey=***"' in shown


async def test_voiced_doctor_masks_credentials_in_the_api_url(tmp_path: Path) -> None:
    base = "http://alice:hunter2@127.0.0.1:9/openai/v1?key=sekrit"
    loaded = load_settings({"HOME": str(tmp_path), "GROQ_API_KEY": KEY})
    loaded = replace(
        loaded,
        chat=replace(loaded.chat, base_url=base),
        network=replace(loaded.network, max_retries=0, connect_timeout=2.0),
    )
    check, _ = await check_api(loaded)
    assert check.outcome == "fail" and "127.0.0.1" in check.detail
    assert (
        "hunter2" not in check.detail
        and "sekrit" not in check.detail
        and "alice" not in check.detail
    )


# As a user meets them: real processes.


def voiced(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = user_env(home, "config", GROQ_BASE_URL="http://127.0.0.1:9", **extra)
    result = run_voiced(*args, env=env, cwd=home, timeout=20)
    assert KEY not in result.stdout + result.stderr, "the key leaked"
    return result


@pytest.mark.subprocess
def test_voiced_config_reads_an_exported_key_and_shows_it_masked(creds: Path) -> None:
    write(creds, f'# sourced by my shell\r\nexport GROQ_API_KEY="{KEY}"\r\n')
    result = voiced(creds.parent.parent.parent, "config")
    assert result.returncode == 0, result.stderr
    assert f"# API key: gsk_…mnop (from {creds})" in result.stdout


@pytest.mark.subprocess
@pytest.mark.parametrize("kind", ["directory", "fifo", "not-utf8"])
@pytest.mark.parametrize("command", [["config"], ["ask", "hi"]])
def test_the_cli_says_one_line_for_a_broken_credentials_file(
    creds: Path, kind: str, command: list[str]
) -> None:
    if kind == "directory":
        creds.mkdir(mode=0o700)
    elif kind == "fifo":
        os.mkfifo(creds, 0o600)
    else:
        write(creds, b"GROQ_API_KEY=\xe9\n")
    result = voiced(creds.parent.parent.parent, *command)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(f"voiced: {creds} ")
