"""Elementwise ops: forward, local derivative ∂out/∂input and its formula together.

Every ``forward`` takes Python floats (scalar graphs, kept as floats because
they are ~20× faster than NumPy scalars) or arrays, and returns
``(out, locals)``; the backward is always ``grad * local`` (see ``base``).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from .base import ONE, LocalOp, exp, has, number_text, scalar_or_array, tanh, warn_nonfinite

# Locals that never change are shared tuples: in a scalar graph that is one object fewer
# per node for the allocator and for Python's garbage collector to walk.
_ADD_LOCALS, _SUB_LOCALS, _NEG_LOCALS = (ONE, ONE), (ONE, -1.0), (-1.0,)
_RELU_ON, _RELU_OFF = (ONE,), (0.0,)


class Add(LocalOp):
    name, formulas = "add", ("1", "1")
    expr = "x + y"

    def forward(self, a: Any, b: Any):
        return a + b, _ADD_LOCALS

    def forward_number(self, a: Any, c: float, first: bool):  # as forward, without a tuple (W2's hot path)
        return (c + a if first else a + c), ONE


class Sub(LocalOp):
    name, formulas = "sub", ("1", "-1")
    expr = "x - y"

    def forward(self, a: Any, b: Any):
        return a - b, _SUB_LOCALS

    def forward_number(self, a: Any, c: float, first: bool):  # as forward, without a tuple
        return (c - a, -1.0) if first else (a - c, ONE)


class Mul(LocalOp):
    name, formulas = "mul", ("y", "x")
    expr = "x*y"

    def forward(self, a: Any, b: Any):
        return a * b, (b, a)

    def forward_number(self, a: Any, c: float, first: bool):  # as forward, without a tuple
        return (c * a if first else a * c), c


class Div(LocalOp):
    name, formulas = "div", ("1/y", "-x/y**2")
    expr = "x/y"

    def forward(self, a: Any, b: Any):
        if type(b) is float and type(a) is float:
            if b == 0.0:  # Python raises here; follow IEEE/NumPy (±inf, or nan for 0/0)
                warn_nonfinite("div", f"division by zero ({a} / 0.0)")
                with np.errstate(divide="ignore", invalid="ignore"):
                    out, inv = float(np.float64(a) / 0.0), math.inf
                return out, (inv, -out * inv)
            out = a / b
            return out, (1.0 / b, -out / b)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.true_divide(a, b)
            inv = np.true_divide(1.0, b)
        if has(np.equal(b, 0)):
            warn_nonfinite("div", "division by zero gives inf/nan")
        return out, (inv, -out * inv)


class Neg(LocalOp):
    name, formulas = "neg", ("-1",)
    expr = "-x"

    def forward(self, a: Any):
        return -a, _NEG_LOCALS


def _pow_forward(a: Any, b: Any, warn: bool = True) -> Any:
    """a**b with NumPy semantics for floats too (Python gives complex or raises).

    ``warn=False`` for the local derivative: one op warns once.
    """
    if type(a) is float and type(b) is float and (a > 0.0 or (a == 0.0 and b > 0.0) or b.is_integer()):
        try:
            return a**b
        except (OverflowError, ZeroDivisionError):
            pass
    with np.errstate(all="ignore"):
        out = np.power(np.float64(a) if type(a) is float else a, b)
    if warn and has(np.isnan(out) & ~np.isnan(a)):
        warn_nonfinite("pow", "negative base with a non-integer exponent gives nan")
    return float(out) if type(a) is float and type(b) is float else out


def _d_base(a: Any, b: Any) -> Any:
    """∂(a**b)/∂a = b·a**(b−1); 0 for b = 0 (as PyTorch), where the formula would give 0·∞ at a = 0."""
    if type(b) is float:
        if b == 1.0:
            return ONE
        if b == 0.0:
            return 0.0 if type(a) is float else np.zeros_like(a)
    with np.errstate(all="ignore"):
        d = b * _pow_forward(a, b - 1.0, False)
        return d if type(b) is float else np.where(np.equal(b, 0), 0.0, d)


def _d_exponent(a: Any, out: Any) -> Any:
    """∂(a**b)/∂b = a**b · ln a, taken as 0 at a = 0 (as PyTorch); NaN for a < 0."""
    if type(a) is float:
        return out * math.log(a) if a > 0 else (0.0 if a == 0 else math.nan)
    with np.errstate(all="ignore"):
        return np.where(a == 0, 0.0, out * np.log(a))


class Pow(LocalOp):
    """x ** y; d/dy = x**y · ln x, taken as 0 at x = 0 (as PyTorch)."""

    name, formulas = "pow", ("y*x**(y - 1)", "out*log(x)")
    expr = "x**y"

    def forward(self, a: Any, b: Any):
        out = _pow_forward(a, b)
        return out, (_d_base(a, b), _d_exponent(a, out))

    def forward_number(self, a: Any, c: float, first: bool):
        # Only the Value operand's local: x ** 2 needs no logarithm.
        if first:
            out = _pow_forward(c, a)
            return out, _d_exponent(c, out)
        return _pow_forward(a, c), _d_base(a, c)

    def graph_local(self, i: int, x: Any, y: Any, out: Any) -> Any:
        """The formulas as Values (for create_graph), ∂/∂y with forward's convention at x ≤ 0."""
        if i == 0:
            return 0.0 if type(y) is float and y == 0.0 else y * x ** (y - 1.0)
        if not has(np.less_equal(x.data, 0)):
            return out * x.log()
        # log of x where x > 0, of 1 elsewhere: 0 at x = 0 as forward's convention; NaN below 0.
        pos = np.greater(x.data, 0)
        nan = np.where(np.less(x.data, 0), np.nan, 0.0)
        scalar = type(x.data) is float
        safe = x * (float(pos) if scalar else pos) + (float(~pos) if scalar else ~pos)
        return out * safe.log() + (float(nan) if scalar else nan)


