"""Class 8, config: every value out of its range, every broken config file, is one line.

Each setting declares what it accepts beside its field; these tests walk the settings
dataclasses, so a new setting without a declared range fails here, and every declared range
is tried from both ends, with NaN and the infinities, through the real TOML loader.
"""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any, Literal

import pytest

from tests.procs import run_voiced, user_env
from voiced.config import SECTIONS, Check, check_of, load_settings
from voiced.config.checks import Device, Range
from voiced.errors import ConfigError

KEY = "gsk_hostile_0123456789abcdefghijklmnop"


def _options(tp: Any) -> set[Any]:
    """The types a field's annotation allows (``int | None`` → {int}; Literal → {Literal})."""
    args = typing.get_args(tp) if typing.get_origin(tp) in (typing.Union, type(int | str)) else ()
    found: set[Any] = set()
    for option in args or (tp,):
        if option is type(None):
            continue
        origin = typing.get_origin(option)
        found.add(Literal if origin is Literal else origin or option)
    return found


def _table_of(tp: Any) -> type[Any] | None:
    """The dataclass of an array of tables (``tuple[McpServerSettings, ...]``), else None."""
    item = typing.get_args(tp)[0] if typing.get_origin(tp) is tuple else None
    return item if isinstance(item, type) and dataclasses.is_dataclass(item) else None


def _every_field() -> list[tuple[str, Any, Any]]:
    """Every field of every section, and of every table in an array of tables (whose
    section is named ``mcp.servers``)."""
    every = []
    for section, cls in SECTIONS.items():
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            every.append((section, f, hints[f.name]))
            table = _table_of(hints[f.name])
            if table is not None:
                inner = typing.get_type_hints(table)
                every += [(f"{section}.{f.name}", g, inner[g.name]) for g in fields(table)]
    return every


def _class(section: str) -> Any:
    """The settings class of a section, or of the tables of ``section.key``."""
    name, _, key = section.partition(".")
    cls = SECTIONS[name]
    return _table_of(typing.get_type_hints(cls)[key]) if key else cls


def snippet(section: str, key: str, value: str) -> str:
    """A config file setting one key (in an otherwise valid table, for an array of tables)."""
    if "." in section:
        return f'[[{section}]]\nname = "x"\ncommand = "x"\n{key} = {value}\n'
    return f"[{section}]\n{key} = {value}\n"


EVERY_FIELD = _every_field()
NUMERIC = [
    (section, f.name, check)
    for section, f, tp in EVERY_FIELD
    if (int in _options(tp) or float in _options(tp)) and isinstance(check := check_of(f), Range)
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "config" / "voiced").mkdir(parents=True)
    return {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}


def config_file(env: dict[str, str]) -> Path:
    return Path(env["XDG_CONFIG_HOME"]) / "voiced" / "config.toml"


def refused(env: dict[str, str], text: str) -> str:
    """Load a config file that must be refused; return the one-line message."""
    config_file(env).write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    message = str(caught.value)
    assert "\n" not in message and str(config_file(env)) in message
    return message


def test_every_setting_declares_what_it_accepts() -> None:
    """Only booleans and fixed choices (Literal) are fully checked by their type; every
    other setting declares a check, and every number a range with two finite ends."""
    for section, f, tp in EVERY_FIELD:
        options = _options(tp)
        if options <= {bool, Literal}:
            continue
        check = check_of(f)
        assert isinstance(check, Check), f"[{section}] {f.name} declares no check"
        if options & {int, float}:
            assert isinstance(check, Range | Device), f"[{section}] {f.name} declares no range"
        if isinstance(check, Range):
            assert math.isfinite(check.lo) and math.isfinite(check.hi) and check.lo < check.hi


def test_the_range_tests_cover_every_number() -> None:
    """The tests below try every numeric setting but the two devices (checked by name)."""
    numeric = {(s, f.name) for s, f, tp in EVERY_FIELD if _options(tp) & {int, float}}
    devices = {("audio", "input_device"), ("audio", "output_device")}
    assert {(s, k) for s, k, _ in NUMERIC} == numeric - devices
    assert len(NUMERIC) >= 40


def _outside(check: Range, integer: bool) -> list[float]:
    """Values just past each end of a range."""
    below = check.lo if check.lo_open else check.lo - (check.step or (1 if integer else 0.5))
    above = check.hi + (check.step or 1)
    return [below, above, -(10**12), 10**12]


