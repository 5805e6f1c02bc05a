"""Toy data sets made with NumPy alone (seeded, nothing downloaded), and mini-batches."""

from __future__ import annotations

from typing import Iterator

import numpy as np


def _check_n(fn: str, n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{fn}: n must be a positive integer, got {n!r}")
    return int(n)


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles; X (n, 2) float64, y (n,) int64 in {0, 1}."""
    n = _check_n("make_moons", n)
    rng = np.random.default_rng(seed)
    n0 = n // 2
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n - n0)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]])
    y = np.r_[np.zeros(n0, np.int64), np.ones(n - n0, np.int64)]
    X = X + rng.normal(scale=noise, size=X.shape)
    perm = rng.permutation(n)
    return X[perm], y[perm]


def make_spirals(n: int = 300, classes: int = 3, noise: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms (the CS231n toy problem); X (n, 2), y (n,) int64."""
    n = _check_n("make_spirals", n)
    classes = _check_n("make_spirals classes", classes)
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    r = np.empty(n)
    for c in range(classes):
        idx = np.flatnonzero(y == c)
        r[idx] = np.linspace(0.05, 1.0, idx.size)
    theta = y * (2 * np.pi / classes) + r * 4.0 + rng.normal(scale=noise, size=n)
    X = np.c_[r * np.sin(theta), r * np.cos(theta)]
    perm = rng.permutation(n)
    return X[perm], y[perm].astype(np.int64)


def make_blobs(n: int = 300, centers: int = 3, std: float = 0.6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs around ``centers`` points on a circle of radius 2; X (n, 2), y (n,) int64."""
    n = _check_n("make_blobs", n)
    centers = _check_n("make_blobs centers", centers)
    rng = np.random.default_rng(seed)
    y = np.arange(n) % centers
    angle = 2 * np.pi * y / centers
    X = np.c_[2 * np.cos(angle), 2 * np.sin(angle)] + rng.normal(scale=std, size=(n, 2))
    perm = rng.permutation(n)
    return X[perm], y[perm].astype(np.int64)


DATASETS = {"moons": make_moons, "spirals": make_spirals, "blobs": make_blobs}


def batches(X: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = True,
            seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Mini-batches ``(X[idx], y[idx])`` covering every sample once; the last may be smaller."""
    if len(X) != len(y):
        raise ValueError(f"batches: X has {len(X)} samples but y has {len(y)}")
    batch_size = _check_n("batches batch_size", batch_size)
    order = np.random.default_rng(seed).permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
