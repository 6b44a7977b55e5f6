"""Arithmetic on a whitelisted expression tree, every operation bounded; also the worker's main.

Why it is bounded: every integer the evaluator holds is at most 2**4096 in size (literals are
shorter than the 300-character expression; each operation's result is checked, and the
operations that could build a huge number first, ``**``, ``round`` with negative digits and
``factorial``, are checked before they run). Floats are fixed-size, and a float turned into an
integer (``floor``, ``round``) is below 2**1024. Each operation on such numbers costs
microseconds, and an expression of 300 characters holds fewer than 300 of them, so a
calculation ends within milliseconds, whatever the expression.

The calculate tool runs it anyway in a separate worker process (``calcworker``), killed at a
deadline and limited in CPU time and memory, so a case these bounds missed still cannot stall
voiced. This module is that worker's program: run as a script, it imports only the standard
library.
"""

from __future__ import annotations

import ast
import json
import math
import operator
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

MAX_LENGTH = 300
"""Longest expression accepted, in characters."""
MAX_EXPONENT = 10_000
MAX_RESULT_BITS = 4_096
"""Integers above 2**4096, as results or along the way, are refused: they say nothing."""
MAX_FACTORIAL = 500
MAX_ROUND_DIGITS = 1_000
"""``round(x, n)`` accepts ``n`` from -1000 to 1000."""

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


@dataclass(frozen=True)
class Limits:
    """The bounds a calculation keeps (the defaults are the ones proven cheap above)."""

    length: int = MAX_LENGTH
    exponent: int = MAX_EXPONENT
    bits: int = MAX_RESULT_BITS
    factorial: int = MAX_FACTORIAL
    round_digits: int = MAX_ROUND_DIGITS


LIMITS = Limits()
"""The bounds every calculation keeps unless told otherwise."""


def calculate(expression: str, limits: Limits = LIMITS) -> Number:
    """Calculate an arithmetic expression, within ``limits``.

    Supports numbers, ``+ - * / // % **`` (``^`` and ``×``/``÷`` too), parentheses, unary
    minus, ``pi``, ``e``, ``tau``, ``factorial`` and the functions in :data:`FUNCTIONS`.

    Raises:
        CalculationError: Syntax error, a name or construct outside the whitelist, division
            by zero, a number too large, or a math domain error.
    """
    if len(expression) > limits.length:
        raise CalculationError(f"the expression is longer than {limits.length} characters")
    text = expression.strip()
    for spoken, python in SPOKEN.items():
        text = text.replace(spoken, python)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise CalculationError(f"cannot read {expression!r} as arithmetic") from None
    except (RecursionError, MemoryError):
        raise CalculationError("the expression is nested too deeply") from None
    try:
        return _Evaluator(limits).value(tree.body)
    except ZeroDivisionError:
        raise CalculationError("cannot divide by zero") from None
    except OverflowError:
        raise CalculationError("the result is too large") from None
    except RecursionError:
        raise CalculationError("the expression is nested too deeply") from None
    except (ValueError, TypeError) as exc:
        if isinstance(exc, CalculationError):
            raise
        raise CalculationError(f"not defined: {exc}") from None