@pytest.mark.parametrize(
    ("section", "key", "check"), NUMERIC, ids=[f"{s}.{k}" for s, k, _ in NUMERIC]
)
def test_a_number_outside_its_range_names_the_file_the_key_the_value_and_the_range(
    env: dict[str, str], section: str, key: str, check: Range
) -> None:
    hints = typing.get_type_hints(_class(section))
    integer = int in _options(hints[key]) and float not in _options(hints[key])
    for value in _outside(check, integer):
        shown = repr(int(value) if integer else float(value))
        message = refused(env, snippet(section, key, shown))
        assert f"[{section}] {key} must be {check.words}, got {shown}" in message


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+nan"])
@pytest.mark.parametrize(
    ("section", "key", "check"),
    [n for n in NUMERIC if float in _options(typing.get_type_hints(_class(n[0]))[n[1]])],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_nan_and_infinity_are_never_in_range(
    env: dict[str, str], section: str, key: str, check: Range, value: str
) -> None:
    message = refused(env, snippet(section, key, value))
    assert f"[{section}] {key} must be {check.words}, got " in message
    assert message.split(", got ")[1].split(" ")[0].lstrip("-") in ("nan", "inf")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[network]\nmax_retries = -1", "[network] max_retries must be between 0 and 20, got -1"),
        (
            "[network]\ntimeout = nan",
            "[network] timeout must be above 0 and at most 3600 seconds, got nan",
        ),
        ("[network]\ntimeout = 0", "[network] timeout must be above 0 and at most 3600 seconds"),
        ("[network]\nconnect_timeout = -0.0", "connect_timeout must be above 0"),
        ("[tools]\ntimeout = inf", "[tools] timeout must be above 0 and at most 3600 seconds"),
        ("[listen]\nhangover_ms = 100000000000", "hangover_ms must be above 0 and at most 10000"),
        (
            "[daemon]\nreplay_turns = 99999999999999999999",
            "replay_turns must be between 0 and 1000",
        ),
        ("[audio]\noutput_device = 10000", "output_device must be a device index of 0 or more"),
        ("[listen]\nmin_avg_logprob = -inf", "[listen] min_avg_logprob must be between -100 and 0"),
    ],
)
def test_the_reviewed_cases(env: dict[str, str], text: str, message: str) -> None:
    assert message in refused(env, text + "\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[chat]\nbase_url = "ftp://example.com/v1"',
            "[chat] base_url must be an http:// or https://",
        ),
        ('[chat]\nbase_url = "api.groq.com/openai/v1"', "[chat] base_url must be an http:// or"),
        ('[stt]\nbase_url = "https://"', "[stt] base_url must be an http"),
        ('[stt]\nbase_url = "https://host:99999/v1"', "[stt] base_url must be an http"),
        ('[stt]\nbase_url = "https://host:port/v1"', "[stt] base_url must be an http"),
        ('[stt]\nbase_url = "https://bad host/v1"', "[stt] base_url must be an http"),
        ('[tools]\nweather_forecast_url = "javascript:alert(1)"', "weather_forecast_url must be"),
        ('[chat]\nmodel = ""', "[chat] model must be a model id on one line"),
        ('[chat]\nmodel = "a\\nb"', "[chat] model must be a model id on one line"),
        ('[stt]\ntranslation_model = "  "', "[stt] translation_model must be a model id"),
        ('[conversation]\nsummary_model = ""', "[conversation] summary_model must be a model id"),
        (
            '[stt]\nlanguage = "english"',
            '[stt] language must be an ISO-639-1 language code such as "en"',
        ),
        ('[stt]\nlanguage = ""', "[stt] language must be an ISO-639-1 language code"),
        (
            f'[stt]\nprompt = "{"x" * 897}"',
            "[stt] prompt must be a non-empty string of at most 896",
        ),
        (
            '[conversation]\nsystem_prompt = "a\\u0000b"',
            "[conversation] system_prompt must be a string",
        ),
        ('[tools]\nopen_command = "\'unclosed"', "[tools] open_command must be a program name"),
        ('[tools]\nopen_command = ""', "[tools] open_command must be a program name"),
        ('[tools]\nnotes_file = "notes.md"', "[tools] notes_file must be an absolute path"),
        ('[tools]\nenabled = ["weather", ""]', "[tools] enabled must be an array of non-empty"),
        ('[listen]\nphantom_phrases = ["Bye.", "\\u202eeyB"]', "phantom_phrases must be an array"),
        ('[daemon]\nsocket = "control.sock"', "[daemon] socket must be an absolute path"),
        (
            f'[daemon]\nsocket = "/tmp/{"s" * 120}.sock"',
            "[daemon] socket must be an absolute path or one starting with ~, at most 107 bytes",
        ),
        ('[daemon]\nwake_phrase = " "', "[daemon] wake_phrase must be a non-empty string"),
        ('[speech]\nvoice = ""', "[speech] voice must be a non-empty string"),
        ('[audio]\ninput_device = ""', "[audio] input_device must be a device index of 0 or more"),
        ('[audio]\ninput_device = "\\u001b[31mUSB"', "[audio] input_device must be a device"),
    ],
)
def test_a_string_of_the_wrong_form_is_named_with_what_is_accepted(
    env: dict[str, str], text: str, message: str
) -> None:
    assert message in refused(env, text + "\n")


