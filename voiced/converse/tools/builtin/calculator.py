"""A calculator on a whitelisted Python-syntax expression tree: no eval, no names but ours."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from voiced.converse.tools.registry import Tool, ToolError, tool

MAX_LENGTH = 300
"""Longest expression accepted, in characters."""
MAX_EXPONENT = 10_000
MAX_RESULT_BITS = 4_096
"""Integer results above 2**4096 are refused: they could take seconds and say nothing."""
MAX_FACTORIAL = 500

Number = int | float

CONSTANTS: dict[str, Number] = {"pi": math.pi, "e": math.e, "tau": math.tau}
FUNCTIONS: dict[str, Callable[..., Number]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "exp": math.exp,
    "ln": math.log,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "degrees": math.degrees,
    "radians": math.radians,
    "min": min,
    "max": max,
}
BINARY: dict[type[ast.operator], Callable[[Any, Any], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
SPOKEN = {"×": "*", "÷": "/", "^": "**", "−": "-", "√": "sqrt"}


class CalculationError(ValueError):
    """The expression cannot be calculated; the message says why, in plain words."""


def calculate(expression: str) -> Number:
    """Calculate an arithmetic expression.

    Supports numbers, ``+ - * / // % **`` (``^`` and ``×``/``÷`` too), parentheses, unary
    minus, ``pi``, ``e``, ``tau``, ``factorial`` and the functions in :data:`FUNCTIONS`.

    Raises:
        CalculationError: Syntax error, a name or construct outside the whitelist, division
            by zero, a power or factorial too large, or a math domain error.
    """
    if len(expression) > MAX_LENGTH:
        raise CalculationError(f"the expression is longer than {MAX_LENGTH} characters")
    text = expression.strip()
    for spoken, python in SPOKEN.items():
        text = text.replace(spoken, python)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise CalculationError(f"cannot read {expression!r} as arithmetic") from None
    try:
        return _value(tree.body)
    except ZeroDivisionError:
        raise CalculationError("cannot divide by zero") from None
    except OverflowError:
        raise CalculationError("the result is too large") from None
    except (ValueError, TypeError) as exc:
        if isinstance(exc, CalculationError):
            raise
        raise CalculationError(f"not defined: {exc}") from None


def _value(node: ast.expr) -> Number:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        if isinstance(node.value, bool):
            raise CalculationError("true and false are not numbers")
        return node.value
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise CalculationError(f"unknown name {node.id!r}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _value(node.operand)
        return -operand if isinstance(node.op, ast.USub) else +operand
    if isinstance(node, ast.BinOp):
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Pow):
            return _power(left, right)
        op = BINARY.get(type(node.op))
        if op is None:
            raise CalculationError(f"the operator {type(node.op).__name__} is not supported")
        return op(left, right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name = node.func.id
        if name != "factorial" and name not in FUNCTIONS:
            raise CalculationError(f"unknown function {name!r}")
        args = [_value(a) for a in node.args]
        return _factorial(args) if name == "factorial" else FUNCTIONS[name](*args)
    raise CalculationError(f"{type(node).__name__} is not allowed in a calculation")


def _power(base: Number, exponent: Number) -> Number:
    if abs(exponent) > MAX_EXPONENT:
        raise CalculationError(
            f"the exponent {format_number(exponent)} is too large (at most {MAX_EXPONENT})"
        )
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        if abs(base) > 1 and math.log2(abs(base)) * exponent > MAX_RESULT_BITS:
            raise CalculationError("the result is too large")
    result = base**exponent
    if isinstance(result, complex):
        raise CalculationError("the result is not a real number")
    return result


def _factorial(args: list[Number]) -> int:
    if len(args) != 1 or not float(args[0]).is_integer() or args[0] < 0:
        raise CalculationError("factorial takes one whole number that is not negative")
    if args[0] > MAX_FACTORIAL:
        raise CalculationError(f"factorial is limited to {MAX_FACTORIAL}")
    return math.factorial(int(args[0]))


def format_number(value: Number) -> str:
    """Format a result readably: whole numbers exactly, others to 12 significant digits."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.12g}"


def calculator_tools() -> list[Tool]:
    """Return the ``calculate`` tool."""

    @tool(name="calculate")
    def calculate_expression(expression: str) -> str:
        """Calculate an arithmetic expression exactly; use it for any sum you would otherwise guess.

        Args:
            expression: Arithmetic such as "(17.5 * 3) / 4", "2 ** 10", "sqrt(2)" or
                "factorial(10)"; pi and e are known.
        """
        try:
            return f"{expression} = {format_number(calculate(expression))}"
        except CalculationError as exc:
            raise ToolError(str(exc)) from None

    return [calculate_expression]