class _Evaluator:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def value(self, node: ast.expr) -> Number:
        return self._bounded(self._value(node))

    def _bounded(self, number: Number) -> Number:
        """Refuse an integer above ``2**bits`` (``2**bits`` itself is allowed)."""
        if isinstance(number, int):
            size = abs(number)
            length = size.bit_length()
            top = self.limits.bits + 1
            if length > top or (length == top and size & (size - 1)):
                raise CalculationError("the result is too large")
        return number

    def _value(self, node: ast.expr) -> Number:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            if isinstance(node.value, bool):
                raise CalculationError("true and false are not numbers")
            return node.value
        if isinstance(node, ast.Name):
            if node.id in CONSTANTS:
                return CONSTANTS[node.id]
            raise CalculationError(f"unknown name {node.id!r}")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            operand = self.value(node.operand)
            return -operand if isinstance(node.op, ast.USub) else +operand
        if isinstance(node, ast.BinOp):
            left, right = self.value(node.left), self.value(node.right)
            if isinstance(node.op, ast.Pow):
                return self._power(left, right)
            op = BINARY.get(type(node.op))
            if op is None:
                raise CalculationError(f"the operator {type(node.op).__name__} is not supported")
            return op(left, right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            name = node.func.id
            if name != "factorial" and name not in FUNCTIONS:
                raise CalculationError(f"unknown function {name!r}")
            args = [self.value(a) for a in node.args]
            if name == "factorial":
                return self._factorial(args)
            if name == "round":
                self._check_round(args)
            return FUNCTIONS[name](*args)
        raise CalculationError(f"{type(node).__name__} is not allowed in a calculation")

    def _power(self, base: Number, exponent: Number) -> Number:
        if abs(exponent) > self.limits.exponent:
            shown = f" {format_number(exponent)}" if abs(exponent) < 1e15 else ""
            raise CalculationError(
                f"the exponent{shown} is too large (at most {self.limits.exponent})"
            )
        if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
            if abs(base) > 1 and math.log2(abs(base)) * exponent > self.limits.bits:
                raise CalculationError("the result is too large")
        result = base**exponent
        if isinstance(result, complex):
            raise CalculationError("the result is not a real number")
        return result

    def _factorial(self, args: list[Number]) -> int:
        if len(args) != 1 or not float(args[0]).is_integer() or args[0] < 0:
            raise CalculationError("factorial takes one whole number that is not negative")
        if args[0] > self.limits.factorial:
            raise CalculationError(f"factorial is limited to {self.limits.factorial}")
        return math.factorial(int(args[0]))

    def _check_round(self, args: list[Number]) -> None:
        """``round(n, -d)`` builds ``10**d``: keep ``d`` small."""
        if len(args) == 2 and isinstance(args[1], int) and abs(args[1]) > self.limits.round_digits:
            raise CalculationError(
                f"round takes at most {self.limits.round_digits} digits either side of the point"
            )


def format_number(value: Number) -> str:
    """Format a result readably: whole numbers exactly, others to 12 significant digits."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.12g}"


def answer(expression: str, limits: Limits = LIMITS) -> dict[str, str]:
    """The worker's reply to one expression: ``{"value": text}`` or ``{"error": why}``."""
    try:
        return {"value": format_number(calculate(expression, limits))}
    except CalculationError as exc:
        return {"error": str(exc)}
    except MemoryError:
        return {"error": "the calculation needs too much memory"}
    except Exception as exc:  # a bound missed: say so, and keep serving
        return {"error": f"not defined: {type(exc).__name__}: {exc}"}


def serve(limits_json: str) -> None:
    """The worker's loop: one JSON expression per line in, one JSON reply per line out.

    Each expression gets ``cpu_s`` more seconds of CPU time (then the kernel kills the worker)
    and the worker's address space is capped at ``memory_mb``.
    """
    import resource

    options = json.loads(limits_json)
    cpu_s, memory = int(options.pop("cpu_s")), int(options.pop("memory_mb")) << 20
    limits = Limits(**options)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    ceiling = resource.getrlimit(resource.RLIMIT_AS)[1]
    if ceiling != resource.RLIM_INFINITY:
        memory = min(memory, ceiling)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    out = sys.stdout.buffer
    out.write(b'{"ready": true}\n')
    out.flush()
    for line in sys.stdin.buffer:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = math.ceil(usage.ru_utime + usage.ru_stime) + cpu_s
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
        try:
            reply = answer(str(json.loads(line)), limits)
        except ValueError:
            reply = {"error": "the request to the calculator was unreadable"}
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()


def worker_options(limits: Limits, cpu_s: int, memory_mb: int) -> str:
    """The argument ``serve`` takes: the limits, the CPU seconds and the memory, as JSON."""
    return json.dumps({**asdict(limits), "cpu_s": cpu_s, "memory_mb": memory_mb})


if __name__ == "__main__":
    serve(sys.argv[1])
