"""More elementwise ops: sin, cos, log1p, clamp, maximum/minimum, where and the common activations.

Like ``elementwise``, every ``forward`` takes Python floats or arrays and
returns ``(out, locals)``: the backward is ``grad * local``.  Where a
choice is made (clamp, maximum, where) the local is 1 on the chosen side and
0 on the other, so the gradient goes only where the value came from; a tie
in ``maximum``/``minimum`` gives each side ½, as PyTorch does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .base import LocalOp, has, scalar_or_array, warn_nonfinite
from .elementwise import _sigmoid


def _finite_in_nonfinite_out(name: str, a: Any, out: Any, why: str) -> None:
    """The one domain policy: a finite input that gives NaN/inf warns, naming the op."""
    if has(~np.isfinite(out) & np.isfinite(a)):
        warn_nonfinite(name, why)


_sin = scalar_or_array(math.sin, np.sin)
_cos = scalar_or_array(math.cos, np.cos)


class Sin(LocalOp):
    name, formulas = "sin", ("cos(x)",)
    expr = "sin(x)"
    f, df = staticmethod(_sin), staticmethod(_cos)

    def forward(self, a: Any):
        if type(a) is float and math.isinf(a):  # math.sin raises; NumPy and PyTorch give nan
            return math.nan, (math.nan,)
        with np.errstate(invalid="ignore"):
            return self.f(a), (self.df(a),)

    def graph_local(self, i: int, x: Any, y: Any, out: Any) -> Any:
        """The local derivative as a Value, for create_graph (second order)."""
        return x.cos() if self.name == "sin" else -x.sin()


class Cos(Sin):
    name, formulas = "cos", ("-sin(x)",)
    expr = "cos(x)"
    f, df = staticmethod(_cos), staticmethod(lambda a: -_sin(a))


class Log1p(LocalOp):
    """log(1 + x), accurate for tiny x; NaN below −1 and −inf at −1 (with a warning)."""

    name, formulas = "log1p", ("1/(1 + x)",)
    expr = "log(1 + x)"

    def forward(self, a: Any):
        if type(a) is float and a > -1.0:
            return math.log1p(a), (1.0 / (1.0 + a),)
        with np.errstate(divide="ignore", invalid="ignore"):
            out, inv = np.log1p(a), np.true_divide(1.0, np.add(a, 1.0))
        _finite_in_nonfinite_out("log1p", a, out, "input ≤ −1 gives -inf (at −1) or nan (below); "
                                 "log1p is defined for x > −1")
        return (float(out), (float(inv),)) if type(a) is float else (out, (inv,))


def _heaviside(x: Any, at0: float) -> Any:
    """1 where x > 0, 0 where x < 0, ``at0`` at 0 (float or array, like the input)."""
    if type(x) is float:
        return 1.0 if x > 0.0 else (0.0 if x < 0.0 else at0)
    return np.heaviside(x, at0)


class Clamp(LocalOp):
    """Values below ``lo`` become ``lo``, above ``hi`` become ``hi``; the gradient passes where
    ``lo ≤ x ≤ hi`` (boundaries included, as PyTorch) and is 0 where a bound was taken."""

    name = "clamp"

    def __init__(self, lo: float | None, hi: float | None):
        self.lo, self.hi = lo, hi
        parts = ([] if lo is None else [f"Heaviside(x - {lo!r}, 1)"]) + ([] if hi is None else [f"Heaviside({hi!r} - x, 1)"])
        self.formulas = ("*".join(parts),)

    def forward(self, a: Any):
        lo, hi = self.lo, self.hi
        if type(a) is float:  # as np.clip: max with lo, then min with hi; NaN stays NaN
            inside = (lo is None or a >= lo) and (hi is None or a <= hi)
            out = a if a != a or lo is None or a >= lo else float(lo)
            out = out if out != out or hi is None or out <= hi else float(hi)
            return out, (1.0 if inside else 0.0,)
        out = np.clip(a, lo, hi)
        inside = np.ones(a.shape, bool) if lo is None else a >= lo
        if hi is not None:
            inside &= a <= hi
        return out.astype(a.dtype, copy=False), (inside,)


class Maximum(LocalOp):
    """Elementwise larger of two operands; a tie sends half the gradient to each (as PyTorch)."""

    name, formulas = "maximum", ("Heaviside(x - y, 1/2)", "Heaviside(y - x, 1/2)")
    expr = "Max(x, y)"
    pick, sign = staticmethod(np.maximum), 1.0

    def forward(self, a: Any, b: Any):
        if type(a) is float and type(b) is float:
            out = self.pick(a, b)
            return float(out), (_heaviside(self.sign * (a - b), 0.5), _heaviside(self.sign * (b - a), 0.5))
        d = np.subtract(a, b) * self.sign
        return self.pick(a, b), (np.heaviside(d, 0.5), np.heaviside(-d, 0.5))


class Minimum(Maximum):
    """Elementwise smaller of two operands; a tie sends half the gradient to each (as PyTorch)."""

    name, formulas = "minimum", ("Heaviside(y - x, 1/2)", "Heaviside(x - y, 1/2)")
    expr = "Min(x, y)"
    pick, sign = staticmethod(np.minimum), -1.0


class Where(LocalOp):
    """``cond ? x : y`` elementwise; the gradient goes to x where cond holds, to y elsewhere."""

    name, formulas = "where", ("cond", "1 - cond")

    def __init__(self, cond: np.ndarray):
        self.cond = cond
        if cond.ndim == 0:  # one condition: the edge's local is a plain 1 or 0
            self.formulas = ("1", "0") if bool(cond) else ("0", "1")

    def graph_local(self, i: int, x: Any, y: Any, out: Any) -> Any:
        """For create_graph: the local is the (constant) mask of the side chosen."""
        c = self.cond if i == 0 else ~self.cond
        return float(c) if c.ndim == 0 else c

    def forward(self, a: Any, b: Any):
        c = self.cond
        if type(a) is float and type(b) is float and c.ndim == 0:
            return (a, (1.0, 0.0)) if bool(c) else (b, (0.0, 1.0))
        return np.where(c, a, b), (c, ~c)


class _NegativeSide:
    """x for x > 0, a curve with parameter k below (leaky_relu, elu); at 0 the local is the curve's.

    A mixin, not an op of its own: the ops are the LocalOp subclasses below.
    """

    name = neg_template = local_template = ""

    def __init__(self, k: float):
        self.k = k
        self.formulas = (f"Heaviside(x, 0) + {self.local_template.format(k=k)}*Heaviside(-x, 1)",)
        self.expr = f"Piecewise((x, x > 0), ({self.neg_template.format(k=k)}, True))"

    def forward(self, a: Any):
        if type(a) is float:
            return (a, (1.0,)) if a > 0.0 else (float(self.neg(a)), (float(self.local(a)),))
        pos = a > 0
        neg = np.minimum(a, 0)  # the curve sees only the negative part: exp never overflows
        return np.where(pos, a, self.neg(neg)), (np.where(pos, 1.0, self.local(neg)).astype(a.dtype, copy=False),)


class LeakyRelu(_NegativeSide, LocalOp):
    """x for x > 0, slope·x otherwise; at 0 the local is the slope (as PyTorch)."""

    name, neg_template, local_template = "leaky_relu", "{k!r}*x", "{k!r}"

    def neg(self, a: Any) -> Any:
        return self.k * a

    def local(self, a: Any) -> Any:
        return self.k


class Elu(_NegativeSide, LocalOp):
    """x for x > 0, α(eˣ − 1) otherwise; its local there is αeˣ."""

    name, neg_template, local_template = "elu", "{k!r}*(exp(x) - 1)", "{k!r}*exp(x)"

    def neg(self, a: Any) -> Any:
        return self.k * np.expm1(a)

    def local(self, a: Any) -> Any:
        return self.k * np.exp(a)


class Silu(LocalOp):
    """x·σ(x) (also called swish); its local is σ(x)(1 + x(1 − σ(x)))."""

    name = "silu"
    formulas = ("1/(1 + exp(-x)) + x*exp(-x)/(1 + exp(-x))**2",)
    expr = "x/(1 + exp(-x))"

    def forward(self, a: Any):
        s = _sigmoid(a)
        return a * s, (s * (1.0 + a * (1.0 - s)),)

    def graph_local(self, i: int, x: Any, y: Any, out: Any) -> Any:
        """For create_graph: σ(x)(1 + x(1 − σ(x))), which cannot overflow as the exp form can."""
        s = x.sigmoid()
        return s * (1.0 + x * (1.0 - s))


_erf = np.frompyfunc(math.erf, 1, 1)
_SQRT2, _SQRT2PI, _K = math.sqrt(2.0), math.sqrt(2.0 * math.pi), math.sqrt(2.0 / math.pi)


class Erf(LocalOp):
    """The error function (``Value.erf``); gelu's derivative is built from it under create_graph."""

    name, formulas = "erf", ("2*exp(-x**2)/sqrt(pi)",)
    expr = "erf(x)"

    def forward(self, a: Any):
        if type(a) is float:
            return math.erf(a), (2.0 * math.exp(-a * a) / math.sqrt(math.pi),)
        with np.errstate(under="ignore"):
            return np.asarray(_erf(a), dtype=a.dtype), (2.0 * np.exp(-a * a) / math.sqrt(math.pi),)

    def graph_local(self, i: int, x: Any, y: Any, out: Any) -> Any:
        return (-(x * x)).exp() * (2.0 / math.sqrt(math.pi))


