"""How long explaining one tensor element takes (issue 15 target: each under 1 s).

Unrolling, the gradient check against the tensor graph, the SymPy paths and the
matrix-form check are all included; SymPy's import is not (one warm-up call).
Run: python benchmarks/explain_bench.py [--quick]
"""

from __future__ import annotations

import sys

import numpy as np
from _timing import median_time

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tinygrad_lite import nn


def batched_ce(n: int = 8, k: int = 10) -> tuple[tl.Value, tl.Value, np.ndarray]:
    """Cross-entropy of N = 8 samples over K = 10 classes, on logits Z."""
    rng = np.random.default_rng(0)
    Z = tl.Value(rng.normal(size=(n, k)), label="Z")
    y = rng.integers(0, k, size=n)
    L = F.cross_entropy(Z, y)
    L.label = "L"
    return L, Z, y


def mlp_ce(n: int = 8) -> tuple[tl.Value, tl.Value]:
    """A 2-16-2 MLP (ReLU) on 8 samples, cross-entropy; returns the loss and the first weight."""
    rng = np.random.default_rng(1)
    model = nn.MLP([2, 16, 2])
    X = tl.Value(rng.normal(size=(n, 2)), label="X", requires_grad=False)
    y = rng.integers(0, 2, size=n)
    L = F.cross_entropy(model(X), y)
    L.label = "L"
    return L, model.parameters()[0]


def main() -> None:
    repeat = 1 if "--quick" in sys.argv else 5
    L, Z, y = batched_ce()
    target = (0, int(y[0]))
    other = (0, (int(y[0]) + 1) % Z.shape[1])
    ce_t = median_time(lambda: tl.explain(L, Z, index=target), repeat)
    ce_o = median_time(lambda: tl.explain(L, Z, index=other), repeat)
    M, W = mlp_ce()
    w_index = (0,) * W.ndim
    mlp = median_time(lambda: tl.explain(M, W, index=w_index), repeat)
    n_nodes = tl.unroll(M).count
    print(f"CE N=8 K=10, target logit Z{list(target)}      {ce_t:.3f} s (target < 1 s)")
    print(f"CE N=8 K=10, non-target logit Z{list(other)}  {ce_o:.3f} s (target < 1 s)")
    print(f"MLP 2-16-2 on 8 samples, one weight W{list(w_index)} {mlp:.3f} s ({n_nodes} scalar nodes; target < 1 s)")


if __name__ == "__main__":
    main()
