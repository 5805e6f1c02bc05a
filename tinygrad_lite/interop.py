"""NumPy functions applied to a Value: refused with the tinygrad_lite spelling (``__array_function__``).

Without this, NumPy treats a Value as a sequence and silently builds an
object array of per-element Values, which fails much later and far away.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_JOIN = "tl.cat(values, dim=0)"
HINTS = {
    "concatenate": _JOIN, "hstack": _JOIN, "vstack": _JOIN, "append": _JOIN, "column_stack": "tl.stack(values, dim=1)",
    "stack": "tl.stack(values, dim=0)", "where": "tl.where(cond, a, b)",
    "sum": "v.sum(dim)", "mean": "v.mean(dim)", "max": "v.max(dim)", "amax": "v.max(dim)", "min": "v.min(dim)",
    "amin": "v.min(dim)", "clip": "v.clamp(min, max)", "var": "v.var(dim)", "std": "v.std(dim)",
    "transpose": "v.transpose(dim0, dim1) or v.permute(*dims)", "reshape": "v.reshape(*shape)",
    "squeeze": "v.squeeze(dim)", "expand_dims": "v.unsqueeze(dim)", "ravel": "v.flatten()",
    "broadcast_to": "v.expand(*shape)", "argmax": "v.argmax(dim)", "argmin": "v.argmin(dim)",
    "dot": "a @ b", "inner": "(a * b).sum(-1)", "zeros_like": "tl.zeros_like(v)", "ones_like": "tl.ones_like(v)",
    "full_like": "tl.full(v.shape, fill_value)", "copy": "v.detach()", "diff": "v[1:] - v[:-1]",
}


UFUNC_HINTS = {
    "exp": "v.exp()", "log": "v.log()", "log1p": "v.log1p()", "sqrt": "v.sqrt()", "tanh": "v.tanh()",
    "sin": "v.sin()", "cos": "v.cos()", "abs": "v.abs()", "absolute": "v.abs()", "square": "v.square()",
    "negative": "-v", "maximum": "tl.maximum(a, b)", "minimum": "tl.minimum(a, b)", "clip": "v.clamp(min, max)",
}

# `array <op> value` reaches the Value as this ufunc; the Value's reflected operator answers it.
_REFLECTED = {
    np.add: "__radd__", np.subtract: "__rsub__", np.multiply: "__rmul__", np.true_divide: "__rtruediv__",
    np.matmul: "__rmatmul__", np.power: "__rpow__", np.less: "__gt__", np.less_equal: "__ge__",
    np.greater: "__lt__", np.greater_equal: "__le__", np.equal: "__eq__", np.not_equal: "__ne__",
    np.bitwise_and: "__rand__", np.bitwise_or: "__ror__", np.bitwise_xor: "__rxor__",
}


def array_ufunc(value: Any, ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
    """``array * v`` and friends become the Value's own operators; other ufuncs are refused with a hint."""
    name = ufunc.__name__
    if method == "__call__" and len(inputs) == 2 and inputs[1] is value and ufunc in _REFLECTED:
        if "out" in kwargs:
            raise TypeError(f"an in-place {name} would store a Value inside a NumPy array; "
                            "write a = a <op> v (a new Value) instead of a <op>= v")
        if not kwargs:
            return getattr(value, _REFLECTED[ufunc])(inputs[0])
    hint = UFUNC_HINTS.get(name)
    todo = f"use {hint}" if hint else f"use the Value's method, or np.{name}(v.data) for plain numbers"
    raise TypeError(
        f"np.{name} was given a Value: NumPy functions do not record the graph; {todo} "
        "(np.asarray(v) or v.data gives the numbers, without a gradient)"
    )


def array_function(func: Any, args: tuple, kwargs: dict) -> Any:
    """Shape queries answer from the Value; every other NumPy function is refused with a hint."""
    name = func.__name__
    if name in ("shape", "ndim") and args:
        return getattr(args[0], name)
    if name == "size" and args:
        axis = kwargs.get("axis", args[1] if len(args) > 1 else None)
        return args[0].size if axis is None else args[0].shape[axis]
    hint = HINTS.get(name)
    todo = (f"use {hint}" if hint else
            f"use the Value's method where there is one (v.{name}(...)), or np.{name}(v.data) for plain numbers")
    raise TypeError(
        f"np.{name} was given a Value: NumPy functions do not record the graph; {todo} "
        "(np.asarray(v) or v.data gives the numbers, without a gradient)"
    )
