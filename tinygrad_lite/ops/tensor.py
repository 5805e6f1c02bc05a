"""Tensor ops whose backward is a vector-Jacobian product: matmul, reductions, shapes, indexing.

Each backward is written in operations that NumPy arrays and Values both
support (and the helpers of ``dual``), so ``backward(create_graph=True)`` runs
the same code on Values; ``saved_as`` says what it then receives as ``saved``
(see ``tinygrad_lite.second_order``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import ShapeError
from .base import VjpOp, shape_of
from .dual import broadcast_to, is_data, permute, reshape, scatter_add, sum_to, swap_last, unsqueeze


class MatMul(VjpOp):
    name, formulas = "matmul", ("y", "x")
    vjps = ("g @ yᵀ", "xᵀ @ g")
    saved_as = "inputs"

    def forward(self, a: Any, b: Any):
        try:
            return np.matmul(a, b), (a, b)
        except ValueError:
            raise self._shape_error(shape_of(a), shape_of(b)) from None

    @staticmethod
    def _shape_error(sa: tuple[int, ...], sb: tuple[int, ...]) -> ShapeError:
        if not sa or not sb:
            return ShapeError(f"matmul: shapes {sa} and {sb}: @ needs at least 1-D operands; use * to multiply by a scalar.")
        ka, kb = sa[-1], sb[0] if len(sb) == 1 else sb[-2]
        if ka != kb:
            return ShapeError(
                f"matmul: shapes {sa} and {sb} are not aligned: the left has {ka} columns, "
                f"the right {kb} rows. Transpose an operand (e.g. x @ W.T) or fix the sizes."
            )
        return ShapeError(f"matmul: batch dimensions of shapes {sa} and {sb} cannot be broadcast together.")

    def backward(self, saved: Any, g: Any, parents: tuple):
        a, b = saved
        if a.ndim == 2 and b.ndim == 2:  # the common case, without the general bookkeeping
            return (g @ b.T if parents[0].requires_grad else None,
                    a.T @ g if parents[1].requires_grad else None)
        # Treat 1-D operands as a row (left) / column (right) matrix, as matmul does.
        a2 = reshape(a, (1,) + a.shape) if a.ndim == 1 else a
        b2 = reshape(b, b.shape + (1,)) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = unsqueeze(g2, (-2 if b.ndim > 1 else 0,))
        if b.ndim == 1:
            g2 = unsqueeze(g2, (-1,))
        ga = gb = None
        if parents[0].requires_grad:
            ga = g2 @ swap_last(b2)
            if a.ndim == 1:
                ga = reshape(ga, ga.shape[:-2] + ga.shape[-1:])
            ga = sum_to(ga, a)
        if parents[1].requires_grad:
            gb = swap_last(a2) @ g2
            if b.ndim == 1:
                gb = reshape(gb, gb.shape[:-1])
            gb = sum_to(gb, b)
        return ga, gb


MATMUL = MatMul()  # stateless: one shared instance


class Linear(VjpOp):
    """x @ Wᵀ (+ b) for a weight W stored (out, in), as ``torch.nn.functional.linear`` (addmm).

    One node instead of matmul + transpose + add: W's gradient gᵀ @ x comes out in W's own
    layout (no transposed copies on the way back), and the bias, a third parent when given,
    is added into the fresh product (no node, no array of its own).
    """

    name, formulas = "linear", ("y", "x", "1")
    vjps = ("g @ W", "gᵀ @ x", "g summed over the batch")
    saved_as = "inputs"

    def forward(self, a: Any, w: Any, b: Any = None):
        if type(a) is np.ndarray and type(w) is np.ndarray and w.ndim == 2 and a.ndim and a.shape[-1] == w.shape[1]:
            out = a @ w.T  # (the shapes fit: the checks below only explain why they do not)
        else:
            sa, sw = shape_of(a), shape_of(w)
            if len(sw) != 2 or not sa or sa[-1] != sw[1]:
                raise ShapeError(
                    f"linear: input of shape {sa} and weight of shape {sw}: the weight must be "
                    f"(out_features, in_features) and the input end in in_features"
                    + (f" = {sw[1]}" if len(sw) == 2 else "") + "."
                )
            out = a @ w.T
        if b is None:
            return out, (a, w)
        try:
            if type(b) is np.ndarray and b.dtype is out.dtype:
                out += b  # into the fresh product, as addmm (NumPy refuses a bias that would widen it)
                return out, (a, w, b)
            if np.broadcast_shapes(out.shape, shape_of(b)) == out.shape:  # NumPy's promotion: a new array
                return out + b, (a, w, b)
        except ValueError:
            pass
        raise ShapeError(
            f"linear: bias of shape {shape_of(b)} does not fit the output of shape {out.shape} (input "
            f"{shape_of(a)}, weight {shape_of(w)}); the bias must be (out_features,) = "
            f"({out.shape[-1]},) or broadcast to the output's shape."
        )

    def backward(self, saved: Any, g: Any, parents: tuple):
        a, w = saved[0], saved[1]
        ga = g @ w if parents[0].requires_grad else None
        gw = None
        if parents[1].requires_grad:
            if a.ndim != 2:  # every leading (batch) axis of x adds into W's gradient: make them one
                gf, af = reshape(g, (-1, w.shape[0])), reshape(a, (-1, w.shape[1]))
            else:
                gf, af = g, a
            gw = swap_last(gf) @ af
        if len(saved) == 2:
            return ga, gw
        # The bias was added at every row: its gradient is g summed over every leading axis.
        return ga, gw, (sum_to(g, saved[2]) if parents[2].requires_grad else None)


LINEAR = Linear()  # stateless: one shared instance


def _axes(op: str, axis: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Normalise ``axis`` (None, int or tuple) to sorted non-negative axes, or say what is wrong."""
    nd = len(shape)
    if axis is None:
        return tuple(range(nd))
    if type(axis) is int and -nd <= axis < nd:  # the common case, without the checks below
        return (axis % nd,)
    raw = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for ax in raw:
        if not isinstance(ax, (int, np.integer)) or isinstance(ax, bool):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {ax!r}")
        if not -nd <= ax < nd:
            raise ShapeError(
                f"{op}: axis {ax} is out of range for a Value of shape {shape} (ndim {nd}); "
                f"valid axes are {-nd}..{nd - 1}" if nd else
                f"{op}: axis {ax} given for a 0-d Value; use axis=None"
            )
        out.append(int(ax) % nd)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def _spread(g: Any, a: Any, axes: tuple[int, ...]) -> Any:
    """The gradient of a reduction, copied back over the reduced axes of ``a`` (the input's data)."""
    if len(axes) == a.ndim and is_data(g):  # everything was reduced (loss.sum(), loss.mean()): one fill
        out = np.empty(a.shape, dtype=a.dtype)
        out[...] = g  # (half of np.full's time on small arrays)
        return out
    keep = tuple(1 if i in axes else n for i, n in enumerate(a.shape))
    return broadcast_to(reshape(g, keep), a.shape, a.dtype)


