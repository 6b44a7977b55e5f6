"""The calculate tool: bounded arithmetic (``arith``) in a worker process killed at a deadline."""

from __future__ import annotations

from voiced.converse.tools.builtin.arith import (
    MAX_EXPONENT,
    MAX_FACTORIAL,
    MAX_LENGTH,
    MAX_RESULT_BITS,
    MAX_ROUND_DIGITS,
    CalculationError,
    Limits,
    Number,
    calculate,
    format_number,
)
from voiced.converse.tools.builtin.calcworker import CalcWorkers, shared_workers
from voiced.converse.tools.registry import Tool, ToolError, tool


def calculator_tools(workers: CalcWorkers | None = None) -> list[Tool]:
    """Return the ``calculate`` tool.

    Args:
        workers: The worker processes it calculates in; defaults to the process's shared ones.
    """

    @tool(name="calculate")
    async def calculate_expression(expression: str) -> str:
        """Calculate an arithmetic expression exactly; use it for any sum you would otherwise guess.

        Args:
            expression: Arithmetic such as "(17.5 * 3) / 4", "2 ** 10", "sqrt(2)" or
                "factorial(10)"; pi and e are known.
        """
        try:
            value = await (workers or shared_workers()).calculate(expression)
        except CalculationError as exc:
            raise ToolError(str(exc)) from None
        return f"{expression} = {value}"

    return [calculate_expression]


__all__ = [
    "MAX_EXPONENT",
    "MAX_FACTORIAL",
    "MAX_LENGTH",
    "MAX_RESULT_BITS",
    "MAX_ROUND_DIGITS",
    "CalcWorkers",
    "CalculationError",
    "Limits",
    "Number",
    "calculate",
    "calculator_tools",
    "format_number",
]
