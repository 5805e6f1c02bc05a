"""Train a small MLP classifier with cross-entropy or MSE, including from a saturated start.

The saturated start (CE recovers from a confidently wrong start, MSE stalls): after a short cross-entropy warm-up
the output layer is negated and scaled by α, chosen so that the median
target probability ŷ_p is below 0.001.  The net begins
confidently wrong; CE's gradient ŷ_p − 1 is then ≈ −1 and learning starts at
once, while MSE's −2ŷ_p(1−ŷ_p)² − … is ≈ 0 and learning stalls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import functional as F
from . import nn, optim
from ._state import no_grad
from .data import DATASETS, batches
from .value import Value

LOSSES = ("ce", "mse")
INITS = ("default", "saturated")


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. the loss became NaN)."""


@dataclass
class History:
    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    grad_zp: list[float] = field(default_factory=list)  # mean ∂L_i/∂z_p over the epoch's samples


def loss_fn(name: str, logits: Value, y: np.ndarray) -> Value:
    """Mean over samples of CE, or of the seed's per-sample MSE Σ_k (ŷ_k − y_k)²."""
    if name == "ce":
        return F.cross_entropy(logits, y, fused=True)
    onehot = np.eye(logits.shape[1], dtype=logits.dtype)[y]
    return F.mse_loss(logits.softmax(-1), onehot, reduction="sum") / len(y)


def build_model(n_classes: int, hidden: int, seed: int) -> nn.MLP:
    return nn.MLP([2, hidden, hidden, n_classes], activation="tanh", rng=seed)


def saturate(model: nn.MLP, X: np.ndarray, y: np.ndarray, target: float = 0.001, seed: int = 0) -> float:
    """Make ``model`` confidently wrong on (X, y); returns the median initial ŷ_p.

    A short cross-entropy warm-up gives the output layer logits that track the
    classes; negating them and scaling by the smallest power of two that
    brings the median ŷ_p below ``target`` (0.001: well past "most ŷ_p < 0.01") makes the net confidently wrong
    without absurdly large logits.
    """
    train("ce", X=X, y=y, epochs=5, model=model, seed=seed)
    head = model.layers[-1]
    with no_grad():
        h = nn.Sequential(*model.layers[:-1])(Value(X)).data
    w, b = head.weight.data.copy(), head.bias.data.copy()
    for alpha in 2.0 ** np.arange(0, 16):
        logits = -alpha * (h @ w.T + b)
        logits -= logits.max(1, keepdims=True)
        yp = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True))[np.arange(len(y)), y]
        if np.median(yp) < target:
            break
    head.weight.data, head.bias.data = -alpha * w, -alpha * b
    return float(np.median(yp))


def train(loss: str = "ce", dataset: str = "moons", init: str = "default", epochs: int = 20,
          lr: float = 0.5, batch_size: int = 32, hidden: int = 16, seed: int = 0,
          model: nn.MLP | None = None, X: np.ndarray | None = None, y: np.ndarray | None = None,
          on_epoch: Callable[[int, History], Any] | None = None) -> tuple[nn.MLP, History]:
    """Train with plain SGD; returns the model and per-epoch loss, accuracy and mean ∂L/∂z_p."""
    if loss not in LOSSES:
        raise ValueError(f"train: unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    if dataset not in DATASETS:
        raise ValueError(f"train: unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    if init not in INITS:
        raise ValueError(f"train: unknown init {init!r}; choose one of {', '.join(INITS)}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"train: epochs must be a positive integer, got {epochs!r}")
    if X is None or y is None:
        X, y = DATASETS[dataset](seed=seed)
    if model is None:
        model = build_model(int(y.max()) + 1, hidden, seed)
        if init == "saturated":
            saturate(model, X, y, seed=seed)
    opt = optim.SGD(model.parameters(), lr=lr)
    hist = History()
    for epoch in range(1, epochs + 1):
        total, grads = 0.0, []
        for xb, yb in batches(X, y, batch_size, seed=seed + epoch):
            logits = model(Value(xb, requires_grad=False))
            L = loss_fn(loss, logits, yb)
            if not np.isfinite(L.item()):
                raise TrainingError(f"train: the loss became {L.item()} in epoch {epoch}; try a lower learning rate (--lr)")
            opt.zero_grad()
            L.backward()
            total += L.item() * len(yb)
            grads.append(logits.grad[np.arange(len(yb)), yb] * len(yb))
            opt.step()
        with no_grad():
            pred = model(Value(X)).data.argmax(1)
        hist.loss.append(total / len(y))
        hist.accuracy.append(float((pred == y).mean()))
        hist.grad_zp.append(float(np.concatenate(grads).mean()))
        if on_epoch is not None:
            on_epoch(epoch, hist)
    return model, hist


def plot_histories(histories: dict[str, History], stem: Path, title: str) -> list[Path]:
    """Loss and accuracy curves side by side as SVG and PNG; [] (with a note) without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        matplotlib.rcParams["svg.hashsalt"] = "tinygrad_lite"  # same SVG bytes on every run
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib (a dependency) is missing: pip install matplotlib for the plot; the CSV has the curves")
        return []
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
    for loss, h in histories.items():
        epochs = range(1, len(h.loss) + 1)
        a1.plot(epochs, h.loss, label=loss)
        a2.plot(epochs, h.accuracy, label=loss)
    a1.set(xlabel="epoch", ylabel="loss", title="loss", yscale="log")
    a2.set(xlabel="epoch", ylabel="accuracy", title=f"accuracy ({title})", ylim=(0, 1.02))
    a2.legend()
    fig.tight_layout()
    paths = []
    for ext in ("svg", "png"):
        path = stem.with_suffix(f".{ext}")
        fig.savefig(path, dpi=110, metadata={"Date": None} if ext == "svg" else {"Software": None})
        paths.append(path)
    plt.close(fig)
    return paths
