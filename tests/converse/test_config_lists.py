"""Arrays in config.toml: `tuple[str, ...]` and `list[str]` settings, and the new sections."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from pathlib import Path

import pytest

from voiced.config import data_dir, describe_type, load_settings, matches_type
from voiced.errors import ConfigError


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "config" / "voiced").mkdir(parents=True)
    return {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}


def write(env: dict[str, str], text: str) -> Path:
    path = Path(env["XDG_CONFIG_HOME"]) / "voiced" / "config.toml"
    path.write_text(text)
    return path


def test_arrays_of_strings_become_tuples(env: dict[str, str]) -> None:
    write(env, '[tools]\nenabled = ["weather", "calculate"]\ndisabled = []\n')
    tools = load_settings(env).tools
    assert tools.enabled == ("weather", "calculate")
    assert tools.disabled == ()


def test_defaults_of_the_new_sections(env: dict[str, str]) -> None:
    settings = load_settings(env)
    assert settings.tools.enabled == () and settings.tools.max_rounds == 8
    assert settings.conversation.idle_gap_minutes == 30.0
    assert settings.conversation.keep_recent_turns == 4
    assert settings.conversation.system_prompt == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[tools]\nenabled = "weather"\n',
            "[tools] enabled must be an array of strings, got a string",
        ),
        (
            '[tools]\nenabled = ["weather", 3]\n',
            "[tools] enabled must be an array of strings, got an array",
        ),
        ('[tools]\ndisabled = [["a"]]\n', "[tools] disabled must be an array of strings"),
        (
            "[conversation]\nkeep_recent_turns = 0\n",
            "[conversation] keep_recent_turns must be at least 1",
        ),
        ("[conversation]\nidle_gap_minutes = -1\n", "idle_gap_minutes must be above 0"),
        ("[tools]\nmax_rounds = 0\n", "[tools] max_rounds must be at least 1"),
    ],
)
def test_bad_values_name_the_file_and_key(env: dict[str, str], text: str, message: str) -> None:
    path = write(env, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_ints_in_a_float_list_become_floats() -> None:
    from voiced.config import build_section

    @dataclass(frozen=True)
    class Levels:
        values: list[float] = ()  # type: ignore[assignment]
        names: tuple[typing.Literal["a", "b"], ...] = ()

    built = build_section(Path("x.toml"), "levels", Levels, {"values": [1, 2.5], "names": ["a"]})
    assert built.values == [1.0, 2.5] and isinstance(built.values[0], float)
    assert built.names == ("a",)
    assert not matches_type(["c"], tuple[typing.Literal["a", "b"], ...])
    assert (
        describe_type(tuple[typing.Literal["a", "b"], ...])
        == "an array of values, each one of 'a', 'b'"
    )
    assert describe_type(list[int] | None) == "an array of integers"


def test_the_data_dir_follows_xdg() -> None:
    assert data_dir({"XDG_DATA_HOME": "/d", "HOME": "/h"}) == Path("/d/voiced")
    assert data_dir({"HOME": "/h"}) == Path("/h/.local/share/voiced")
