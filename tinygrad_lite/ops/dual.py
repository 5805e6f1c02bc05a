"""What a VJP backward needs, for NumPy data and for Values alike.

A tensor op's ``backward`` is written once, in operations both kinds support
(``*``, ``+``, ``@``, ``.sum``, ``.reshape``, indexing), plus the few helpers
here for what NumPy and Values spell differently.  The ordinary backward pass
hands it arrays; ``backward(create_graph=True)`` hands it Values, so the same
code builds the gradient as a graph (see ``tinygrad_lite.second_order``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import exp as _exp_data
from .base import unbroadcast


def is_data(x: Any) -> bool:
    """A float or an array (the ordinary backward), rather than a Value."""
    t = type(x)
    return t is np.ndarray or t is float or isinstance(x, (np.ndarray, np.generic, bool, int))


def _value_op(op: Any, x: Any) -> Any:
    from ..value import _unary  # value imports ops: resolved at call time

    return _unary(op, x)


# Each helper tests for an ndarray first: the ordinary backward pays one type check.

def rsum(x: Any, axis: int) -> Any:
    """Sum over one axis, keeping it."""
    if type(x) is np.ndarray or is_data(x):
        return np.add.reduce(x, axis=axis, keepdims=True)
    return x.sum(axis=axis, keepdims=True)


def exp(x: Any) -> Any:
    if type(x) is np.ndarray:
        return np.exp(x)
    return _exp_data(x) if is_data(x) else x.exp()


def reshape(x: Any, shape: tuple[int, ...]) -> Any:
    if type(x) is np.ndarray:
        return x.reshape(shape)
    if type(x) is float:
        return x if shape == () else np.full(shape, x)
    if is_data(x):
        return np.reshape(x, shape)
    return x if x.shape == tuple(shape) else x.reshape(shape)


def permute(x: Any, perm: tuple[int, ...]) -> Any:
    """Axes reordered: output axis k is input axis ``perm[k]``."""
    if type(x) is np.ndarray:
        return np.transpose(x, perm)
    if type(x) is float or tuple(perm) == tuple(range(len(perm))):
        return x
    if is_data(x):
        return np.transpose(x, perm)
    from .tensor import Transpose

    return _value_op(Transpose(tuple(perm)), x)


def swap_last(x: Any) -> Any:
    """The last two axes swapped (a batched transpose)."""
    if type(x) is np.ndarray:
        return x.swapaxes(-1, -2)  # the method: np.swapaxes adds a Python-level dispatch
    nd = len(np.shape(x)) if is_data(x) else x.ndim
    return permute(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def unsqueeze(x: Any, axes: tuple[int, ...]) -> Any:
    """Size-1 axes put back at ``axes`` (positions in the result), as ``np.expand_dims``."""
    if type(x) is np.ndarray:
        return np.expand_dims(x, axes)
    shape = list(np.shape(x) if is_data(x) else x.shape)
    for ax in sorted(a % (len(shape) + len(axes)) for a in axes):
        shape.insert(ax, 1)
    return reshape(x, tuple(shape))


def broadcast_to(x: Any, shape: tuple[int, ...], dtype: Any) -> Any:
    """``x`` copied over ``shape``; for a Value, added to zeros so the copy is an ordinary node."""
    if type(x) is np.ndarray:
        return x if x.shape == shape else np.broadcast_to(x, shape)
    if is_data(x):
        return x if np.shape(x) == tuple(shape) else np.broadcast_to(x, shape)
    if x.shape == tuple(shape):
        return x
    return x + np.zeros(shape, dtype=dtype)  # add's backward sums back over the copies


def sum_to(c: Any, like: Any) -> Any:
    """``c`` summed over the axes it was broadcast along, to the shape of ``like`` (data or Value)."""
    if type(c) is np.ndarray or is_data(c):
        return unbroadcast(c, like if type(like) is np.ndarray or is_data(like) else like.data)
    shape = () if type(like) is float else tuple(like.shape)
    if c.shape == shape:
        return c
    lead = c.ndim - len(shape)
    if lead:
        c = c.sum(axis=tuple(range(lead)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and c.shape[i] != 1)
    if ones:
        c = c.sum(axis=ones, keepdims=True)
    return c


def scatter_add(g: Any, index: Any, shape: tuple[int, ...], dtype: Any, advanced: bool) -> Any:
    """Zeros of ``shape`` with ``g`` added at ``index`` (the backward of indexing)."""
    if type(g) is np.ndarray or is_data(g):
        grad = np.zeros(shape, dtype=dtype)
        if advanced:
            np.add.at(grad, index, g)  # repeated indices each add their share
        else:
            grad[index] = g
        return grad
    from .tensor import ScatterAdd

    return _value_op(ScatterAdd(index, shape, advanced), g)
