"""Shape ops with PyTorch's names: squeeze, unsqueeze, flatten, expand, permute, cat and stack.

squeeze/unsqueeze/flatten only change the shape, so they are reshapes under
their own name; expand copies along size-1 axes, so its gradient is summed
back (as a broadcast operand's is); cat and stack hand each input the slice
of the gradient where its values went.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from .base import VjpOp, shape_of
from .dual import sum_to
from .tensor import Reshape, Transpose


def axis_index(op: str, dim: Any, nd: int) -> int:
    """One axis of an ``nd``-dimensional shape as a non-negative int, or a clear error."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if not -nd <= dim < nd:
        raise ShapeError(f"{op}: dim {dim} is out of range for {nd} dimension(s); valid dims are {-nd}..{nd - 1}"
                         if nd else f"{op}: dim {dim} is out of range: there are no dimensions")
    return int(dim) % nd


# Reshapes and a transpose under PyTorch's names, so drawings and steps say which was called.
Squeeze, Unsqueeze, Flatten = (type(n.capitalize(), (Reshape,), {"name": n, "__module__": __name__})
                               for n in ("squeeze", "unsqueeze", "flatten"))
Permute = type("Permute", (Transpose,), {"name": "permute", "__module__": __name__})


def squeezed(shape: tuple[int, ...], dim: Any) -> tuple[int, ...]:
    """``shape`` without its size-1 axes (all, or those in ``dim``; others stay, as PyTorch)."""
    if dim is None:
        return tuple(n for n in shape if n != 1)
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    drop = {axis_index("squeeze", d, max(len(shape), 1)) for d in dims}
    return tuple(n for i, n in enumerate(shape) if not (i in drop and n == 1))


def unsqueezed(shape: tuple[int, ...], dim: Any) -> tuple[int, ...]:
    i = axis_index("unsqueeze", dim, len(shape) + 1)
    return shape[:i] + (1,) + shape[i:]


def flattened(shape: tuple[int, ...], start: Any, end: Any) -> tuple[int, ...]:
    if not shape:
        return (1,)
    s, e = axis_index("flatten", start, len(shape)), axis_index("flatten", end, len(shape))
    if s > e:
        raise ShapeError(f"flatten: start_dim {start} comes after end_dim {end} for shape {shape}")
    return shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:]


class Expand(VjpOp):
    name, formulas, vjps = "expand", ("1",), ("g summed over the expanded axes",)
    expr = "x"
    saved_as = "fixed"  # backward reads only the input's shape, and works on arrays and Values alike (sum_to)

    def __init__(self, shape: tuple[int, ...]):
        self.shape = shape

    def forward(self, a: Any):
        old = shape_of(a)
        lead = len(self.shape) - len(old)
        if lead < 0:
            raise ShapeError(f"expand: cannot expand shape {old} to fewer dimensions {self.shape}")
        new = tuple(o if n == -1 and i >= lead else n for i, (n, o) in enumerate(zip(self.shape, (None,) * lead + old)))
        ok = all(isinstance(n, (int, np.integer)) and n >= 0 for n in new) and all(
            o == n or o == 1 for o, n in zip(old, new[lead:]))
        if not ok:
            raise ShapeError(
                f"expand: cannot expand shape {old} to {self.shape}: only axes of size 1 can grow "
                "(and -1 keeps a size); use .repeat-like ops such as tl.cat for other sizes"
            )
        return np.broadcast_to(a, new).copy(), a

    def backward(self, a: Any, g: Any, parents: tuple):
        return (sum_to(g, a),)


class Cat(VjpOp):
    """Concatenate (``stack=False``) or stack (``stack=True``) along ``dim``."""

    formulas = ("1",)
    saved_as = "fixed"  # backward indexes g, which works on arrays and Values alike

    def __init__(self, dim: Any, stack: bool):
        self.dim, self.stack = dim, stack
        self.name = "stack" if stack else "cat"
        self.vjps = (f"the slice of g at this input's place along dim {dim}",)

    def forward(self, *xs: Any):
        shapes = [shape_of(x) for x in xs]
        first = shapes[0]
        if self.stack:
            self.axis = axis_index(self.name, self.dim, len(first) + 1)
            bad = [s for s in shapes if s != first]
            if bad:
                raise ShapeError(f"stack: every Value must have the same shape, got {shapes}; "
                                 "reshape them first or use tl.cat to join along an existing dim")
            return np.stack(xs, axis=self.axis), None
        if not first:
            raise ShapeError("cat: 0-d Values cannot be concatenated; use tl.stack, or .reshape(1) each first")
        self.axis = ax = axis_index(self.name, self.dim, len(first))
        bad = [s for s in shapes if len(s) != len(first) or s[:ax] + s[ax + 1:] != first[:ax] + first[ax + 1:]]
        if bad:
            raise ShapeError(
                f"cat: shapes {shapes} differ outside dim {self.dim}; all but the concatenated "
                "dimension must match (reshape or transpose the odd one out)"
            )
        ends = np.cumsum([s[ax] for s in shapes])
        return np.concatenate(xs, axis=ax), [(int(e - s[ax]), int(e)) for e, s in zip(ends, shapes)]

    def backward(self, spans: Any, g: Any, parents: tuple):
        pre = (slice(None),) * self.axis
        if self.stack:
            return tuple(g[pre + (i,)] for i in range(len(parents)))
        return tuple(g[pre + (slice(lo, hi),)] for lo, hi in spans)