class Exp(LocalOp):
    name, formulas = "exp", ("exp(x)",)
    expr = "exp(x)"

    def forward(self, a: Any):
        with np.errstate(over="ignore"):
            out = exp(a)
        if has(np.isinf(out)) and not has(np.isinf(a)):
            warn_nonfinite("exp", "overflow to inf (input above ~709); shift the input down first")
        return out, (out,)


class Log(LocalOp):
    name, formulas = "log", ("1/x",)
    expr = "log(x)"

    def forward(self, a: Any):
        if type(a) is float:
            if a > 0.0:
                return math.log(a), (1.0 / a,)
            nonpos = a <= 0.0
        else:
            nonpos = a <= 0
        if has(nonpos):
            if has(np.less(a, 0)):
                warn_nonfinite("log", f"input has negative entries (smallest {float(np.min(a)):g}), result is nan; "
                               "log is defined for x > 0: clamp or shift the input first")
            else:
                warn_nonfinite(
                    "log", "input contains 0, result is -inf (for cross-entropy use fused=True / log_softmax)"
                )
        with np.errstate(divide="ignore", invalid="ignore"):
            out, inv = np.log(a), np.true_divide(1.0, a)
        return (float(out), (float(inv),)) if type(a) is float else (out, (inv,))


def _sigmoid_f(x: float) -> float:
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)  # never overflows for x < 0
    return e / (1.0 + e)


# σ(x) = (1 + tanh(x/2)) / 2 cannot overflow, unlike 1/(1+exp(-x)) for x ≪ 0.
_sigmoid = scalar_or_array(_sigmoid_f, lambda x: 0.5 + 0.5 * np.tanh(0.5 * x))


class Sigmoid(LocalOp):
    name, formulas = "sigmoid", ("out*(1 - out)",)

    def forward(self, a: Any):
        s = _sigmoid(a)
        return s, (s * (1.0 - s),)


class Tanh(LocalOp):
    name, formulas = "tanh", ("1 - out**2",)
    expr = "tanh(x)"

    def forward(self, a: Any):
        t = tanh(a)
        return t, (1.0 - t * t,)


