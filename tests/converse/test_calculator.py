"""The calculator: arithmetic right, limits kept, nothing outside the whitelist evaluated."""

from __future__ import annotations

import math

import psutil
import pytest

from voiced.converse.tools.builtin.calculator import (
    CalculationError,
    CalcWorkers,
    calculate,
    calculator_tools,
    format_number,
)
from voiced.converse.tools.registry import ToolError


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("2 ** 3 ** 2", 512),
        ("-2 ** 2", -4),
        ("(-2) ** 2", 4),
        ("--3", 3),
        ("-(4 - 6)", 2),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("7 % 3", 1),
        ("2 ^ 10", 1024),
        ("6 × 7", 42),
        ("9 ÷ 4", 2.25),
        ("sqrt(16) + abs(-3)", 7.0),
        ("round(2.567, 2)", 2.57),
        ("max(3, 9, 4) - min(3, 9, 4)", 6),
        ("factorial(10)", 3628800),
        ("2 ** -1", 0.5),
        ("1e3 + 0.5", 1000.5),
        ("2 ** 4096", 2**4096),
        ("-2 ** 4096 * 1", -(2**4096)),
        ("round(123456, -3)", 123000),
        ("round(2.5)", 2),
        ("round(1, -1000)", 0),
        ("floor(1e308) // 10 ** 300", 10**8),
        ("-" * 299 + "1", -1),
    ],
)
def test_results_and_precedence(expression: str, value: float) -> None:
    assert calculate(expression) == value


def test_constants_and_functions() -> None:
    assert calculate("cos(pi)") == -1.0
    assert calculate("log(e)") == 1.0
    assert calculate("log10(1000)") == pytest.approx(3.0)
    assert math.isclose(calculate("sin(pi / 6)"), 0.5)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("9**9**9", "the exponent 387420489 is too large"),
        ("10 ** 100000", "is too large"),
        ("3 ** 9000", "the result is too large"),
        ("1.5 ** 5000", "the result is too large"),
        ("factorial(100000)", "factorial is limited to 500"),
        ("factorial(2.5)", "factorial takes one whole number"),
        ("1 / 0", "cannot divide by zero"),
        ("5 % 0", "cannot divide by zero"),
        ("sqrt(-1)", "not defined"),
        ("(-8) ** 0.5", "not a real number"),
        ("1 +", "cannot read"),
        ("x + 1", "unknown name 'x'"),
        ("__import__('os').system('true')", "Call is not allowed"),
        ("__import__('os')", "unknown function '__import__'"),
        ("(1).__class__", "Attribute is not allowed"),
        ("open('/etc/passwd')", "unknown function 'open'"),
        ("[1, 2]", "List is not allowed"),
        ("'a' * 3", "Constant is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("1 if 1 else 2", "IfExp is not allowed"),
        ("1 < 2", "Compare is not allowed"),
        ("True + 1", "true and false are not numbers"),
        ("1 << 100", "operator LShift is not supported"),
        ("sqrt(x=4)", "Call is not allowed"),
        ("1" * 400, "longer than 300"),
        ("round(1, -1001)", "round takes at most 1000 digits either side of the point"),
        ("round(7, 10 ** 12)", "round takes at most 1000 digits"),
        ("2 ** 4096 + 1", "the result is too large"),
        ("2 ** 4096 * 2 ** 4096 // 2 ** 4096", "the result is too large"),
        ("-(2 ** 4000) * 2 ** 100", "the result is too large"),
        ("max(2 ** 4096, 3) * 2", "the result is too large"),
        ("ceil(1e308 * 10)", "the result is too large"),
        ("2 ** 1e300", "the exponent is too large (at most 10000)"),
    ],
)
def test_refusals_say_why(expression: str, message: str) -> None:
    with pytest.raises(CalculationError) as caught:
        calculate(expression)
    assert message in str(caught.value)


def test_numbers_are_said_readably() -> None:
    assert format_number(2.0) == "2"
    assert format_number(1 / 3) == "0.333333333333"
    assert format_number(10**20) == "100000000000000000000"
    assert format_number(1e300) == "1e+300"


async def test_the_tool_answers_or_explains() -> None:
    (calculator,) = calculator_tools()
    assert calculator.name == "calculate"
    assert await calculator.invoke({"expression": "17.5 * 3 / 4"}) == "17.5 * 3 / 4 = 13.125"
    with pytest.raises(ToolError, match="cannot divide by zero"):
        await calculator.invoke({"expression": "1/0"})


async def test_the_calculator_worker_runs_with_an_empty_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GROQ_API_KEY", "gsk_must_not_travel")
    workers = CalcWorkers()
    before = set(psutil.Process().children())
    try:
        (calculator,) = calculator_tools(workers)
        assert await calculator.invoke({"expression": "2 ** 10"}) == "2 ** 10 = 1024"
        (worker,) = set(psutil.Process().children()) - before
        assert worker.cmdline()[-2].endswith("arith.py")
        assert worker.environ() == {}
    finally:
        workers.close()