ERF = Erf()


class Gelu(LocalOp):
    """x·Φ(x) with Φ the standard normal CDF (``approximate="tanh"``: the tanh form, as PyTorch)."""

    name = "gelu"

    def __init__(self, approximate: str = "none"):
        self.approximate = approximate
        if approximate == "tanh":
            t = f"tanh({_K!r}*(x + 0.044715*x**3))"
            self.formulas = (f"(1 + {t})/2 + x*(1 - {t}**2)*{_K!r}*(1 + 3*0.044715*x**2)/2",)
            self.expr = f"x*(1 + {t})/2"
        else:
            self.formulas = ("(1 + erf(x/sqrt(2)))/2 + x*exp(-x**2/2)/sqrt(2*pi)",)
            self.expr = "x*(1 + erf(x/sqrt(2)))/2"

    def forward(self, a: Any):
        scalar = type(a) is float
        if self.approximate == "tanh":
            inner = _K * (a + 0.044715 * a * a * a)
            t = math.tanh(inner) if scalar else np.tanh(inner)
            local = 0.5 * (1.0 + t) + 0.5 * a * (1.0 - t * t) * _K * (1.0 + 3 * 0.044715 * a * a)
            return 0.5 * a * (1.0 + t), (local,)
        if scalar:
            cdf = 0.5 * (1.0 + math.erf(a / _SQRT2))
            return a * cdf, (cdf + a * math.exp(-0.5 * a * a) / _SQRT2PI,)
        cdf = np.asarray(0.5 * (1.0 + _erf(a / _SQRT2)), dtype=a.dtype)
        with np.errstate(under="ignore", over="ignore"):
            pdf = np.exp(-0.5 * a * a) / _SQRT2PI
        return a * cdf, (cdf + a * pdf,)

    def graph_local(self, i: int, x: Any, y: Any, out: Any) -> Any:
        """For create_graph: Φ(x) + xφ(x) as Values (the tanh form's formula is evaluated as written)."""
        from ..value import _unary  # value imports ops: resolved at call time

        if self.approximate == "tanh":
            t = (_K * (x + 0.044715 * x * x * x)).tanh()
            return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _K * (1.0 + 3 * 0.044715 * x * x)
        cdf = 0.5 * (1.0 + _unary(ERF, x * (1.0 / _SQRT2)))
        return cdf + x * (-0.5 * x * x).exp() * (1.0 / _SQRT2PI)


SIN, COS, LOG1P, SILU = Sin(), Cos(), Log1p(), Silu()
MAXIMUM, MINIMUM = Maximum(), Minimum()