class Relu(LocalOp):
    name, formulas = "relu", ("Heaviside(x, 0)",)
    expr = "Max(x, 0)"

    def forward(self, a: Any):
        if type(a) is float:
            return (a, _RELU_ON) if a > 0.0 else (0.0 if a == a else a, _RELU_OFF)  # NaN stays NaN
        mask = a > 0.0  # a boolean local: NumPy multiplies it as 0/1 without a cast pass
        return np.maximum(a, 0.0), (mask,)  # (a float 0.0: NumPy resolves an int scalar more slowly)


class Square(LocalOp):
    name, formulas = "square", ("2*x",)
    expr = "x**2"

    def forward(self, a: Any):
        return a * a, (2.0 * a,)


class Sqrt(LocalOp):
    name, formulas = "sqrt", ("1/(2*sqrt(x))",)
    expr = "sqrt(x)"

    def forward(self, a: Any):
        if has(np.less(a, 0)):
            warn_nonfinite("sqrt", f"input has negative entries (smallest {float(np.min(a)):g}), result is nan; "
                           "sqrt is defined for x >= 0: use .abs() or .clamp(min=0) first")
            if type(a) is float:
                return math.nan, (math.nan,)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = math.sqrt(a) if type(a) is float else np.sqrt(a)
            local = 0.5 / out if type(a) is not float else (0.5 / out if out else math.inf)
        return out, (local,)


class Abs(LocalOp):
    name, formulas = "abs", ("sign(x)",)
    expr = "Abs(x)"

    def forward(self, a: Any):
        if type(a) is float:
            return abs(a), ((a > 0.0) - (a < 0.0) + 0.0,)
        return np.abs(a), (np.sign(a),)


class Softplus(LocalOp):
    """log(1 + eˣ), written so it never overflows; its derivative is σ(x)."""

    name, formulas = "softplus", ("1/(1 + exp(-x))",)
    expr = "log(1 + exp(x))"

    def forward(self, a: Any):
        if type(a) is float:
            out = max(a, 0.0) + math.log1p(math.exp(-abs(a)))
        else:
            out = np.logaddexp(0.0, a)
        return out, (_sigmoid(a),)

    def graph_local(self, i: int, x: Any, y: Any, out: Any) -> Any:
        """The formula as a Value (for create_graph): σ(x), which cannot overflow as 1/(1 + e⁻ˣ) can."""
        return x.sigmoid()


_OPERAND = re.compile(r"\b[xy]\b")


class NumberOp(LocalOp):
    """A binary op with one operand a Python number c: ``x * 2.0``, ``1 - x``, ``x ** 2`` …

    The number is part of the op, not a node: the node has one parent (called x in the
    templates) and keeps c itself.  Forward and local derivative are the binary op's
    (``forward_number``), and the templates are its templates with c in the number's place.
    """

    def __init__(self, op: LocalOp, first: bool, label: str):
        self.op, self.first, self.label_template = op, first, label
        self.name = op.name
        names = {"x": "c", "y": "x"} if first else {"y": "c"}
        rename = lambda template: _OPERAND.sub(lambda m: names.get(m.group(0), m.group(0)), template)
        self.formulas = (rename(op.formula(1 if first else 0)),)
        self.expr = rename(op.expr) if op.expr is not None else None

    def forward(self, a: Any, c: float):  # type: ignore[override]
        return self.op.forward_number(a, c, self.first)

    def label(self, number: float | None = None) -> str:
        return self.name if number is None else self.label_template.format(c=number_text(number).replace("-", "−"))


def with_numbers(op: LocalOp, symbol: str) -> LocalOp:
    """Give a binary op its two number forms: x ∘ c drawn as "∘ c", c ∘ x as "c ∘ ·"."""
    op.numbered = (NumberOp(op, False, f"{symbol} {{c}}"), NumberOp(op, True, f"{{c}} {symbol} ·"))
    return op


ADD, SUB, MUL, DIV, NEG = (with_numbers(Add(), "+"), with_numbers(Sub(), "−"), with_numbers(Mul(), "×"),
                           with_numbers(Div(), "÷"), Neg())
POW = with_numbers(Pow(), "^")
EXP, LOG, SIGMOID, TANH, RELU = Exp(), Log(), Sigmoid(), Tanh(), Relu()
SQUARE, SQRT, ABS, SOFTPLUS = Square(), Sqrt(), Abs(), Softplus()
