"""Scalar-graph workloads (issue 2): W1 micrograd's demo step, W2 a long chain, W5 one op.

Prints medians side by side with micrograd (when installed: pip install -e ".[bench]")
and with the hand-written baseline ``minimal_engine`` (the least an engine of one Python
object per scalar op can do), and the ratio of each to tinygrad_lite.  W1 and W5 time
tinygrad_lite and minimal_engine in turns, so their ratio holds on a loaded machine
(micrograd apart: the cyclic garbage of its closures would slow whatever runs next).
Run: python benchmarks/scalar_bench.py
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from pathlib import Path

import minimal_engine
import numpy as np
from _timing import median_time, medians_in_turns

import tinygrad_lite as tl

try:
    from micrograd.engine import Value as MgValue
    from micrograd.nn import MLP as MgMLP
except ImportError:  # the comparison is optional
    MgValue = MgMLP = None


def moons(n: int = 100, seed: int = 1337) -> tuple[list[list[float]], list[float]]:
    rng = np.random.default_rng(seed)
    t = rng.random(n) * np.pi
    half = n // 2
    X = np.concatenate([np.c_[np.cos(t[:half]), np.sin(t[:half])],
                        np.c_[1 - np.cos(t[half:]), 0.5 - np.sin(t[half:])]])
    X += rng.standard_normal(X.shape) * 0.1
    return X.tolist(), [1.0] * half + [-1.0] * (n - half)


# ---------------------------------------------------------------- W1

class ScalarMLP:
    """micrograd's MLP written on any scalar Value class: Σ wᵢxᵢ + b per neuron, ReLU between layers."""

    def __init__(self, value_cls, sizes: list[int], seed: int = 0):
        rnd = random.Random(seed)
        self.layers = [
            [([value_cls(rnd.uniform(-1, 1)) for _ in range(nin)], value_cls(0.0)) for _ in range(nout)]
            for nin, nout in zip(sizes, sizes[1:])
        ]

    def __call__(self, x):
        for i, layer in enumerate(self.layers):
            last = i == len(self.layers) - 1
            x = [sum((w * xi for w, xi in zip(ws, x)), b) for ws, b in layer]
            if not last:
                x = [v.relu() for v in x]
        return x[0]

    def parameters(self):
        return [p for layer in self.layers for ws, b in layer for p in (*ws, b)]


def w1_step(value_cls, model, X, y, zero_grad):
    params = model.parameters()
    inputs = [[value_cls(a) for a in row] for row in X]
    scores = [model(x) for x in inputs]
    losses = [(1 + -yi * s).relu() for yi, s in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in params)
    total = data_loss + reg_loss
    zero_grad(params)
    total.backward()
    for p in params:
        p.data -= 0.01 * p.grad
    return total


def _zero_grads(params):
    for p in params:
        p.grad = 0.0


def w1(repeat: int) -> dict[str, float]:
    """Median seconds per step for each engine.

    tinygrad_lite and minimal_engine are timed in turns, so drift in machine load hits both
    alike and their ratio is steady; micrograd, ~15× slower, in a block of its own with fewer repeats.
    """
    X, y = moons()

    def stepper(cls):
        model = ScalarMLP(cls, [2, 16, 16, 1])
        return lambda: w1_step(cls, model, X, y, _zero_grads)

    res = medians_in_turns({"tinygrad_lite": stepper(tl.Value), "minimal_engine": stepper(minimal_engine.Value)},
                           repeat)
    if MgValue is not None:
        res["micrograd"] = median_time(stepper(MgValue), max(2, repeat // 3))
    return res


# ---------------------------------------------------------------- W2

def w2(n: int, module: str = "tinygrad_lite") -> tuple[float, float]:
    """Seconds and peak RSS growth (MiB) for y = y*1.0001 + 0.0001 with n links, fwd+bwd.

    Runs in a fresh process so the peak belongs to this chain alone.
    """
    code = (
        f"import resource, sys, time; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        f"from {module} import Value\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "t0 = time.perf_counter(); x = Value(1.0); y = x\n"
        f"for _ in range({n}): y = y * 1.0001 + 0.0001\n"
        "y.backward(); dt = time.perf_counter() - t0\n"
        "print(dt, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    dt, mib = map(float, out.split())
    return dt, mib


# ---------------------------------------------------------------- W5

def _ops(a, b, k: int) -> None:
    for _ in range(k):
        a * b


def _ops_backward(a, b, k: int) -> None:
    for _ in range(k):
        (a * b).backward()


def w5(engines: dict[str, type], number: int = 200_000, repeat: int = 9) -> dict[str, tuple[float, float]]:
    """Seconds per a*b, and per a*b + backward, for each engine, timed in turns (medians)."""
    k = 1000
    pairs = {name: (cls(2.0), cls(3.0)) for name, cls in engines.items()}
    op = medians_in_turns({name: lambda a=a, b=b: _ops(a, b, k) for name, (a, b) in pairs.items()},
                          repeat, max(1, number // k // repeat))
    ob = medians_in_turns({name: lambda a=a, b=b: _ops_backward(a, b, k) for name, (a, b) in pairs.items()},
                          repeat, max(1, number // 10 // k // repeat))
    return {name: (op[name] / k, ob[name] / k) for name in engines}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    args = ap.parse_args()

    print("W1  micrograd demo step: MLP 2-16-16-1, 100 moons, SVM loss + L2, fwd+bwd+SGD")
    r = w1(3 if args.quick else args.repeat)
    ours = r.pop("tinygrad_lite")
    print(f"    tinygrad_lite  {ours * 1e3:8.1f} ms/step")
    for name, t in r.items():
        print(f"    {name:<14} {t * 1e3:8.1f} ms/step   its time / ours ×{t / ours:.2f}")

    print("W2  scalar chain y = y*1.0001 + 0.0001 (2 ops a link), fwd+bwd")
    for n in (10_000, 100_000) if args.quick else (10_000, 100_000, 1_000_000):
        for module in ("tinygrad_lite", "minimal_engine"):
            dt, peak = w2(n, module)
            print(f"    {module:<14} {n:>9,} links {dt:8.3f} s   peak memory +{peak:7.1f} MiB")

    print("W5  one scalar a*b, and a*b + backward (timed in turns)")
    number, repeat = (20_000, 3) if args.quick else (200_000, args.repeat)
    r5 = w5({"tinygrad_lite": tl.Value, "minimal_engine": minimal_engine.Value}, number, repeat)
    if MgValue is not None:  # on its own: the cyclic garbage its closures leave would slow the others' turns
        r5.update(w5({"micrograd": MgValue}, number, repeat))
    op, ob = r5.pop("tinygrad_lite")
    print(f"    tinygrad_lite  {op * 1e9:8.0f} ns/op   {ob * 1e6:8.2f} µs/op+backward")
    for name, (mop, mob) in r5.items():
        print(f"    {name:<14} {mop * 1e9:8.0f} ns/op   {mob * 1e6:8.2f} µs/op+backward"
              f"   its time / ours ×{mop / op:.2f} (op), ×{mob / ob:.2f} (op+backward)")


if __name__ == "__main__":
    main()
