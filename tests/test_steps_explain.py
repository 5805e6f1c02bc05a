"""backprop_steps and explain: numbers match .grad, symbolic results match the seed claims."""

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tinygrad_lite import seed

logits = st.lists(st.floats(-4, 4), min_size=2, max_size=5)


def seed_graph(z, loss):
    return seed.softmax_example(loss, tuple(z), 0)


def sym(name):
    return sympy.Symbol(name)


@given(z=logits, loss=st.sampled_from(["ce", "mse"]))
def test_steps_end_exactly_where_backward_does(z, loss):
    zs, _, L = seed_graph(z, loss)
    steps = list(tl.backprop_steps(L))
    last = {}
    for step in steps:
        for e in step.parents:
            last[e.parent] = e.grad
        for e in step.parents:  # each contribution is local × upstream
            np.testing.assert_allclose(e.contribution, e.local * step.upstream, rtol=1e-12)
    assert all(v._grad is None for v in zs)  # looking wrote nothing
    L.backward()
    assert [last[v] for v in zs] == [v.grad for v in zs]


@pytest.mark.parametrize("passes", [0, 1, 2])
def test_exhausting_the_steps_leaves_every_grad_as_it_found_it(passes):
    zs, probs, L = seed_graph([2.0, 1.0, 0.1], "mse")
    for _ in range(passes):
        L.backward()
    nodes = tl.backprop_steps(L).view.nodes
    before = [n._grad for n in nodes]
    steps = list(L.backward_steps())
    assert [n._grad for n in nodes] == before
    final = {e.parent: e.grad for s in steps for e in s.parents}
    fresh, _, M = seed_graph([2.0, 1.0, 0.1], "mse")
    M.backward()  # one pass on a new copy of the graph: what every side pass must give
    for v, w in zip(zs, fresh):  # each pass from zero: the same numbers, however many backward() ran before
        assert final[v] == pytest.approx(w.grad, rel=1e-12)
        if passes:
            assert v.grad == pytest.approx(passes * w.grad, rel=1e-12)


def test_steps_are_lazy_and_gradients_arrive_step_by_step():
    zs, probs, L = seed_graph([2.0, 1.0, 0.1], "ce")
    gen = L.backward_steps()
    assert isinstance(gen, tl.Steps) and iter(gen) is gen
    first = next(gen)
    assert first.node is L and first.parents[0].grad == -1.0
    rest = list(gen)
    last = rest[-1]
    assert last.node is probs[0]
    assert [e.grad for e in last.parents][0] == pytest.approx(probs[0].data - 1)
    assert "z0.grad += ŷ0(1−ŷ0)" in str(last)
    assert zs[0]._grad is None and probs[0]._grad is None
    with pytest.raises(StopIteration):
        next(gen)


def test_bad_seed_fails_when_asked_not_at_the_first_step():
    W = tl.Value(np.ones((2, 2)), label="W")
    with pytest.raises(ValueError, match="pass grad="):
        tl.backprop_steps(W * 2)
    steps = list(tl.backprop_steps(W * 2, grad=np.ones((2, 2))))
    np.testing.assert_array_equal(steps[0].parents[0].grad, 2 * np.ones((2, 2)))
    assert W._grad is None


def test_step_spells_out_sums_over_children():
    a = tl.Value(2.0, label="a")
    c, d = a * 3.0, -a
    c.label, d.label = "c", "d"
    e = c + d
    lines = [str(s) for s in e.backward_steps()]
    assert lines[-1].endswith("(a.grad = −1 (from d) + 3 (from c) = 2)")


def explained_seed(z, loss):
    """The seed graph for ``loss``, back-propagated, with the explanation of ∂L/∂z0."""
    zs, probs, L = seed_graph(z, loss)
    L.backward()
    return zs, probs, L, tl.explain(L, zs[0])


@settings(max_examples=10)
@given(z=logits)
def test_explain_cross_entropy_target_and_other_logits(z):
    zs, probs, L, e = explained_seed(z, "ce")
    assert len(e.paths) == 1
    assert sympy.simplify(e.paths[0].simplified - (sym("ŷ0") - 1)) == 0
    assert sym("ŷ0") in e.paths[0].cancelled
    assert e.total == pytest.approx(zs[0].grad, rel=1e-12)
    e1 = tl.explain(L, zs[1])
    assert sympy.simplify(e1.paths[0].simplified - sym("ŷ1")) == 0
    assert e1.total == pytest.approx(zs[1].grad, rel=1e-12)


@settings(max_examples=10)
@given(z=logits)
def test_explain_mse_direct_path_keeps_the_softmax_factor(z):
    zs, probs, L, e = explained_seed(z, "mse")
    assert len(e.paths) == len(z)
    direct = next(p for p in e.paths if p.nodes[1] is probs[0])
    y = sym("ŷ0")
    assert sympy.simplify(direct.simplified - (-2 * y * (1 - y) ** 2)) == 0
    assert direct.cancelled == []
    assert e.total == pytest.approx(zs[0].grad, rel=1e-9, abs=1e-12)
    expected_total = -2 * y * (1 - y) ** 2 - 2 * y * sum(sym(f"ŷ{k}") ** 2 for k in range(1, len(z)))
    assert sympy.simplify(e.total_expression - expected_total) == 0


def test_explain_sigmoid_bce_cancels_and_sigmoid_mse_does_not():
    w, x = tl.Value(0.3, label="w"), 2.0
    s = (w * x).sigmoid()
    s.label = "σ"
    bce = F.binary_cross_entropy([s], [1.0])
    e = tl.explain(bce, w)
    assert sympy.simplify(e.paths[0].simplified - x * (sym("σ") - 1)) == 0
    assert sym("σ") in e.paths[0].cancelled
    mse = F.mse_loss([s], [1.0], reduction="sum")
    e2 = tl.explain(mse, w)
    assert sympy.simplify(e2.paths[0].simplified - 2 * x * sym("σ") * (1 - sym("σ")) * (sym("σ") - 1)) == 0
    assert e2.paths[0].cancelled == []


def test_explain_text_and_errors():
    zs, _, L = seed_graph([2.0, 1.0, 0.1], "ce")
    text = str(tl.explain(L, zs[0]))
    assert "path 1: z0 → ŷ0" in text and "cancels: ŷ0" in text
    other = tl.Value(1.0, label="w")
    with pytest.raises(ValueError, match="does not depend on w"):
        tl.explain(L, other)
    W = tl.Value(np.ones((2, 2)), label="W")
    with pytest.raises(ValueError, match=r"W has shape \(2, 2\).*index="):
        tl.explain((W * 2).sum(), W)
