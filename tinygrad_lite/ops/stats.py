"""Variance and standard deviation along axes, with PyTorch's ``correction`` (1: Bessel's, the default).

var = Σ(x − x̄)² / (n − correction), so ∂var/∂xᵢ = 2(xᵢ − x̄)/(n − correction)
(the x̄ terms cancel because Σ(x − x̄) = 0); std = √var, so ∂std/∂xᵢ =
(xᵢ − x̄)/((n − correction)·std), taken as 0 where std is 0 (as PyTorch).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import ShapeError
from .base import VjpOp, shape_of, warn_nonfinite
from .dual import is_data, unsqueeze
from .tensor import _as_data, _axes


class Var(VjpOp):
    name, vjps = "var", ("g · 2(x − mean)/(n − correction)",)
    root = False
    saved_as = "inputs"  # backward recomputes x − mean from x: the same code on data and on Values

    def __init__(self, axis: Any, correction: float, keepdims: bool):
        self.axis, self.correction, self.keepdims = axis, correction, keepdims

    def forward(self, a: Any):
        shape = shape_of(a)
        self.axes = _axes(self.name, self.axis, shape)
        n = math.prod(shape[i] for i in self.axes)
        if n == 0:
            raise ShapeError(f"{self.name}: reducing an empty axis of shape {shape} has no {self.name}")
        self.dof = dof = n - self.correction
        x = np.asarray(a)
        dev = x - np.add.reduce(x, axis=self.axes, keepdims=True) / n
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.add.reduce(dev * dev, axis=self.axes, keepdims=True) / dof
            if self.root:
                out = np.sqrt(out)
        if dof <= 0:
            warn_nonfinite(self.name, f"{n} element(s) with correction={self.correction} leave no degrees of "
                           "freedom: the result is inf/nan (use correction=0)")
        self.formulas = (f"(x - mean(x))/({dof!r}*out)" if self.root else f"2*(x - mean(x))/{dof!r}",)
        res = out if self.keepdims else np.squeeze(out, self.axes)
        return _as_data(res, a), (a,)

    def backward(self, saved: Any, g: Any, parents: tuple):
        (x,) = saved
        data = is_data(x)
        if data:
            x = np.asarray(x)
        dev = x - x.mean(axis=self.axes, keepdims=True)
        gk = g if self.keepdims or type(g) is float else unsqueeze(g, self.axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.root:
                std = (dev * dev).sum(axis=self.axes, keepdims=True) / self.dof
                std = np.sqrt(std) if data else std.sqrt()
                # Where std is 0 every deviation is 0 too: a denominator of 1 there gives PyTorch's 0.
                zero = (np.asarray(std if data else std.data) == 0).astype(dev.dtype)
                grad = gk * dev / ((std + zero) * self.dof)
            else:
                grad = gk * dev * 2.0 / self.dof
        if data:
            grad = np.asarray(grad, dtype=x.dtype)
            return (float(grad) if type(parents[0].data) is float else grad,)
        return (grad,)


class Std(Var):
    name, vjps = "std", ("g · (x − mean)/((n − correction)·std)",)
    root = True