def _as_data(out: Any, like: Any) -> Any:
    """Keep scalar graphs on Python floats; NumPy scalars become 0-d arrays (dtype kept)."""
    return float(out) if type(like) is float else np.asarray(out)


class Sum(VjpOp):
    expr = "x"  # on a scalar, the identity
    name, formulas, vjps = "sum", ("1",), ("g broadcast to x's shape",)
    saved_as = "fixed"  # the input's data, for its shape

    def __init__(self, axis: Any, keepdims: bool):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, a: Any):
        self.axes = _axes(self.name, self.axis, shape_of(a))
        return _as_data(np.add.reduce(a, axis=self.axes, keepdims=self.keepdims), a), a

    def backward(self, a: Any, g: Any, parents: tuple):
        return (g if type(a) is float else _spread(g, a, self.axes),)


class Mean(VjpOp):
    expr = "x"  # on a scalar, the identity
    name, vjps = "mean", ("g / n broadcast to x's shape",)
    saved_as = "fixed"

    def __init__(self, axis: Any, keepdims: bool):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, a: Any):
        shape = shape_of(a)
        self.axes = _axes(self.name, self.axis, shape)
        everything = len(self.axes) == len(shape)
        self.n = np.size(a) if everything else math.prod(shape[i] for i in self.axes)
        if self.n == 0:
            raise ShapeError(f"mean: reducing an empty axis of shape {shape} has no mean")
        # (axis=None when every axis goes: NumPy's quickest reduction, and a plain division after it)
        axis = None if everything and not self.keepdims else self.axes
        return _as_data(np.add.reduce(a, axis=axis, keepdims=self.keepdims) / self.n, a), a

    def formula(self, i: int) -> str:
        return f"1/{self.n}"

    def backward(self, a: Any, g: Any, parents: tuple):
        if type(a) is float:
            return (g,)
        if type(g) is np.ndarray and g.ndim == 0:  # loss.mean(): divide one number, not a 0-d array
            g = g.item() / self.n
        else:
            g = g / self.n
        return (_spread(g, a, self.axes),)


class Max(VjpOp):
    """Maximum; tied maxima share the gradient equally (as ``torch.amax``)."""

    name, formulas, vjps = "max", ("1",), ("g split among the maxima",)
    saved_as = "fixed"  # the share of each maximum: piecewise constant, so no gradient of its own
    reduce = staticmethod(np.max)

    def __init__(self, axis: Any, keepdims: bool):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, a: Any):
        shape = shape_of(a)
        self.axes = _axes(self.name, self.axis, shape)
        if np.size(a) == 0:
            raise ShapeError(f"{self.name}: a Value of shape {shape} is empty and has no {self.name}imum")
        out = self.reduce(a, axis=self.axes, keepdims=True)
        mask = np.equal(a, out)
        share = mask / mask.sum(axis=self.axes, keepdims=True)
        res = out if self.keepdims else np.squeeze(out, self.axes)
        return _as_data(res, a), share

    def backward(self, share: Any, g: Any, parents: tuple):
        if share.ndim == 0:
            return (g,)
        return (share * (g if self.keepdims else unsqueeze(g, self.axes)),)


