"""How long explaining one tensor element takes (issue 15 target: each under 1 s).

Unrolling, the gradient check against the tensor graph, the SymPy paths and the
matrix-form check are all included; SymPy's import is not (one warm-up call).
"warm": SymPy's cache may answer (the same symbols recur); "cold": caches emptied first.
Run: python benchmarks/explain_bench.py [--quick]
"""

from __future__ import annotations

import sys

import numpy as np
from _timing import median_time
from sympy.core.cache import clear_cache

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tinygrad_lite import nn
from tinygrad_lite.explanation import _parsed


def batched_ce(n: int = 8, k: int = 10, seed: int = 0) -> tuple[tl.Value, tl.Value, np.ndarray]:
    """Cross-entropy of N = 8 samples over K = 10 classes, on logits Z."""
    rng = np.random.default_rng(seed)
    Z = tl.Value(rng.normal(size=(n, k)), label="Z")
    y = rng.integers(0, k, size=n)
    L = F.cross_entropy(Z, y)
    L.label = "L"
    return L, Z, y


def mlp_ce(n: int = 8, seed: int = 1) -> tuple[tl.Value, tl.Value]:
    """A 2-16-2 MLP (ReLU) on 8 samples, cross-entropy; returns the loss and the first weight."""
    rng = np.random.default_rng(seed)
    model = nn.MLP([2, 16, 2])
    X = tl.Value(rng.normal(size=(n, 2)), label="X", requires_grad=False)
    y = rng.integers(0, 2, size=n)
    L = F.cross_entropy(model(X), y)
    L.label = "L"
    return L, model.parameters()[0]


def main() -> None:
    repeat = 1 if "--quick" in sys.argv else 5
    seeds = iter(range(1000))

    # Each call explains a new graph (new numbers), so SymPy's cache never answers for it.
    def ce(which: str) -> None:
        L, Z, y = batched_ce(seed=next(seeds))
        j = int(y[0]) if which == "target" else (int(y[0]) + 1) % Z.shape[1]
        tl.explain(L, Z, index=(0, j))

    def mlp() -> None:
        M, W = mlp_ce(seed=next(seeds))
        tl.explain(M, W, index=(0,) * W.ndim)

    def cold(fn):  # SymPy's cache (and explain's parsed templates) emptied first: a first call's cost
        def run() -> None:
            clear_cache()
            _parsed.cache_clear()
            fn()
        return run

    n_nodes = tl.unroll(mlp_ce()[0]).count
    for name, fn, note in (("CE N=8 K=10, a target logit", lambda: ce("target"), ""),
                           ("CE N=8 K=10, a non-target logit", lambda: ce("other"), ""),
                           ("MLP 2-16-2 on 8 samples, one weight", mlp, f" ({n_nodes} scalar nodes)")):
        warm, first = median_time(fn, repeat), median_time(cold(fn), repeat)
        print(f"{name:<36} {warm:.3f} s warm, {first:.3f} s cold{note} (target < 1 s)")


if __name__ == "__main__":
    main()
