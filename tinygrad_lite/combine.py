"""Functions of several Values: ``tl.cat``, ``tl.stack``, ``tl.where``, ``tl.maximum``, ``tl.minimum``."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import ops
from .errors import ShapeError
from .value import Value, _lift, _node, maximum, minimum


def _join(name: str, values: Sequence[Any], dim: int, stack: bool) -> Value:
    if isinstance(values, Value) or not isinstance(values, (list, tuple)):
        raise TypeError(f"{name}: takes a list or tuple of Values, e.g. tl.{name}([a, b], dim=0), "
                        f"got {type(values).__name__}")
    if not values:
        raise ValueError(f"{name}: got an empty list; pass at least one Value")
    vals = tuple(_lift(v, name) for v in values)
    op = ops.Cat(dim, stack)
    out, saved = op.forward(*(v.data for v in vals))
    return _node(op, out, saved, vals, any(v.requires_grad for v in vals))


def cat(values: Sequence[Any], dim: int = 0) -> Value:
    """Join Values along an existing axis ``dim`` (all other sizes must match), as ``torch.cat``."""
    return _join("cat", values, dim, stack=False)


def stack(values: Sequence[Any], dim: int = 0) -> Value:
    """Join Values of one shape along a new axis ``dim``, as ``torch.stack``."""
    return _join("stack", values, dim, stack=True)


def where(cond: Any, a: Any, b: Any) -> Value:
    """``a`` where ``cond`` holds, else ``b`` (broadcast together); the gradient goes only to the side chosen."""
    c = cond.data if isinstance(cond, Value) else np.asarray(cond)
    if np.asarray(c).dtype != np.bool_:
        raise TypeError(f"where: cond must be boolean (e.g. x > 0), got dtype {np.asarray(c).dtype}; "
                        "compare first, e.g. tl.where(x > 0, x, 0.0)")
    a, b = _lift(a, "where"), _lift(b, "where")
    try:
        np.broadcast_shapes(np.shape(c), a.shape, b.shape)
    except ValueError:
        raise ShapeError(
            f"where: cond of shape {np.shape(c)}, a of shape {a.shape} and b of shape {b.shape} cannot be "
            "broadcast together; reshape one of them"
        ) from None
    op = ops.Where(np.asarray(c))
    out, local = op.forward(a.data, b.data)
    return _node(op, out, local, (a, b), a.requires_grad or b.requires_grad)


__all__ = ["cat", "stack", "where", "maximum", "minimum"]
