"""Soak: long training runs keep memory flat and leave no reference cycles behind.

Each run traces allocations with ``tracemalloc`` after a warm-up and keeps the garbage
collector off, so a graph that outlived its step would show up twice: as memory growth
and as unreachable objects that ``gc.collect()`` finds afterwards.
"""

import gc
import tracemalloc
from collections import Counter

import numpy as np

import tinygrad_lite as tl
from tinygrad_lite import functional as F
from tinygrad_lite import nn, optim
from tinygrad_lite.data import make_moons

MiB = 2**20


def assert_flat(step, steps, warmup):
    """Run ``step(i)`` ``steps`` times; after ``warmup`` steps, memory may grow < 1 MiB and no cycles appear."""
    for i in range(warmup):
        step(i)
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for i in range(warmup, steps):
            step(i)
        gc.set_debug(gc.DEBUG_SAVEALL)  # keep what the collector finds, to name it
        found = gc.collect()
        kinds = Counter(type(o).__name__ for o in gc.garbage).most_common(5)
        growth = tracemalloc.get_traced_memory()[0] - base
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        tracemalloc.stop()
        gc.enable()
    assert found == 0, f"{found} objects were only reachable through reference cycles: {kinds}"
    assert growth < MiB, f"memory grew by {growth / MiB:.2f} MiB over {steps - warmup} steps"


def test_scalar_mlp_300_steps_stays_flat():
    """micrograd's demo (benchmarks/scalar_bench.py W1): a scalar 2-16-16-1 MLP on moons, SVM max-margin loss
    + 1e-4·L2, SGD, for 300 steps.

    Reduced: a batch of 4 moons a step (a different 4 each step) instead of all 100, so the run
    takes seconds, not a minute. Every step still builds, back-propagates and drops a graph
    of the same kind (~3,700 scalar Values); the L2 term still covers all 337 parameters.
    """
    X, y = make_moons(96, seed=0)
    X, y = X.tolist(), (2.0 * y - 1.0).tolist()
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Layer(2, 16, rng=rng), nn.Layer(16, 16, rng=rng), nn.Layer(16, 1, nonlin=False, rng=rng))
    params = model.parameters()
    opt = optim.SGD(params, lr=0.05)
    assert len(params) == 337
    losses = []

    def step(i):
        batch = range(4 * i % len(X), 4 * i % len(X) + 4)
        scores = [model(X[k])[0] for k in batch]
        data_loss = sum((1 + -y[k] * s).relu() for k, s in zip(batch, scores)) * (1.0 / 4)
        total = data_loss + 1e-4 * sum(p * p for p in params)
        opt.zero_grad()
        total.backward()
        opt.step()
        losses.append(total.item())

    assert_flat(step, steps=300, warmup=30)
    assert np.mean(losses[-24:]) < np.mean(losses[:24])  # it trained, so the steps were real


def test_tensor_mlp_1000_steps_stays_flat():
    """A tensor 2-16-16-2 MLP on moons, cross-entropy, SGD, batch 32, for 1,000 steps."""
    X, y = make_moons(256, seed=1)
    model = nn.MLP([2, 16, 16, 2], activation="tanh", rng=0)
    opt = optim.SGD(model.parameters(), lr=0.5)
    losses = []

    def step(i):
        k = 32 * i % len(X)
        logits = model(tl.Value(X[k:k + 32], requires_grad=False))
        loss = F.cross_entropy(logits, y[k:k + 32])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())

    assert_flat(step, steps=1000, warmup=50)
    assert np.mean(losses[-50:]) < 0.5 * np.mean(losses[:50])
