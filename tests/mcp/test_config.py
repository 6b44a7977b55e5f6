"""[[mcp.servers]] tables: checked, one-line errors, secrets masked, documented in the README."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from tests.hostile.cli import Cli, one_line_error
from tests.test_readme import config_block
from voiced.config import McpServerSettings, load_settings
from voiced.errors import ConfigError

SECRET = "hunter2-but-longer-0123456789"


def load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_settings({"HOME": str(tmp_path), "VOICED_CONFIG": str(path)})


def refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    assert "\n" not in message and SECRET not in message
    return message


def test_both_kinds_of_server_load(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        '[[mcp.servers]]\nname = "files"\ncommand = "npx"\nargs = ["-y", "pkg", "/home"]\n'
        f'env = {{ TOKEN = "{SECRET}" }}\nconfirm = "always"\ntimeout = 12\n'
        '[[mcp.servers]]\nname = "web"\nurl = "http://127.0.0.1:8000/mcp"\n'
        f'headers = {{ Authorization = "Bearer {SECRET}" }}\nenabled = false\n',
    )
    files, web = settings.mcp.servers  # type: ignore[attr-defined]
    assert files == McpServerSettings(
        name="files",
        command="npx",
        args=("-y", "pkg", "/home"),
        env={"TOKEN": SECRET},
        confirm="always",
        timeout=12.0,
    )
    assert web.transport == "http" and not web.enabled and web.secrets == (f"Bearer {SECRET}",)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('name = "a"\n', "[mcp.servers] has neither command nor url"),
        ('name = "a"\ncommand = "x"\nurl = "http://h/m"\n', "has both command and url"),
        ('name = "a b"\ncommand = "x"\n', "[mcp.servers] name must be a name of 1–30 letters"),
        ('command = "x"\n', "[mcp.servers] name must be a name"),
        ('name = "a"\ncommand = "x"\ntimeout = 0\n', "[mcp.servers] timeout must be above 0"),
        ('name = "a"\ncommand = "x"\nconfirm = "maybe"\n', "confirm must be one of 'auto'"),
        ('name = "a"\nurl = "ftp://h/m"\n', "[mcp.servers] url must be an http:// or https://"),
        ('name = "a"\ncommand = "x"\nheaders = { A = "b" }\n', "headers are for an HTTP server"),
        ('name = "a"\nurl = "http://h/m"\nenv = { A = "b" }\n', "args and env are for a program"),
        (f'name = "a"\ncommand = "x"\nenv = {{ "A-B" = "{SECRET}" }}\n', "{'A-B': '***'}"),
        (f'name = "a"\ncommand = "x"\nenv = {{ A = ["{SECRET}"] }}\n', "env must be a table"),
        ('name = "a"\ncommand = "x"\ncolour = 1\n', "unknown key [mcp.servers] colour"),
    ],
)
def test_a_bad_server_table_is_one_line_naming_the_key_and_the_server(
    tmp_path: Path, table: str, message: str
) -> None:
    text = refused(tmp_path, "[[mcp.servers]]\n" + table)
    assert message in text and "in [[mcp.servers]] number 1" in text


def test_servers_need_distinct_names_and_must_be_tables(tmp_path: Path) -> None:
    twice = '[[mcp.servers]]\nname = "a"\ncommand = "x"\n[[mcp.servers]]\nname = "A"\nurl = "http://h/m"\n'
    assert "two [[mcp.servers]] are named 'A'" in refused(tmp_path, twice)
    assert "[mcp.servers] must be an array of tables" in refused(
        tmp_path, '[mcp.servers]\nname = "a"\ncommand = "x"\n'
    )


@pytest.mark.subprocess
def test_voiced_config_masks_the_secrets_and_the_url_credentials(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    (tmp_path / ".config" / "voiced" / "config.toml").write_text(
        f'[[mcp.servers]]\nname = "files"\ncommand = "npx"\nenv = {{ TOKEN = "{SECRET}" }}\n'
        f'[[mcp.servers]]\nname = "web"\nurl = "https://h/mcp?key={SECRET}"\n'
        f'headers = {{ Authorization = "Bearer {SECRET}" }}\n'
    )
    done = cli("config")
    shown = done.stdout.decode()
    assert done.returncode == 0 and SECRET not in shown
    assert 'env = { "TOKEN" = "***" }' in shown
    assert 'headers = { "Authorization" = "***" }' in shown
    assert 'url = "https://h/mcp?key=***"' in shown
    assert shown.count("[[mcp.servers]]") == 2


@pytest.mark.subprocess
def test_the_cli_says_one_line_for_a_bad_server(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    (tmp_path / ".config" / "voiced" / "config.toml").write_text(
        f'[[mcp.servers]]\nname = "a"\ncommand = "x"\nenv = {{ "1A" = "{SECRET}" }}\n'
    )
    done = cli("ask", "hi")
    assert done.returncode == 2
    line = one_line_error(done)
    assert "env must be a table of environment variable names" in line
    assert SECRET not in line


def test_the_readme_documents_every_server_key() -> None:
    block = config_block()
    servers = block[block.index("[[mcp.servers]]") :]
    for field in fields(McpServerSettings):
        assert re.search(rf"^#? ?{field.name} = ", servers, re.M), field.name