class Min(Max):
    """Minimum; tied minima share the gradient equally (as ``torch.amin``)."""

    name, vjps = "min", ("g split among the minima",)
    reduce = staticmethod(np.min)


class Reshape(VjpOp):
    expr = "x"  # on a scalar, the identity
    name, formulas, vjps = "reshape", ("1",), ("g.reshape(x.shape)",)
    saved_as = "fixed"

    def __init__(self, shape: tuple[int, ...]):
        self.shape = shape

    def forward(self, a: Any):
        try:
            return np.reshape(a, self.shape), shape_of(a)
        except (ValueError, TypeError):
            raise ShapeError(
                f"reshape: cannot reshape a Value of shape {shape_of(a)} ({np.size(a)} elements) "
                f"into {self.shape}; the number of elements must stay the same (one -1 may infer a size)."
            ) from None

    def backward(self, shape: Any, g: Any, parents: tuple):
        if shape == () and type(parents[0].data) is float and is_data(g):
            return (float(g),)
        return (reshape(g, shape),)


class Transpose(VjpOp):
    expr = "x"  # on a scalar, the identity
    name, formulas, vjps = "transpose", ("1",), ("g transposed back",)
    saved_as = "fixed"

    def __init__(self, axes: Any):
        self.axes = axes

    def forward(self, a: Any):
        if self.axes is None and type(a) is np.ndarray and a.ndim == 2:  # W.T in every Linear: no bookkeeping
            self.perm = self.inverse = (1, 0)
            return a.T, None
        shape = shape_of(a)
        axes = self.axes or tuple(reversed(range(len(shape))))
        if sorted(int(i) % max(len(shape), 1) for i in axes) != list(range(len(shape))):
            raise ShapeError(
                f"{self.name}: axes {tuple(axes)} are not a permutation of the {len(shape)} axes "
                f"of a Value of shape {shape}"
            )
        self.perm = tuple(int(i) % len(shape) for i in axes)
        self.inverse = tuple(np.argsort(self.perm).tolist())
        return _as_data(np.transpose(a, self.perm), a), None

    def backward(self, saved: Any, g: Any, parents: tuple):
        if self.inverse == (1, 0):
            if type(g) is np.ndarray:  # W.T in every Linear: the gradient in W's own (C) order, so the
                return (np.ascontiguousarray(g.T),)  # optimizer's update and the NaN guard run on contiguous memory
            return (g.T,)  # a Value (create_graph)
        return (permute(g, self.inverse),)


def _index_of(index: Any) -> Any:
    """Accept lists and arrays of ints inside an index, as NumPy does (Values are unwrapped by Value)."""
    if isinstance(index, list):
        index = np.asarray(index)
    if isinstance(index, tuple):
        return tuple(_index_of(i) for i in index)
    if isinstance(index, np.ndarray) and index.dtype.kind == "f":
        if not np.all(index == np.round(index)):
            raise IndexError(f"index: float index {index!r} is not an integer array")
        index = index.astype(np.intp)
    return index


def _has_array(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, np.ndarray) and i.ndim > 0 for i in items)


class GetItem(VjpOp):
    name, formulas, vjps = "index", ("1",), ("g scattered (added) into zeros at the index",)
    saved_as = "fixed"  # the input's data, for its shape

    def __init__(self, index: Any, unique: bool = False):
        """``unique=True``: the caller's index is integer arrays that never repeat a position (one
        pick per row, as cross_entropy's), so backward assigns instead of adding each share."""
        self.index = index if unique else _index_of(index)
        # Integer-array ("advanced") indexing copies and may repeat positions; basic indexing gives a view.
        self.advanced = unique or _has_array(self.index)
        self.unique = unique

    def forward(self, a: Any):
        if type(a) is float:
            raise IndexError("index: a 0-d Value cannot be indexed; use .item() or the Value itself")
        try:
            out = a[self.index]
        except IndexError as e:
            raise IndexError(f"index: {e} (Value of shape {a.shape}, index {self.index!r})") from None
        if not isinstance(out, np.ndarray):
            return np.asarray(out), a
        return (out if self.advanced else out.copy()), a

    def backward(self, a: Any, g: Any, parents: tuple):
        return (scatter_add(g, self.index, a.shape, a.dtype, self.advanced and not self.unique),)


class ScatterAdd(VjpOp):
    """Zeros of a fixed shape with the input added at an index: indexing's backward, as an op.

    Its own backward is the indexing again, so gradients of gradients flow through it.
    """

    name, formulas, vjps = "scatter_add", ("1",), ("g at the index",)
    saved_as = "fixed"

    def __init__(self, index: Any, shape: tuple[int, ...], advanced: bool):
        self.index, self.shape, self.advanced = index, tuple(shape), advanced

    def forward(self, g: Any):
        return scatter_add(g, self.index, self.shape, np.result_type(g), self.advanced), None

    def backward(self, saved: Any, g: Any, parents: tuple):
        picked = g[self.index]
        return (np.array(picked) if is_data(picked) and not self.advanced else picked,)
