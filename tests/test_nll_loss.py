"""F.nll_loss (pick → neg → reduce, as cross_entropy ends) and the fused cross-entropy on it:
gradients, second order, PyTorch, explain, drawings."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tinygrad_lite import viz
from tinygrad_lite.naming import graph_nodes

REDUCTIONS = ("mean", "sum", "none")
rng = np.random.default_rng(11)


def case(n, k, seed=0):
    """Logits of shape (n, k) (or (k,) for n=None) and matching class indices."""
    r = np.random.default_rng(seed)
    if n is None:
        return r.normal(size=k), int(r.integers(0, k))
    return r.normal(size=(n, k)), r.integers(0, k, size=n)


def total(loss):
    return loss if loss.size == 1 else loss.sum()


def op_nodes(root):
    return [n for n in graph_nodes(root) if n._prev]


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("n", [None, 1, 5])
def test_gradcheck_every_reduction_and_rank(reduction, n):
    z, t = case(n, 4)
    assert tl.gradcheck(lambda x: F.nll_loss(x, t, reduction=reduction), z)
    assert tl.gradcheck(lambda x: F.nll_loss(x.log_softmax(-1), t, reduction=reduction), z)
    assert tl.gradcheck(lambda x: F.cross_entropy(x, t, reduction=reduction, fused=True), z)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("n", [None, 1, 4])
def test_gradgradcheck_through_nll_loss(reduction, n):
    z, t = case(n, 3, seed=2)
    assert tl.gradgradcheck(lambda x: F.nll_loss(x, t, reduction=reduction), z)  # linear: second derivative 0
    assert tl.gradgradcheck(lambda x: F.cross_entropy(x, t, reduction=reduction, fused=True), z)
    assert tl.gradgradcheck(lambda x: F.nll_loss(x.tanh().log_softmax(-1), t, reduction=reduction), z)


def test_hessian_of_the_fused_cross_entropy_is_diag_p_minus_ppT():
    z, t = case(None, 4, seed=3)
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    H = tl.hessian(lambda v: F.cross_entropy(v, t, fused=True), z)
    np.testing.assert_allclose(H, np.diag(p) - np.outer(p, p), atol=1e-12)
    assert np.linalg.eigvalsh(H).min() > -1e-12  # claim 7: CE is convex in the logits


def test_create_graph_and_tl_grad_build_the_gradient_as_a_graph():
    z, t = case(3, 4, seed=4)
    Z = tl.Value(z, label="Z")
    L = F.cross_entropy(Z, t, fused=True)
    (g,) = tl.grad(L, Z, create_graph=True)
    assert isinstance(g, tl.Value) and g.requires_grad
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(g.data, (p - np.eye(4)[t]) / 3, atol=1e-12)
    (gg,) = tl.grad((g * g).sum(), Z)  # differentiate the gradient again
    assert np.all(np.isfinite(gg)) and np.abs(gg).max() > 0
    W = tl.Value(z.copy(), label="W")
    L2 = F.nll_loss(W.log_softmax(-1), t, reduction="none")
    w = np.array([1.0, 2.0, 3.0])
    L2.backward(grad=w, create_graph=True)
    assert isinstance(W.grad, tl.Value)  # a graph, as in PyTorch
    np.testing.assert_allclose(W.grad.data, w[:, None] * (p - np.eye(4)[t]), atol=1e-12)


# ---------------------------------------------------------------- against PyTorch

@st.composite
def nll_case(draw):
    n = draw(st.one_of(st.none(), st.integers(1, 6)))
    k = draw(st.integers(1, 5))
    shape = (k,) if n is None else (n, k)
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-5, 5, allow_nan=False)))
    t = draw(st.integers(0, k - 1)) if n is None else draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
    return x, t, draw(st.sampled_from(REDUCTIONS))


@given(c=nll_case())
def test_values_and_gradients_match_pytorch(c):
    torch = pytest.importorskip("torch")
    x, t, reduction = c
    tt = torch.tensor(t)
    for ours, theirs in ((F.nll_loss, torch.nn.functional.nll_loss),
                         (lambda v, t, reduction: F.cross_entropy(v, t, reduction, fused=True),
                          torch.nn.functional.cross_entropy)):
        X = tl.Value(x.copy())
        L = ours(X, t, reduction=reduction)
        total(L).backward()
        Xt = torch.tensor(x, requires_grad=True)
        Lt = theirs(Xt, tt, reduction=reduction)
        Lt.sum().backward()
        assert L.shape == tuple(Lt.shape)
        np.testing.assert_allclose(L.data, Lt.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(X.grad, Xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_float32_matches_pytorch_and_keeps_its_dtype():
    torch = pytest.importorskip("torch")
    z, t = case(8, 5, seed=5)
    X = tl.Value(z.astype(np.float32))
    L = F.cross_entropy(X, t, fused=True)
    L.backward()
    Xt = torch.tensor(z.astype(np.float32), requires_grad=True)
    torch.nn.functional.cross_entropy(Xt, torch.tensor(t)).backward()
    assert L.data.dtype == np.float32 and X.grad.dtype == np.float32
    np.testing.assert_allclose(X.grad, Xt.grad.numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- fused equals unfused


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("n", [None, 1, 6])
def test_fused_cross_entropy_equals_the_unfused_one(reduction, n):
    z, t = case(n, 4, seed=6)
    grads, values = [], []
    for fused in (False, True):
        Z = tl.Value(z.copy())
        L = F.cross_entropy(Z, t, reduction=reduction, fused=fused)
        total(L).backward()
        values.append(L.data)
        grads.append(Z.grad)
    np.testing.assert_allclose(values[1], values[0], rtol=1e-13)
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=1e-15)
    # and the one node gives exactly what the composed pick → neg → reduce gives on the same log-probabilities
    Z = tl.Value(z.copy())
    logp = Z.log_softmax(-1)
    picked = logp[t] if n is None else logp[np.arange(n), t]
    composed = {"mean": (-picked).mean(), "sum": (-picked).sum(), "none": -picked}[reduction]
    assert np.array_equal(F.nll_loss(logp, t, reduction=reduction).data, composed.data)


def test_nll_loss_is_built_from_primitive_ops():
    """No loss has a backward of its own: nll_loss is the pick → neg → reduce that ends cross_entropy."""
    z, t = case(32, 2)
    tails = {"mean": ["index", "neg", "mean"], "sum": ["index", "neg", "sum"], "none": ["index", "neg"]}
    for reduction, tail in tails.items():
        L = F.cross_entropy(tl.Value(z), t, reduction=reduction, fused=True)
        assert [n.op for n in op_nodes(L)] == ["log_softmax"] + tail
        assert [n.op for n in op_nodes(F.nll_loss(tl.Value(z), t, reduction=reduction))] == tail
    assert [n.op for n in op_nodes(F.cross_entropy(tl.Value(z), t))] == ["softmax", "log", "index", "neg", "mean"]


def test_nll_loss_does_not_mutate_its_inputs():
    z, t = case(4, 3, seed=7)
    z0, t0 = z.copy(), t.copy()
    X = tl.Value(z)
    logp = X.log_softmax(-1)
    lp0 = logp.data.copy()
    L = F.nll_loss(logp, t)
    t[:] = 0  # the pick holds its own copy of the targets
    L.backward()
    assert np.array_equal(X.data, z0) and np.array_equal(logp.data, lp0) and np.array_equal(X.data, z)
    want = F.nll_loss(tl.Value(lp0), t0)
    want.backward()
    np.testing.assert_allclose(L.item(), want.item(), rtol=0)
    L2 = F.nll_loss(tl.Value(lp0), t0, reduction="none")
    seed = np.array([1.0, 2.0, 3.0, 4.0])
    L2.backward(grad=seed)
    assert np.array_equal(seed, [1.0, 2.0, 3.0, 4.0])


# ---------------------------------------------------------------- bad input


BAD_TARGETS = [
    (np.array([0, 3]), "target class 3 is out of range for 3 classes"),
    (np.array([0, -1]), "target class -1 is out of range for 3 classes"),
    (np.array([0, 1, 2]), r"of shape \(2, 3\) needs? \(2,\) class index"),
    (np.array([[0], [1]]), r"got target of shape \(2, 1\)"),
    (np.array([0.5, 1.0]), r"target of dtype float64 and shape \(2,\) is (neither|not) class indices"),
    (np.array(["a", "b"]), "class indices"),
]


@pytest.mark.parametrize("target, message", BAD_TARGETS)
def test_bad_targets_are_refused_as_cross_entropy_refuses_them(target, message):
    x = tl.Value(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=f"cross_entropy: .*{message}"):
        F.cross_entropy(x, target, fused=True)
    with pytest.raises(ValueError, match=f"nll_loss: .*{message}"):
        F.nll_loss(x.log_softmax(-1), target)


def test_other_bad_input_is_named():
    x = tl.Value(np.zeros((2, 3)))
    assert F.nll_loss(x, np.array([1.0, 2.0])).item() == 0.0  # whole floats are indices, as in cross_entropy
    with pytest.raises(ValueError, match=r"nll_loss: input must have shape \(N, K\) or \(K,\), got \(2, 3, 1\)"):
        F.nll_loss(tl.Value(np.zeros((2, 3, 1))), np.array([0, 1]))
    with pytest.raises(ValueError, match="nll_loss: reduction='avg'"):
        F.nll_loss(x, np.array([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match=r"nll_loss: input of shape \(3,\) needs one class index"):
        F.nll_loss(tl.Value(np.zeros(3)), np.array([0, 1]))
    with pytest.raises(TypeError, match="nll_loss: input must be a tensor Value"):
        F.nll_loss([tl.Value(0.0), tl.Value(1.0)], 0)
    with pytest.raises(tl.ShapeError, match=r"mean: reducing an empty axis of shape \(0,\)"):
        F.nll_loss(tl.Value(np.zeros((0, 3))), np.zeros(0, dtype=int))  # as the mean of no losses
    assert F.nll_loss(tl.Value(np.zeros((0, 3))), np.zeros(0, dtype=int), reduction="sum").item() == 0.0


def test_one_sample_gives_a_0d_result():
    z, t = case(None, 3)
    for reduction in REDUCTIONS:
        L = F.nll_loss(tl.Value(z), t, reduction=reduction)
        assert L.shape == () and L.item() == pytest.approx(-z[t])


# ---------------------------------------------------------------- unroll and explain


def _pick_path(Z, t, reduction):
    """What the fused cross-entropy was before nll_loss: log_softmax → index → neg → reduce."""
    logp = Z.log_softmax(-1)
    neg = -(logp[t] if Z.ndim == 1 else logp[np.arange(Z.shape[0]), t])
    return {"mean": neg.mean(), "sum": neg.sum(), "none": neg.mean()}[reduction]


def _nll_path(Z, t, reduction):
    L = F.cross_entropy(Z, t, reduction=reduction, fused=True)
    return L.mean() if reduction == "none" else L


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("n", [None, 1, 3])
def test_explain_through_nll_loss_reads_as_the_pick_path(reduction, n):
    z, t = case(n, 3, seed=8)
    shape = z.shape
    for index in [(j,) for j in range(3)] if n is None else [(i, j) for i in range(n) for j in range(3)]:
        texts = []
        for build in (_pick_path, _nll_path):
            Z = tl.Value(z.copy(), label="Z")
            L = build(Z, t, reduction)
            L.label = "L"
            e = tl.explain(L, Z, index=index)
            L.backward()
            assert e.total == pytest.approx(Z.grad[index], abs=1e-14)
            texts.append((str(e), e.total, e.sizes, e.element_formula,
                          e.general and (e.general.element, e.general.matrix, e.general.indicator)))
        assert texts[0] == texts[1], f"{shape} {reduction} {index}"


def test_the_unrolled_nll_is_a_neg_per_row_and_a_mean_named_one_over_n():
    z, t = case(4, 3, seed=9)
    Z = tl.Value(z, label="Z")
    L = F.cross_entropy(Z, t, fused=True)
    u = tl.unroll(L)
    root = u.root
    assert root.op == "mean" and root._op.formulas == ("1/N",) and root._op.sizes == {"N": 4}
    assert [p.op for p in root.parents] == ["neg"] * 4
    picked = [p.parents[0] for p in root.parents]
    logp = L.parents[0].parents[0].parents[0]  # mean ← neg ← index ← log_softmax
    assert logp.op == "log_softmax"
    assert picked == [u.element(logp, (i, int(t[i]))) for i in range(4)]
    assert u.count == 4 * 3 + 4 * 3 + 4 + 1  # leaves, log_softmax, negs, mean: what max_nodes counts
    assert tl.unroll(F.cross_entropy(Z, t, fused=True, reduction="sum")).root.op == "sum"
    e = tl.explain(L, Z, index=(0, int(t[0])))
    assert "1/N" in str(e) and e.sizes == {"N": 4} and e.general.matrix.endswith("/N")
    assert "(the targets)" in e.general.indicator


# ---------------------------------------------------------------- drawings and steps


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_drawings_show_each_step_and_change_nothing(reduction):
    z, t = case(2, 3, seed=10)
    Z = tl.Value(z, label="Z")
    L = total(F.cross_entropy(Z, t, reduction=reduction, fused=True))
    L.label = "L"
    before = viz.draw_graph(L).source
    assert "log_softmax" in before and "index" in before and "grad not computed yet" in before
    L.backward()
    grads = {n: np.copy(n.grad) for n in graph_nodes(L)}
    shown = viz.draw_graph(L, explain=Z, index=(0, int(t[0]))).source
    assert "penwidth=2.5" in shown and "∂L/∂Z[0," in shown
    unrolled = viz.draw_graph(L, unroll=True).source
    assert "[neg]" in unrolled and "grad not computed yet" not in unrolled
    assert all(np.array_equal(n.grad, g) for n, g in grads.items())  # drawing changed nothing


def test_backprop_steps_through_nll_loss():
    z, t = case(3, 4, seed=12)
    Z = tl.Value(z, label="Z")
    L = F.nll_loss(Z.log_softmax(-1), t)
    L.label = "L"
    steps = list(tl.backprop_steps(L))
    assert [s.node.op for s in steps] == ["mean", "neg", "index", "log_softmax"]
    (edge,) = steps[2].parents  # the pick sends −1/N to each row's target, 0 elsewhere
    want = np.zeros((3, 4))
    want[np.arange(3), t] = -1 / 3
    np.testing.assert_allclose(edge.contribution, want)
    L.backward()
    np.testing.assert_allclose(steps[-1].parents[0].grad, Z.grad, atol=1e-15)
    assert "index" in viz.stepper(L)._repr_html_()
