"""The Calc action: arithmetic on numbers, parsed with `ast` and walked by hand (nothing is eval'ed)."""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from typing import Any

from .action import Action, BotMessage

MAX_EXPRESSION = 200
MAX_EXPONENT = 10_000
MAX_MAGNITUDE = 10**300

Number = int | float

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
_FUNCTIONS: dict[str, Callable[..., Number]] = {
    "abs": abs, "sqrt": math.sqrt, "ln": math.log, "log": math.log10, "exp": math.exp,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "round": round, "floor": math.floor, "ceil": math.ceil,
}


class CalcError(ValueError):
    pass


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression, or CalcError with a message for the chat."""
    if len(expression) > MAX_EXPRESSION:
        raise CalcError("Expression is too long.")
    try:
        # `2 ^ 8` means a power to people typing in a chat, with a power's precedence.
        tree = ast.parse(expression.strip().replace("^", "**"), mode="eval")
    except (SyntaxError, ValueError):
        raise CalcError("Invalid expression.") from None
    try:
        return _check(_eval(tree.body))
    except ZeroDivisionError:
        raise CalcError("Division by zero.") from None
    except (OverflowError, MemoryError):
        raise CalcError("Result is too large.") from None
    except (ValueError, TypeError) as err:
        if isinstance(err, CalcError):
            raise
        raise CalcError("Math error.") from None


def _check(value: Any) -> Number:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CalcError("Invalid expression.")
    if isinstance(value, float) and not math.isfinite(value):
        raise CalcError("Result is too large." if not math.isnan(value) else "Math error.")
    if abs(value) > MAX_MAGNITUDE:
        raise CalcError("Result is too large.")
    return value


def _eval(node: ast.AST) -> Number:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return _check(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _check(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _check(_UNARY[type(node.op)](_eval(node.operand)))
    if isinstance(node, ast.Name) and node.id.lower() in _CONSTANTS:
        return _CONSTANTS[node.id.lower()]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.lower() in _FUNCTIONS
            and not node.keywords and len(node.args) == 1):
        return _check(_FUNCTIONS[node.func.id.lower()](_eval(node.args[0])))
    raise CalcError("Invalid expression.")


def _check_power(base: Number, exponent: Number) -> None:
    """Refuse powers whose result is too large before computing them (big ints take long)."""
    if abs(exponent) > MAX_EXPONENT:
        raise CalcError("Result is too large.")
    if (isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1
            and exponent * abs(base).bit_length() > MAX_MAGNITUDE.bit_length() + 64):
        raise CalcError("Result is too large.")


def format_number(value: Number) -> str:
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15g}"
    return str(value)


class CalcAction(Action):
    name = "Calc"
    description = "Calculate a mathematical expression."
    usage = "calc 1 + 2"

    def reply(self, msg: BotMessage) -> str | None:
        m = re.match(r"^calc\S*\s+(.+)", msg.command.strip(), re.IGNORECASE)
        if not m:
            return None
        expression = m.group(1).strip()
        try:
            return f"{expression} = {format_number(evaluate(expression))}"
        except CalcError as err:
            return str(err)
