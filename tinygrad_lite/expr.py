"""Parse and evaluate a small math expression into a graph of Values, safely (``ast``, no ``eval``).

Allowed: numbers, lists, + − × ÷ **, unary −, indexing with an integer, and the
functions exp, log, sigmoid, tanh, relu, square, sqrt, softmax, log_softmax, sum, mean.
"""

from __future__ import annotations

import ast
import functools
import operator
from typing import Any

from . import functional as F
from .value import Value

MAX_NODES, MAX_LIST, MAX_EXPONENT, MAX_NUMBER = 300, 64, 64, 1e6


class ExprError(ValueError):
    """The expression uses something outside the whitelist or is too big."""


def _scalar_fn(name: str):
    return lambda v: getattr(v, name)()


FUNCTIONS = {
    **{name: _scalar_fn(name) for name in ("exp", "log", "sigmoid", "tanh", "relu", "square", "sqrt")},
    "softmax": F.softmax,
    "log_softmax": F.log_softmax,
    "sum": lambda xs: functools.reduce(operator.add, xs),
    "mean": lambda xs: functools.reduce(operator.add, xs) / len(xs),
}
BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
          ast.Pow: operator.pow}


def parse(text: str) -> tuple[Value, list[Value]]:
    """The expression's Value and its input leaves (one per number literal, labelled x0, x1, …)."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise ExprError(f"not a valid expression: {e.msg} at column {e.offset}") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ExprError(f"the expression has {count} parts; at most {MAX_NODES} are allowed")
    leaves: list[Value] = []
    result = _eval(tree.body, leaves)
    if isinstance(result, list):
        raise ExprError("the expression gives a list; pick one element, e.g. softmax([2.0, 1.0])[0], or sum(...)")
    return result, leaves


def _eval(node: ast.AST, leaves: list[Value]) -> Any:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        if abs(node.value) > MAX_NUMBER:
            raise ExprError(f"the number {node.value} is too large (at most {MAX_NUMBER:g} in size)")
        v = Value(float(node.value), label=f"x{len(leaves)}")
        leaves.append(v)
        return v
    if isinstance(node, ast.List):
        if len(node.elts) > MAX_LIST:
            raise ExprError(f"lists may have at most {MAX_LIST} elements")
        return [_scalar(_eval(e, leaves)) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _scalar(_eval(node.operand, leaves))
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        left, right = _scalar(_eval(node.left, leaves)), _scalar(_eval(node.right, leaves))
        if isinstance(node.op, ast.Pow) and abs(right.item()) > MAX_EXPONENT:
            raise ExprError(f"exponent {right.item():g} is too large (at most {MAX_EXPONENT})")
        return BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
        if len(node.args) != 1 or node.keywords:
            raise ExprError(f"{node.func.id}() takes exactly one argument")
        arg = _eval(node.args[0], leaves)
        wants_list = node.func.id in ("softmax", "log_softmax", "sum", "mean")
        if wants_list != isinstance(arg, list):
            raise ExprError(f"{node.func.id}() takes {'a list' if wants_list else 'a number'}")
        return FUNCTIONS[node.func.id](arg)
    if isinstance(node, ast.Subscript):
        seq = _eval(node.value, leaves)
        idx = node.slice
        if not isinstance(seq, list) or not (isinstance(idx, ast.Constant) and type(idx.value) is int):
            raise ExprError("only a list can be indexed, and only with an integer, e.g. softmax([1.0, 2.0])[0]")
        if not -len(seq) <= idx.value < len(seq):
            raise ExprError(f"index {idx.value} is out of range for a list of {len(seq)}")
        return seq[idx.value]
    what = type(node).__name__
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        what = f"function {name!r}; allowed functions: {', '.join(FUNCTIONS)}"
    elif isinstance(node, ast.Name):
        what = f"name {node.id!r}; only numbers and the allowed functions may appear"
    elif isinstance(node, ast.Attribute):
        what = "attribute access"
    raise ExprError(f"not allowed: {what}")


def _scalar(v: Any) -> Value:
    if isinstance(v, list):
        raise ExprError("a list cannot be used here; index it or pass it to softmax/sum/mean")
    return v
