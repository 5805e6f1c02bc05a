"""What every op is made of, and the helpers ops share.

An op holds, side by side, its forward, its backward and the formula of its
local derivative.  There are two kinds:

* ``LocalOp`` — the backward is ``grad * local`` per parent (elementwise ops,
  and the scalar softmax).  ``forward`` returns the output and the tuple of
  local derivatives ∂out/∂parent, which is stored on the node: it is exactly
  what a drawn edge shows and what ``backprop_steps`` reports.
* ``VjpOp`` — the backward is a vector-Jacobian product (matmul, reductions,
  reshapes, indexing, tensor softmax); ``forward`` returns the output and
  whatever ``backward`` needs.

A Python number operand (``x * 2.0``, ``1 - x``, ``x ** 2``) is not a node.  A
binary LocalOp that allows it has ``numbered = (x ∘ c, c ∘ x)``, two ``NumberOp``s
(see ``elementwise.with_numbers``): one parent, the number kept on the node, and
templates naming it ``c``.  Their forward is the binary op's ``forward_number(x, c,
first) -> (out, local)``: by default ``forward`` with c in place, keeping the Value
operand's local (not in a tuple: the node stores it as it is).  A new binary op
gets number operands by defining ``forward`` and calling ``with_numbers`` on it.

``formula(i)`` is the local derivative with respect to parent ``i`` as a
template in SymPy syntax over the names ``x`` (parent 0), ``y`` (parent 1),
``c`` (a number operand) and ``out`` (this node's value); display code and
``explain`` substitute node labels or symbols into it, so no derivative is
written twice.  ``expr`` is the output as such a template, and ``label(c)``
what a drawing writes in the node (the op's name, or e.g. ``× 2``).

How a node stores what its op gave it is described in one place, ``Value``.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import numpy as np

from .._state import user_stacklevel
from ..errors import NonFiniteWarning, ShapeError

# Local derivative of exactly 1: the gradient passes through without a multiply.
ONE = 1.0


class Op:
    """Base of all ops.  Stateless ops are shared singletons; others hold attributes."""

    name: str = ""
    # Per-parent local-derivative templates (see module docstring).
    formulas: tuple[str, ...] = ()
    # The output as a template over x, y (None: the output stays a symbol of its own).
    expr: str | None = None
    # A binary op that takes a number operand into itself: its NumberOps (x ∘ c, c ∘ x).
    numbered: tuple[Any, Any] | None = None

    def formula(self, i: int) -> str:
        return self.formulas[i] if i < len(self.formulas) else self.formulas[-1]

    def label(self, number: float | None = None) -> str:
        """What a drawing writes in the node: the op's name (``NumberOp`` adds its number)."""
        return self.name

    def __repr__(self) -> str:
        return self.name


class LocalOp(Op):
    """Backward is ``grad * local`` for each parent; locals are saved by forward."""

    uses_locals = True

    def forward(self, *xs: Any) -> tuple[Any, tuple[Any, ...]]:
        raise NotImplementedError

    def forward_number(self, a: Any, c: float, first: bool) -> tuple[Any, Any]:
        """``forward`` with one operand the number ``c`` (the left one if ``first``).

        Returns the output and the local derivative of the other (Value) operand.
        """
        if first:
            out, locals_ = self.forward(c, a)
            return out, locals_[1]
        out, locals_ = self.forward(a, c)
        return out, locals_[0]


class VjpOp(Op):
    """Backward is a vector-Jacobian product computed from what forward saved."""

    uses_locals = False
    # How the VJP reads, per parent, shown where a number cannot be (tensors).
    vjps: tuple[str, ...] = ()

    def forward(self, *xs: Any) -> tuple[Any, Any]:
        raise NotImplementedError

    def backward(self, saved: Any, g: Any, parents: tuple) -> tuple[Any, ...]:
        """Gradient contribution for each parent (``None`` where there is none)."""
        raise NotImplementedError

    def vjp(self, i: int) -> str:
        return self.vjps[i] if i < len(self.vjps) else self.vjps[-1]


# ---------------------------------------------------------------- helpers

def shape_of(x: Any) -> tuple[int, ...]:
    return () if type(x) is float else x.shape


def unbroadcast(c: Any, like: Any) -> Any:
    """Sum ``c`` down to the shape of ``like`` and give it ``like``'s dtype.

    An operand that was broadcast was used at every position it was copied
    to, so by the multivariate chain rule its gradient is the sum over those
    positions: over the leading axes it lacked and over its size-1 axes.
    """
    if type(like) is float:
        return float(np.sum(c)) if type(c) is not float else c
    if type(c) is float:
        return np.full(like.shape, c, dtype=like.dtype)
    if c.shape != like.shape:
        lead = c.ndim - like.ndim
        if lead == 1 and c.ndim == 2:  # a bias's gradient: the rows summed, as a BLAS product with ones
            c = _ones(c.shape[0], c.dtype) @ c  # (about twice as fast as add.reduce over axis 0)
        elif lead:
            c = np.add.reduce(c, axis=0 if lead == 1 else tuple(range(lead)))
        if c.shape != like.shape:
            ones = tuple(i for i, n in enumerate(like.shape) if n == 1 and c.shape[i] != 1)
            c = np.add.reduce(c, axis=ones, keepdims=True)
    if c.dtype != like.dtype:
        c = c.astype(like.dtype)
    return c


@functools.lru_cache(maxsize=32)
def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of n ones (``unbroadcast`` sums rows with it)."""
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


def number_text(c: float) -> str:
    """A number operand as the user most likely wrote it: 2.0 → ``2``, 0.1 → ``0.1``."""
    return str(int(c)) if c.is_integer() and abs(c) < 1e16 else repr(c)


def number_literal(c: float) -> str:
    """A number operand for SymPy: exact where it is an integer or a simple fraction.

    2.0 → ``2`` and 0.5 → ``1/2`` (exactly those numbers in binary); 0.1, which
    is not exactly 1/10 as a float, stays a float literal.
    """
    if math.isfinite(c):
        num, den = c.as_integer_ratio()
        if den <= 1024 and abs(num) < 10**16:
            return str(num) if den == 1 else f"{num}/{den}"
    return repr(c) if math.isfinite(c) else ("nan" if math.isnan(c) else ("oo" if c > 0 else "-oo"))


def warn_nonfinite(op: str, what: str) -> None:
    warnings.warn(f"{op}: {what}", NonFiniteWarning, stacklevel=user_stacklevel())


def surely_finite(x: Any) -> bool:
    """True only if every element of ``x`` is finite; one BLAS pass (x·x), so an op can skip
    its careful path.  False also for finite values so large that x·x overflows."""
    return math.isfinite(x) if type(x) is float else math.isfinite(np.vdot(x, x))


def has(mask: Any) -> bool:
    return bool(mask) if isinstance(mask, (bool, np.bool_)) else bool(mask.any())


def broadcast_error(op: str, a: Any, b: Any) -> ShapeError:
    return ShapeError(
        f"{op}: operands of shapes {shape_of(a)} and {shape_of(b)} cannot be broadcast "
        "together (NumPy rules: trailing dimensions must be equal or 1). "
        "Reshape one of them, e.g. with .reshape(...) or [:, None]."
    )


def scalar_or_array(fn_math, fn_np):
    """One elementwise function for Python floats (math, fast) and arrays (NumPy)."""

    def f(x: Any) -> Any:
        return fn_math(x) if type(x) is float else fn_np(x)

    return f


exp = scalar_or_array(lambda x: math.exp(x) if x < 709.78 else math.inf, np.exp)
tanh = scalar_or_array(math.tanh, np.tanh)
