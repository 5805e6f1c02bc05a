"""Tensor workloads (issue 4): an MLP training step, against a hand-written NumPy floor and PyTorch.

W3: MLP 2-16-16-2, batch 32, float64, with the fused cross-entropy (log_softmax) and the
unfused one (softmax → log → pick → mean, the path the explanations teach).  W4: MLP
784-256-128-10, batch 128, float32 and float64.  Each step is forward + cross-entropy +
backward + SGD; the NumPy floor is the same for both cross-entropies.  Prints median µs per
step and the ratio to the NumPy floor (the least any NumPy framework can do).  Run: python benchmarks/tensor_bench.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _timing import median_time, medians_in_turns

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tinygrad_lite import nn, optim

try:
    import torch
except ImportError:  # the comparison is optional
    torch = None


def make_weights(sizes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [((rng.uniform(-1, 1, (a, b)) / np.sqrt(a)).astype(dtype), np.zeros(b, dtype)) for a, b in zip(sizes, sizes[1:])]


def numpy_step(weights, x, y, lr):
    """Forward, CE, backward and SGD written by hand: the floor."""
    acts, pre = [x], []
    h = x
    for k, (W, b) in enumerate(weights):
        h = h @ W + b
        if k < len(weights) - 1:
            pre.append(h)
            h = np.maximum(h, 0)
            acts.append(h)
    z = h - h.max(1, keepdims=True)
    e = np.exp(z)
    s = e.sum(1, keepdims=True)
    loss = -(z[np.arange(len(y)), y] - np.log(s[:, 0])).mean()
    g = e / s
    g[np.arange(len(y)), y] -= 1
    g /= len(y)
    for k in range(len(weights) - 1, -1, -1):
        W, b = weights[k]
        gW, gb = acts[k].T @ g, g.sum(0)
        if k:
            g = (g @ W.T) * (pre[k - 1] > 0)
        W -= lr * gW
        b -= lr * gb
    return loss


def tl_setup(weights, dtype):
    model = nn.MLP([w.shape[0] for w, _ in weights] + [weights[-1][0].shape[1]], dtype=dtype)
    for lin, (W, b) in zip(model.layers[::2], weights):
        lin.weight.data, lin.bias.data = W.T.copy(), b.copy()  # W is (in, out); Linear.weight (out, in)
    return model, optim.SGD(model.parameters(), lr=0.01)


def tl_step(model, opt, x, y, fused=True):
    loss = F.cross_entropy(model(x), y, fused=fused)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


def torch_setup(weights, dtype):
    layers = []
    for k, (W, b) in enumerate(weights):
        lin = torch.nn.Linear(*W.shape, dtype=torch.float64 if dtype == np.float64 else torch.float32)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if k < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    return model, torch.optim.SGD(model.parameters(), lr=0.01)


def torch_step(model, opt, x, y):
    loss = torch.nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


def workload(name, sizes, batch, dtype, repeat, number, fused=True):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, sizes[0])).astype(dtype)
    y = rng.integers(0, sizes[-1], batch)
    weights = make_weights(sizes, dtype)
    own = [(W.copy(), b.copy()) for W, b in weights]  # the floor updates its own copy in place
    model, opt = tl_setup(weights, dtype)
    steps = {"numpy": lambda: numpy_step(own, x, y, 0.01), "tinygrad_lite": lambda: tl_step(model, opt, x, y, fused)}
    us = {who: t * 1e6 for who, t in medians_in_turns(steps, repeat, number).items()}
    if torch is not None and fused:
        # Timed in a block of its own: PyTorch's idle threads spin for a while after each
        # call and would slow whatever ran next in turns with it.
        torch.set_num_threads(2)
        tm, to = torch_setup(weights, dtype)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        us["torch"] = median_time(lambda: [torch_step(tm, to, tx, ty) for _ in range(number)], repeat) * 1e6 / number
    floor = us.pop("numpy")
    print(f"{name:<28} numpy {floor:9.1f} µs" + "".join(
        f"   {who} {t:9.1f} µs (×{t / floor:.2f})" for who, t in us.items()))


def per_op_overhead(number: int = 20000) -> None:
    a, b = tl.Value(np.ones(4)), tl.Value(np.ones(4))
    t0 = time.perf_counter()
    for _ in range(number):
        a * b
    ours = (time.perf_counter() - t0) / number
    x, z = np.ones(4), np.ones(4)
    t0 = time.perf_counter()
    for _ in range(number):
        x * z
    raw = (time.perf_counter() - t0) / number
    print(f"per-op overhead: tensor a*b {ours * 1e9:.0f} ns vs NumPy {raw * 1e9:.0f} ns (+{(ours - raw) * 1e9:.0f} ns)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    r = 3 if args.quick else args.repeat
    workload("W3 2-16-16-2 b32 f64", [2, 16, 16, 2], 32, np.float64, r, 200)
    workload("W3 unfused cross-entropy", [2, 16, 16, 2], 32, np.float64, r, 200, fused=False)
    workload("W4 784-256-128-10 b128 f32", [784, 256, 128, 10], 128, np.float32, r, 20)
    workload("W4 784-256-128-10 b128 f64", [784, 256, 128, 10], 128, np.float64, r, 20)
    per_op_overhead()


if __name__ == "__main__":
    main()