def test_the_message_escapes_what_it_shows(env: dict[str, str]) -> None:
    message = refused(env, '[speech]\nvoice = "\\u001b[2J\\u202e"\n')
    assert "\x1b" not in message and "\u202e" not in message and "\\x1b" in message


def test_an_unknown_key_with_control_characters_is_shown_escaped(env: dict[str, str]) -> None:
    message = refused(env, '[chat]\n"\\u001b[31mmodel" = "x"\n')
    assert "\x1b" not in message and "unknown key [chat] '\\x1b[31mmodel'" in message


def test_every_default_in_the_readme_range_still_loads(env: dict[str, str]) -> None:
    """The edges of the ranges load: the documented extremes are accepted."""
    config_file(env).write_text(
        "[network]\nmax_retries = 0\ntimeout = 3600\nconnect_timeout = 0.1\n"
        "[stt]\nchunk_max_s = 10\nupload_limit_mb = 0.2\n"
        '[chat]\nbase_url = "http://127.0.0.1:8000/v1"\ntemperature = 0\n'
        '[daemon]\nsocket = "~/voiced.sock"\nwake_window_s = 0\n'
        '[tools]\nnotes_file = "~/notes.md"\nopen_command = "firefox --new-tab"\n'
        '[audio]\ninput_device = 0\ncapture_block_ms = 300\n[speech]\nvoice = "English (America)"\n'
    )
    settings = load_settings(env)
    assert settings.network.max_retries == 0 and settings.audio.capture_block_ms == 300


def test_groq_base_url_must_be_a_url_and_is_shown_masked(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**env, "GROQ_BASE_URL": "ftp://user:hunter2@proxy.example"})
    message = str(caught.value)
    assert "GROQ_BASE_URL must be an http:// or https:// URL" in message
    assert "hunter2" not in message and "ftp://***@proxy.example" in message


# The config file itself: bytes, directories, FIFOs and sizes.


def test_a_config_file_that_is_not_utf8_names_the_line(env: dict[str, str]) -> None:
    config_file(env).write_bytes(b'[chat]\nmodel = "gpt"\n[stt]\nlanguage = "\xe9"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert str(caught.value).startswith(f"{config_file(env)}: not UTF-8 text")
    assert "line 4" in str(caught.value)


def test_a_byte_order_mark_is_ignored(env: dict[str, str]) -> None:
    config_file(env).write_bytes('\ufeff[chat]\nmodel = "qwen/qwen3-32b"\n'.encode())
    assert load_settings(env).chat.model == "qwen/qwen3-32b"


@pytest.mark.parametrize("named", [False, True])
def test_a_directory_where_the_config_file_should_be(env: dict[str, str], named: bool) -> None:
    config_file(env).mkdir()
    env = {**env, "VOICED_CONFIG": str(config_file(env))} if named else env
    with pytest.raises(ConfigError, match="is a directory, not a config file"):
        load_settings(env)


def test_a_config_file_over_a_mebibyte_is_refused(env: dict[str, str]) -> None:
    config_file(env).write_text("# padding\n" * 120_000)
    with pytest.raises(ConfigError, match="larger than 1 MiB"):
        load_settings(env)


# As a user meets them: real processes, exit status 2, one line, no traceback.


def voiced(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = user_env(home, "config", GROQ_API_KEY=KEY, GROQ_BASE_URL="http://127.0.0.1:9", **extra)
    return run_voiced(*args, env=env, cwd=home, timeout=20)


def assert_one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("voiced: ")
    assert all(w in result.stderr for w in words), result.stderr
    assert KEY not in result.stdout + result.stderr


@pytest.mark.subprocess
@pytest.mark.parametrize("command", [["config"], ["ask", "hi"]])
@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"[network]\nmax_retries = -1\n", ("[network] max_retries must be between 0 and 20",)),
        (b"[network]\ntimeout = nan\n", ("[network] timeout must be above 0", "got nan")),
        (b"[network]\ntimeout = 0\n", ("[network] timeout must be above 0", "got 0.0")),
        (b'[chat]\nbase_url = "ftp://x"\n', ("[chat] base_url must be an http",)),
        (b'[chat]\nmodel = "\xff"\n', ("not UTF-8 text (an invalid byte on line 2)",)),
    ],
    ids=["max_retries=-1", "timeout=nan", "timeout=0", "ftp-url", "not-utf8"],
)
def test_the_cli_says_one_line_and_exits_2(
    tmp_path: Path, command: list[str], content: bytes, words: tuple[str, ...]
) -> None:
    path = tmp_path / "config" / "voiced" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert_one_line(voiced(tmp_path, *command), str(path), *words)


@pytest.mark.subprocess
@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_the_cli_refuses_a_config_path_that_is_no_file_without_hanging(
    tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "config" / "voiced" / "config.toml"
    path.parent.mkdir(parents=True)
    if kind == "directory":
        path.mkdir()
    else:
        os.mkfifo(path)
    assert_one_line(voiced(tmp_path, "ask", "hi"), str(path))
