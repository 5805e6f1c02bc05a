"""Curvature in the logits, by backprop twice: why cross-entropy is convex in z and softmax + MSE is not.

For the seed example (3 classes, target p), ``tl.hessian`` differentiates the
gradient graph once more.  Cross-entropy's Hessian is diag(ŷ) − ŷŷᵀ, the
same for every target, and positive semi-definite everywhere.  Softmax + MSE's
Hessian gets a negative eigenvalue once the prediction is wrong enough: along
the sweep (ŷ_p = q, the rest spread evenly over the other classes) its
eigenvalues are 0, (1−q)²(3q+1)/2 and 9q(1−q)²(3q−1)/2, negative for q < 1/3.
SymPy checks both closed forms; the numbers come from backprop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import functional as F
from . import seed
from .second_order import hessian
from .value import Value

SWEEP = (0.9, 0.5, 0.4, 1 / 3, 0.3, 0.1, 0.01, 0.001)


def loss_fn(loss: str, target: int = seed.TARGET, k: int = 3) -> Callable[[list[Value]], Value]:
    """The seed losses as functions of K scalar logits: CE −log ŷ_p, MSE Σ_k (ŷ_k − y_k)²."""
    if loss == "ce":
        return lambda zs: -F.softmax(zs)[target].log()
    if loss == "mse":
        onehot = np.eye(k)[target]
        return lambda zs: F.mse_loss(F.softmax(zs), onehot, reduction="sum")
    raise ValueError(f"loss_fn: loss must be 'ce' or 'mse', got {loss!r}")


def logit_hessian(loss: str, logits: tuple[float, ...] = seed.LOGITS, target: int = seed.TARGET) -> np.ndarray:
    """∂²L/∂z∂z by backprop through the gradient graph (``tl.hessian``)."""
    return hessian(loss_fn(loss, target, len(logits)), list(logits))


def softmax_of(logits: tuple[float, ...]) -> np.ndarray:
    e = np.exp(np.asarray(logits) - np.max(logits))
    return e / e.sum()


def ce_closed_form(yhat: np.ndarray) -> np.ndarray:
    """diag(ŷ) − ŷŷᵀ: cross-entropy's Hessian in the logits, whatever the target."""
    return np.diag(yhat) - np.outer(yhat, yhat)


def curvatures(H: np.ndarray) -> np.ndarray:
    """Eigenvalues of H across the directions that change ŷ (all but 1 = (1, …, 1), along which ŷ is fixed)."""
    k = len(H)
    basis = np.linalg.qr(np.eye(k) - 1.0 / k)[0][:, : k - 1]
    return np.linalg.eigvalsh(basis.T @ H @ basis)


@dataclass
class SweepRow:
    yhat_p: float
    ce: np.ndarray  # curvatures of CE's Hessian (smallest first)
    mse: np.ndarray


def sweep(qs: tuple[float, ...] = SWEEP, k: int = 3, target: int = 0) -> list[SweepRow]:
    """Both Hessians' curvatures as ŷ_p = q falls, the wrong mass spread evenly."""
    rows = []
    for q in qs:
        z = seed.sweep_point(q, k)
        rows.append(SweepRow(q, curvatures(logit_hessian("ce", z, target)), curvatures(logit_hessian("mse", z, target))))
    return rows


def mse_threshold(k: int = 3, tol: float = 1e-13) -> float:
    """The ŷ_p below which softmax + MSE's Hessian has a negative curvature (bisection on backprop's Hessian)."""
    def lowest(q: float) -> float:
        return float(curvatures(logit_hessian("mse", seed.sweep_point(q, k), 0))[0])

    lo, hi = 1e-3, 1 - 1e-3
    if not (lowest(lo) < 0 < lowest(hi)):
        raise ValueError(f"mse_threshold: no sign change of the curvature between ŷ_p = {lo} and {hi} for k = {k}")
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if lowest(mid) < 0 else (lo, mid)
    return 0.5 * (lo + hi)


def symbolic_ce_hessian_is_closed_form(k: int = 3, target: int = 0) -> bool:
    """SymPy: the Hessian of −log softmax(z)_p is exactly diag(ŷ) − ŷŷᵀ."""
    import sympy

    z = sympy.symbols(f"z0:{k}", real=True)
    e = [sympy.exp(v) for v in z]
    y = [v / sum(e) for v in e]
    H = sympy.hessian(-sympy.log(y[target]), z)
    closed = sympy.diag(*y) - sympy.Matrix(y) * sympy.Matrix(y).T
    return all(sympy.simplify(d) == 0 for d in H - closed)


def symbolic_mse_sweep_curvatures() -> list:
    """SymPy: the eigenvalues of softmax + MSE's Hessian along the 3-class sweep, as functions of q = ŷ_p."""
    import sympy

    q = sympy.symbols("q", positive=True)
    z = sympy.symbols("z0:3", real=True)
    e = [sympy.exp(v) for v in z]
    y = [v / sum(e) for v in e]
    L = sum((y[i] - (1 if i == 0 else 0)) ** 2 for i in range(3))
    rest = sympy.log((1 - q) / 2)
    H = sympy.simplify(sympy.hessian(L, z).subs({z[0]: sympy.log(q), z[1]: rest, z[2]: rest}))
    return sorted((sympy.factor(ev) for ev in H.eigenvals()), key=sympy.default_sort_key)


def _clean(x: float) -> float:
    return float(np.round(x, 12)) + 0.0  # no "−0.00000" for a rounding-error zero


def _row(label: str, v: np.ndarray) -> str:
    return f"  {label:<4}" + "  ".join(f"{_clean(x):>9.5f}" for x in v)


def report() -> str:
    """The teaching piece as text: both Hessians at the seed point, the sweep, the threshold, SymPy's checks."""
    yhat = softmax_of(seed.LOGITS)
    H_ce, H_mse = logit_hessian("ce"), logit_hessian("mse")
    lines = [f"Curvature in the logits (backprop twice, tl.hessian) at z = {list(seed.LOGITS)}, p = {seed.TARGET}:"]
    for name, H in (("CE", H_ce), ("MSE", H_mse)):
        lines.append(f" {name} Hessian ∂²L/∂z²:")
        lines += [_row("", r) for r in H]
        lines.append(f"  eigenvalues {[_clean(round(x, 5)) for x in np.linalg.eigvalsh(H)]}")
    diff = float(np.max(np.abs(H_ce - ce_closed_form(yhat))))
    lines.append(f" CE's Hessian = diag(ŷ) − ŷŷᵀ (largest difference {diff:.1e}); "
                 f"SymPy confirms it symbolically: {symbolic_ce_hessian_is_closed_form()}")
    lines.append("\n Sweep as ŷ_p falls (rest spread evenly): smallest curvature of each Hessian")
    lines.append(f"  {'ŷ_p':>7}  {'CE':>9}  {'MSE':>9}")
    for row in sweep():
        lines.append(f"  {row.yhat_p:>7.4g}  {_clean(row.ce[0]):>9.5f}  {_clean(row.mse[0]):>9.5f}"
                     + ("   ← MSE not convex here" if row.mse[0] < -1e-12 else ""))
    evs = ", ".join(str(ev) for ev in symbolic_mse_sweep_curvatures())
    lines.append(f"  → CE stays positive semi-definite (convex in z); MSE gets a negative eigenvalue once "
                 f"ŷ_p < {mse_threshold():.6f} (bisection), i.e. 1/3.")
    lines.append(f"  SymPy, MSE's eigenvalues along the sweep with q = ŷ_p: {evs}")
    return "\n".join(lines)
