"""Softmax and log-softmax: tensor ops along an axis, and the scalar form.

The scalar form turns K scalar Values into K scalar Values, each with all K
inputs as parents, so a drawn graph shows the K×K Jacobian edges
∂ŷ_i/∂z_j = ŷ_i(δ_ij − ŷ_j).
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import numpy as np

from ..errors import ShapeError
from .base import LocalOp, VjpOp, surely_finite, warn_nonfinite
from .dual import exp, rsum
from .tensor import _as_data, _axes


def one_axis(op: str, axis: Any, shape: tuple[int, ...]) -> int | None:
    """The single axis a softmax normalises over (None for a 0-d input, whose softmax is 1).

    Never several axes and never a guess: ``axis=None`` or a tuple on a 2-D or larger
    Value is refused, because NumPy's reading would normalise over another axis.
    """
    nd = len(shape)
    if type(axis) is int and -nd <= axis < nd:  # the common case (axis=-1), without the checks below
        return axis % nd
    if isinstance(axis, (tuple, list)) and len(axis) == 1:
        axis = axis[0]
    if not shape and axis in (None, 0, -1):
        return None
    if axis is None and len(shape) == 1:
        return 0
    if axis is None or isinstance(axis, (tuple, list)):
        raise ShapeError(
            f"{op}: axis={axis!r} on a Value of shape {shape}: {op} normalises over exactly one axis; "
            f"pass one int, e.g. axis=-1 (each row), or reshape first to normalise over several axes together"
        )
    return _axes(op, axis, shape)[0]


def _shifted(a: Any, axis: int) -> Any:
    # Subtracting the max changes nothing mathematically but keeps exp() ≤ 1.
    return a - np.maximum.reduce(a, axis=axis, keepdims=True)


def _warn_infinite_rows(op: str, a: Any, per_row: Any) -> None:
    """The one NaN policy: a row holding +inf (or only −inf) gives NaN, with one warning naming the op.

    ``per_row`` (the normaliser, one number a row) is NaN exactly for such rows, or for NaN input.
    """
    if np.isnan(per_row).any() and not np.isnan(a).any():
        warn_nonfinite(op, "a row holding +inf (or only −inf) has no finite normalisation: the result is NaN")


class Softmax(VjpOp):
    name, formulas = "softmax", ("out*(KroneckerDelta(i, j) - out_j)",)
    vjps = ("ŷ ⊙ (g − Σ g·ŷ)",)
    saved_as = "output"  # backward reads ŷ: with create_graph, this node itself

    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, a: Any):
        self.axis = one_axis(self.name, self.axis, np.shape(a))
        if surely_finite(a):  # nothing can go wrong: no error-state switch, no check of the rows
            e = np.exp(_shifted(a, self.axis))
            out = _as_data(e / np.add.reduce(e, axis=self.axis, keepdims=True), a)
            return out, out
        with np.errstate(invalid="ignore"):
            e = np.exp(_shifted(a, self.axis))
            total = np.add.reduce(e, axis=self.axis, keepdims=True)
            out = _as_data(e / total, a)
        _warn_infinite_rows(self.name, a, total)
        return out, out

    def backward(self, out: Any, g: Any, parents: tuple):
        return (out * (g - rsum(g * out, self.axis)),)


class LogSoftmax(VjpOp):
    name, formulas = "log_softmax", ("KroneckerDelta(i, j) - exp(out_j)",)
    vjps = ("g − softmax(x) · Σ g",)
    saved_as = "output"

    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, a: Any):
        self.axis = one_axis(self.name, self.axis, np.shape(a))
        if surely_finite(a):  # as Softmax.forward
            s = _shifted(a, self.axis)
            out = _as_data(s - np.log(np.add.reduce(np.exp(s), axis=self.axis, keepdims=True)), a)
            return out, out
        with np.errstate(invalid="ignore", divide="ignore"):
            s = _shifted(a, self.axis)
            lse = np.log(np.add.reduce(np.exp(s), axis=self.axis, keepdims=True))
            out = _as_data(s - lse, a)
        _warn_infinite_rows(self.name, a, lse)
        return out, out

    def backward(self, out: Any, g: Any, parents: tuple):
        return (g - exp(out) * rsum(g, self.axis),)


class _Group:
    """What the K outputs of one scalar softmax share: weak links to each other.

    Weak, so that sibling outputs never form a reference cycle.
    """

    __slots__ = ("outputs", "__weakref__")

    def __init__(self) -> None:
        self.outputs: list[weakref.ref] = []


class SoftmaxOut(LocalOp):
    """Output i of a scalar softmax: ŷ_i, with ∂ŷ_i/∂z_j = ŷ_i(δ_ij − ŷ_j)."""

    name = "softmax"

    def __init__(self, i: int, group: _Group):
        self.i, self.group = i, group

    def formula(self, j: int) -> str:
        return "out*(1 - out)" if j == self.i else f"-out*s{j}"

    @staticmethod
    def group_forward(zs: list[float]) -> list[tuple[float, tuple[float, ...]]]:
        m = max(zs)
        es = [math.exp(z - m) for z in zs]
        total = sum(es)
        ys = [e / total for e in es]
        return [(yi, tuple(yi * ((i == j) - yj) for j, yj in enumerate(ys))) for i, yi in enumerate(ys)]


class LogSoftmaxOut(SoftmaxOut):
    """Output i of a scalar log-softmax: log ŷ_i, with ∂/∂z_j = δ_ij − ŷ_j."""

    name = "log_softmax"

    def formula(self, j: int) -> str:
        return "1 - exp(out)" if j == self.i else f"-exp(s{j})"

    @staticmethod
    def group_forward(zs: list[float]) -> list[tuple[float, tuple[float, ...]]]:
        m = max(zs)
        lse = m + math.log(sum(math.exp(z - m) for z in zs))
        ys = [math.exp(z - lse) for z in zs]
        return [(z - lse, tuple((i == j) - yj for j, yj in enumerate(ys))) for i, z in enumerate(zs)]


def scalar_group(kind: type[SoftmaxOut], zs: list[float]):
    """Outputs and op instances for K scalar inputs (the caller makes the nodes)."""
    group = _Group()
    return group, [(kind(i, group), out, local) for i, (out, local) in enumerate(kind.group_forward(zs))]
