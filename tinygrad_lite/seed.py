"""The seed articles' examples as graphs, with their closed-form gradients.

``softmax_example("ce" | "mse")`` and ``sigmoid_example("bce" | "mse")`` build
the graphs; ``closed_forms`` and ``sigmoid_closed_forms`` give the gradients the
articles derive by hand; ``sweep_point(q)`` makes logits with ŷ_p = q.  The CLI,
the examples, the docs and the tests all use them, so they show the same numbers.
"""

from __future__ import annotations

import numpy as np

from . import functional as F
from .value import Value

# 3 classes, target p = 0, and a prediction that is clearly wrong-ish (ŷ_p ≈ 0.11).
LOGITS = (0.5, 2.5, 1.0)
TARGET = 0
# One sigmoid unit ŷ = σ(w·x + b) with label y = 1, confidently wrong (ŷ ≈ 0.05).
W, X, B, Y = -1.5, 2.0, 0.0, 1.0


def softmax_example(loss: str, logits: tuple[float, ...] = LOGITS, target: int = TARGET):
    """(z, ŷ, L) for one sample: softmax then CE (−log ŷ_p) or MSE Σ_k (ŷ_k − y_k)²."""
    z = [Value(v, label=f"z{i}") for i, v in enumerate(logits)]
    probs = F.softmax(z)
    for i, p in enumerate(probs):
        p.label = f"ŷ{i}"
    if loss == "ce":
        L = -probs[target].log()
    elif loss == "mse":
        L = F.mse_loss(probs, np.eye(len(z))[target], reduction="sum")
    else:
        raise ValueError(f"softmax_example: loss must be 'ce' or 'mse', got {loss!r}")
    L.label = "L"
    return z, probs, L


def sigmoid_example(loss: str, w: float = W, x: float = X, b: float = B, y: float = Y):
    """(w, ŷ, L) for ŷ = σ(w·x + b): BCE −[y log ŷ + (1−y) log(1−ŷ)] or MSE (ŷ − y)²."""
    wv, bv = Value(w, label="w"), Value(b, label="b")
    zv = wv * x + bv
    zv.label = "z"
    s = zv.sigmoid()
    s.label = "σ"
    if loss == "bce":
        L = F.binary_cross_entropy([s], [y])
    elif loss == "mse":
        L = F.mse_loss([s], [y], reduction="sum")
    else:
        raise ValueError(f"sigmoid_example: loss must be 'bce' or 'mse', got {loss!r}")
    L.label = "L"
    return wv, s, L


# A batch of N = 4 samples over the same 3 classes; row 0 is the single-sample example above.
BATCH_LOGITS = (LOGITS, (2.0, 1.0, 0.1), (-1.0, 0.0, 3.0), (0.3, 0.2, 0.1))
BATCH_TARGETS = (TARGET, 0, 2, 1)


def batch_example(loss: str, logits: tuple = BATCH_LOGITS, targets: tuple = BATCH_TARGETS):
    """(Z, y, ℓ) for a batch: ℓ = (1/N) Σ_i L_i, with L_i the CE or the MSE Σ_k (ŷ_ik − y_ik)² of row i."""
    Z = Value(np.array(logits, dtype=np.float64), label="Z")
    y = np.array(targets)
    if loss == "ce":
        L = F.cross_entropy(Z, y)
    elif loss == "mse":
        L = (Z.softmax(-1) - np.eye(Z.shape[1])[y]).square().sum(axis=1).mean()
    else:
        raise ValueError(f"batch_example: loss must be 'ce' or 'mse', got {loss!r}")
    L.label = "ℓ"
    return Z, y, L


def closed_forms(yhat: np.ndarray, target: int) -> dict[str, np.ndarray]:
    """∂L/∂z from the seed articles: CE ŷ − y; MSE 2ŷ_k(ŷ_k − y_k) − 2ŷ_k Σ_j ŷ_j(ŷ_j − y_j)."""
    y = np.eye(len(yhat))[target]
    d = 2 * (yhat - y)  # ∂L/∂ŷ for MSE
    return {"ce": yhat - y, "mse": yhat * (d - np.dot(d, yhat))}


def sweep_point(q: float, k: int = 3) -> tuple[float, ...]:
    """Logits whose softmax gives ŷ_p = q for class 0 and spreads 1 − q evenly over the rest."""
    rest = (1 - q) / (k - 1)
    return (float(np.log(q)),) + (float(np.log(rest)),) * (k - 1)


def sigmoid_closed_forms(s: float, x: float = X, y: float = Y) -> dict[str, dict[str, float]]:
    """∂L/∂w and ∂L/∂b for ŷ = σ(w·x + b) = s: BCE (ŷ − y)·x, (ŷ − y); MSE 2(ŷ − y)σ(1−σ)·x, 2(ŷ − y)σ(1−σ)."""
    mse = 2 * (s - y) * s * (1 - s)
    return {"bce": {"w": (s - y) * x, "b": s - y}, "mse": {"w": mse * x, "b": mse}}
