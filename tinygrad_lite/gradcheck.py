"""``gradcheck``: backprop against central finite differences, in float64."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._state import no_grad
from .errors import GradcheckError
from .value import Value


def _as_leaf(x: Any) -> Value:
    data = x.data if isinstance(x, Value) else x
    data = float(data) if np.ndim(data) == 0 else np.array(data, dtype=np.float64)
    return Value(data, label=x.label if isinstance(x, Value) else "")


def _moved(datas: list[Any], k: int, idx: tuple[int, ...], delta: float) -> list[Any]:
    """The inputs with element ``idx`` of input ``k`` moved by ``delta``."""
    x = np.array(datas[k], dtype=np.float64)
    x[idx] += delta
    trial = list(datas)
    trial[k] = float(x) if type(datas[k]) is float else x
    return trial


def gradcheck(
    fn: Callable[..., Value],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    grad_outputs: Any = None,
) -> bool:
    """Check ``fn``'s backprop gradients against central differences for every input element.

    Inputs are copied to float64 leaves.  A non-scalar output is reduced to
    the number ⟨v, fn(x)⟩ = Σ v·fn(x) before differentiating, with v =
    ``grad_outputs`` if given, else a fixed random normal array (from
    ``seed``), so every output element is checked.  Returns True, or raises
    ``GradcheckError`` with a table of the worst elements: input, index,
    analytic, numeric, error.
    """
    leaves = [_as_leaf(x) for x in inputs]
    out = fn(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: fn must return a Value, got {type(out).__name__}")
    if grad_outputs is not None:
        v = np.asarray(grad_outputs.data if isinstance(grad_outputs, Value) else grad_outputs, dtype=np.float64)
        if v.shape != out.shape:
            raise ValueError(f"gradcheck: grad_outputs has shape {v.shape} but fn's output has shape {out.shape}; "
                             "they must match")
        how = "Σ grad_outputs·fn(x)"
    elif out.size != 1:
        v = np.random.default_rng(seed).standard_normal(out.shape)
        how = f"Σ v·fn(x) with v a random normal array (seed={seed}); pass grad_outputs= to choose v"
    else:
        v, how = None, ""
    out.backward(None if v is None else v)

    def objective(datas: list[Any]) -> float:
        with no_grad():
            y = fn(*[Value(d) for d in datas])
        y = np.asarray(y.data, dtype=np.float64)
        return float(y.reshape(())) if v is None else float(np.sum(v * y))

    rows = []
    datas = [x.data for x in leaves]
    for k, leaf in enumerate(leaves):
        base = np.array(leaf.data, dtype=np.float64)
        analytic = np.asarray(leaf.grad, dtype=np.float64).reshape(base.shape)
        for idx in np.ndindex(base.shape):
            numeric = (objective(_moved(datas, k, idx, eps)) - objective(_moved(datas, k, idx, -eps))) / (2 * eps)
            a = float(analytic[idx])
            err = abs(a - numeric)
            if not (err <= atol + rtol * abs(numeric)) or np.isnan(a) != np.isnan(numeric):
                rows.append((err if np.isfinite(err) else np.inf, k, leaf.label, idx, a, numeric))
    if rows:
        rows.sort(key=lambda r: -r[0])
        lines = [f"{'input':<12}{'index':<12}{'analytic':>16}{'numeric':>16}{'error':>12}"]
        for err, k, label, idx, a, numeric in rows[:10]:
            name = f"{k} ({label})" if label else str(k)
            lines.append(f"{name:<12}{str(idx):<12}{a:>16.8g}{numeric:>16.8g}{err:>12.3g}")
        reduced = f"; fn's output of shape {out.shape} was reduced to {how}" if how else ""
        raise GradcheckError(
            f"gradcheck: {len(rows)} gradient element(s) differ from central differences "
            f"(eps={eps}, atol={atol}, rtol={rtol}{reduced}); worst first:\n" + "\n".join(lines)
        )
    return True
