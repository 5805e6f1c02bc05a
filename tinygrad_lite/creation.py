"""Values made from a shape, as PyTorch's ``zeros``, ``randn``, ...; and the one random generator.

Every creation function gives a leaf with ``requires_grad=False`` unless asked
(as PyTorch), float64 unless ``dtype=np.float32``.  ``manual_seed`` seeds the
generator that ``rand``/``randn`` and the initialisation of new layers share.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .value import Value


class _Generator:
    """Holds the process-wide NumPy generator (replaced, not reseeded, by ``manual_seed``)."""

    rng = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Seed the generator behind ``tl.rand``/``tl.randn`` and new layers' weights (as ``torch.manual_seed``)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: the seed must be a non-negative int, got {seed!r}")
    _Generator.rng = np.random.default_rng(int(seed))


def generator() -> np.random.Generator:
    """The generator ``manual_seed`` seeds."""
    return _Generator.rng


def _shape(fn: str, size: tuple[Any, ...]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"{fn}: sizes must be non-negative ints, got {size!r} (e.g. {fn}(2, 3) or {fn}((2, 3)))")
    return tuple(int(n) for n in size)


def _dtype(fn: str, dtype: Any) -> np.dtype:
    dt = np.dtype(np.float64 if dtype is None else dtype)
    if dt.kind != "f":
        raise TypeError(f"{fn}: dtype must be a float type (np.float64 or np.float32), got {dt}")
    return dt


def _maker(name: str, fill: Any, doc: str) -> Any:
    """``name(*size, dtype=None, requires_grad=False, label="")``: a leaf of that shape made by ``fill``."""

    def make(*size: Any, dtype: Any = None, requires_grad: bool = False, label: str = "") -> Value:
        return Value(fill(_shape(name, size), _dtype(name, dtype)), label=label, requires_grad=requires_grad)

    make.__name__ = make.__qualname__ = name
    make.__doc__ = doc
    return make


zeros = _maker("zeros", np.zeros, "A Value of zeros of the given shape, e.g. ``tl.zeros(2, 3)``.")
ones = _maker("ones", np.ones, "A Value of ones of the given shape.")
rand = _maker("rand", lambda shape, dt: generator().random(shape).astype(dt, copy=False),
              "Uniform on [0, 1), from the generator ``manual_seed`` seeds.")
randn = _maker("randn", lambda shape, dt: generator().standard_normal(shape).astype(dt, copy=False),
               "Standard normal, from the generator ``manual_seed`` seeds.")


def full(size: Any, fill_value: float, *, dtype: Any = None, requires_grad: bool = False, label: str = "") -> Value:
    if isinstance(fill_value, bool) or not isinstance(fill_value, numbers.Real):
        raise TypeError(f"full: fill_value must be a number, got {fill_value!r}")
    shape = _shape("full", size if isinstance(size, (tuple, list)) else (size,))
    return Value(np.full(shape, float(fill_value), _dtype("full", dtype)), label=label, requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: Any = None,
           requires_grad: bool = False, label: str = "") -> Value:
    """start, start + step, … up to but excluding ``end`` (``arange(n)``: 0 … n − 1), as float values."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must not be 0")
    return Value(np.arange(start, end, step, dtype=_dtype("arange", dtype)), label=label, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, requires_grad: bool = False, label: str = "") -> Value:
    rows, cols = _shape("eye", (n, n if m is None else m))
    return Value(np.eye(rows, cols, dtype=_dtype("eye", dtype)), label=label, requires_grad=requires_grad)


def _like(name: str, base: Any) -> Any:
    def make(v: Any, *, dtype: Any = None, requires_grad: bool = False, label: str = "") -> Value:
        like = v.data if isinstance(v, Value) else np.asarray(v)
        kind = np.asarray(like).dtype
        dt = dtype if dtype is not None else (kind if kind.kind == "f" else None)
        return base(*np.shape(like), dtype=dt, requires_grad=requires_grad, label=label)

    make.__name__ = make.__qualname__ = name
    make.__doc__ = f"``tl.{base.__name__}`` of the shape (and float dtype) of ``v``."
    return make


zeros_like, ones_like = _like("zeros_like", zeros), _like("ones_like", ones)
