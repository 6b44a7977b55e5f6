"""The @tool decorator's schemas, argument checks, plug-ins from entry points, and selection."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Literal

import pytest

from voiced.converse.tools import ArgumentError, Tool, ToolContext, ToolRegistry, tool
from voiced.converse.tools.registry import entry_point_tools


@tool
def book_table(
    restaurant: str,
    people: int,
    when: Literal["lunch", "dinner"] = "dinner",
    budget: float | None = None,
    outdoor: bool = False,
    allergies: list[str] | None = None,
) -> str:
    """Book a table at a restaurant.

    Checks availability first, then books.

    Args:
        restaurant: Name of the restaurant.
        people: How many people, the user
            included.
        when: Lunch or dinner.
        budget: Most to spend per person, in euros.
        outdoor: Whether to sit outside.
        allergies: Foods to avoid.

    Returns:
        A confirmation.
    """
    return f"{restaurant} for {people}"


def test_the_schema_comes_from_type_hints_and_the_docstring() -> None:
    assert book_table.schema() == {
        "type": "function",
        "function": {
            "name": "book_table",
            "description": "Book a table at a restaurant.",
            "parameters": {
                "type": "object",
                "properties": {
                    "restaurant": {"type": "string", "description": "Name of the restaurant."},
                    "people": {
                        "type": "integer",
                        "description": "How many people, the user included.",
                    },
                    "when": {
                        "type": "string",
                        "enum": ["lunch", "dinner"],
                        "description": "Lunch or dinner.",
                    },
                    "budget": {
                        "type": "number",
                        "description": "Most to spend per person, in euros.",
                    },
                    "outdoor": {"type": "boolean", "description": "Whether to sit outside."},
                    "allergies": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "Foods to avoid.",
                    },
                },
                "required": ["restaurant", "people"],
                "additionalProperties": False,
            },
        },
    }


def test_good_arguments_are_checked_and_numbers_widened() -> None:
    assert book_table.check('{"restaurant": "Chez Anne", "people": 2, "budget": 40}') == {
        "restaurant": "Chez Anne",
        "people": 2,
        "budget": 40.0,
    }
    assert book_table.check('{"restaurant": "X", "people": 1, "budget": null}') == {
        "restaurant": "X",
        "people": 1,
    }
    assert book_table.check('{"restaurant": "X", "people": 3, "allergies": ["nuts"]}')[
        "allergies"
    ] == ["nuts"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ('{"restaurant": "X", "people": 2', "the arguments are not valid JSON"),
        ('["X", 2]', "the arguments must be a JSON object, got a list"),
        ('{"restaurant": "X"}', "missing required argument 'people'"),
        (
            '{"restaurant": "X", "people": "two"}',
            "argument 'people' must be an integer, got a string ('two')",
        ),
        (
            '{"restaurant": "X", "people": 2.5}',
            "argument 'people' must be an integer, got a number (2.5)",
        ),
        (
            '{"restaurant": "X", "people": true}',
            "argument 'people' must be an integer, got a boolean (True)",
        ),
        (
            '{"restaurant": 7, "people": 2}',
            "argument 'restaurant' must be a string, got an integer (7)",
        ),
        (
            '{"restaurant": "X", "people": 2, "when": "brunch"}',
            "argument 'when' must be one of 'lunch', 'dinner', got 'brunch'",
        ),
        (
            '{"restaurant": "X", "people": 2, "outdoor": "yes"}',
            "argument 'outdoor' must be true or false",
        ),
        (
            '{"restaurant": "X", "people": 2, "allergies": ["nuts", 3]}',
            "argument 'allergies'[1] must be a string",
        ),
        ('{"restaurant": "X", "people": 2, "tip": 5}', "unknown argument 'tip'"),
    ],
)
def test_bad_arguments_are_explained(arguments: str, message: str) -> None:
    with pytest.raises(ArgumentError) as caught:
        book_table.check(arguments)
    assert message in str(caught.value)


def test_empty_arguments_mean_none() -> None:
    @tool
    def ping() -> str:
        """Ping."""
        return "pong"

    assert ping.check("") == {} and ping.check("{}") == {}
    assert "required" not in ping.parameters


def test_unsupported_tools_are_refused_when_declared() -> None:
    with pytest.raises(TypeError, match="needs a type annotation"):

        @tool
        def untyped(x) -> str:  # type: ignore[no-untyped-def]
            """Doc."""
            return ""

    with pytest.raises(TypeError, match="unsupported tool parameter type"):

        @tool
        def dicts(x: dict[str, int]) -> str:
            """Doc."""
            return ""

    with pytest.raises(TypeError, match="docstring"):

        @tool
        def bare(x: int) -> str:
            return ""

    with pytest.raises(TypeError, match="must match"):
        tool(name="has spaces")(book_table.function)


@tool
def alpha() -> str:
    """Alpha."""
    return "a"


@tool
def beta() -> str:
    """Beta."""
    return "b"


def test_config_enables_and_disables_tools_by_name(caplog: pytest.LogCaptureFixture) -> None:
    registry = ToolRegistry([alpha, beta, book_table])
    assert registry.select().names == ["alpha", "beta", "book_table"]
    assert registry.select(enabled=["beta", "alpha"]).names == ["alpha", "beta"]
    assert registry.select(disabled=["beta"]).names == ["alpha", "book_table"]
    assert registry.select(enabled=["alpha", "beta"], disabled=["beta"]).names == ["alpha"]
    assert registry.select(disabled=["gamma"]).names == ["alpha", "beta", "book_table"]
    assert "no such tool is installed" in caplog.text and "gamma" in caplog.text


def test_the_first_tool_of_a_name_wins() -> None:
    other = Tool("alpha", "Another alpha.", {"type": "object", "properties": {}}, lambda: "x")
    assert ToolRegistry([alpha, other]).get("alpha") is alpha


def install_plugin(site: Path, module: str, body: str, entries: str) -> None:
    """Write a module and a dist-info with an entry_points.txt, as pip would."""
    (site / f"{module}.py").write_text(textwrap.dedent(body))
    info = site / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entries))


def test_third_party_tools_come_from_the_entry_point_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    install_plugin(
        tmp_path,
        "voiced_plugin_demo",
        '''
        from voiced.converse.tools import tool

        @tool
        def shout(text: str) -> str:
            """Say it louder.

            Args:
                text: What to shout.
            """
            return text.upper()

        def factory(context):
            @tool
            def where_data() -> str:
                """Where the data lives."""
                return str(context.data_dir)
            return [where_data]

        not_a_tool = 42

        def broken(context):
            raise RuntimeError("plug-in bug")
        ''',
        """
        [voiced.tools]
        shout = voiced_plugin_demo:shout
        where_data = voiced_plugin_demo:factory
        wrong = voiced_plugin_demo:not_a_tool
        broken = voiced_plugin_demo:broken
        missing = voiced_plugin_demo:nothing_here
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    tools = {t.name: t for t in entry_point_tools(ToolContext(data_dir=tmp_path / "data"))}
    assert set(tools) == {"shout", "where_data"}
    assert tools["shout"].function("hi") == "HI"
    assert tools["where_data"].function() == str(tmp_path / "data")
    for skipped in ("wrong", "broken", "missing"):
        assert f"skipping tool plug-in {skipped}" in caplog.text
    sys.modules.pop("voiced_plugin_demo", None)
