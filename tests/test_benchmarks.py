"""The benchmark scripts keep running, and their baselines compute what tinygrad_lite computes.

No timing is asserted here: numbers belong in the benchmarks' output, not in tests.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lite as tl

BENCH = Path(__file__).parent.parent / "benchmarks"


@pytest.fixture
def bench_modules(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import minimal_engine
    import scalar_bench
    import tensor_bench

    return minimal_engine, scalar_bench, tensor_bench


@pytest.mark.parametrize(("script", "rows"), [
    ("scalar_bench.py", ["W1", "tinygrad_lite", "minimal_engine", "W2", "100,000 links", "W5"]),
    ("tensor_bench.py", ["W3", "W3 unfused cross-entropy", "W4 784-256-128-10 b128 f32", "W4 784-256-128-10 b128 f64",
                         "per-op overhead"]),
    ("explain_bench.py", ["CE N=8 K=10, a target logit", "MLP 2-16-2 on 8 samples"]),
])
def test_benchmark_runs(script, rows):
    r = subprocess.run([sys.executable, script, "--quick"], capture_output=True, text=True, timeout=600, cwd=BENCH)
    assert r.returncode == 0, r.stderr
    for row in rows:
        assert row in r.stdout


def test_minimal_engine_does_the_same_step_as_tinygrad_lite(bench_modules):
    """The W1 baseline is a real engine: one step gives the same loss and the same new weights."""
    minimal_engine, sb, _ = bench_modules
    X, y = sb.moons(20)
    results = []
    for cls in (tl.Value, minimal_engine.Value):
        model = sb.ScalarMLP(cls, [2, 4, 4, 1], seed=3)
        loss = sb.w1_step(cls, model, X, y, sb._zero_grads)
        loss2 = sb.w1_step(cls, model, X, y, sb._zero_grads)  # zero_grad between steps matters here
        results.append((loss.data, loss2.data, [p.data for p in model.parameters()]))
    (a1, a2, pa), (b1, b2, pb) = results
    assert a1 == pytest.approx(b1, rel=1e-12) and a2 == pytest.approx(b2, rel=1e-12)
    np.testing.assert_allclose(pa, pb, rtol=1e-12, atol=1e-15)


def test_numpy_floor_does_the_same_step_as_tinygrad_lite(bench_modules):
    """The W3/W4 floor computes the same loss and the same updated weights as tinygrad_lite."""
    _, _, tb = bench_modules
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 3)), rng.integers(0, 2, 8)
    weights = tb.make_weights([3, 5, 4, 2], np.float64)
    own = [(W.copy(), b.copy()) for W, b in weights]
    model, opt = tb.tl_setup(weights, np.float64)
    floor_loss = tb.numpy_step(own, x, y, 0.01)
    loss = tb.tl_step(model, opt, x, y)
    assert loss.item() == pytest.approx(floor_loss, rel=1e-12)
    for lin, (W, b) in zip(model.layers[::2], own):
        np.testing.assert_allclose(lin.weight.data, W.T, rtol=1e-12)
        np.testing.assert_allclose(lin.bias.data, b, rtol=1e-12, atol=1e-15)
