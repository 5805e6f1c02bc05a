"""Losses: gradchecked, list and tensor forms agree, reductions, stability, targets."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lite as tl
import tinygrad_lite.functional as F

rng = np.random.default_rng(7)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("fused", [False, True])
def test_cross_entropy_gradcheck_indices_and_probs(reduction, fused):
    logits = rng.standard_normal((5, 4))
    idx = rng.integers(0, 4, 5)
    probs = rng.dirichlet(np.ones(4), 5)
    for target in (idx, probs):
        assert tl.gradcheck(lambda x, t=target: F.cross_entropy(x, t, reduction=reduction, fused=fused), logits)


def test_cross_entropy_matches_numpy_reference():
    logits, idx = rng.standard_normal((6, 3)), rng.integers(0, 3, 6)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    expected = -logp[np.arange(6), idx]
    for fused in (False, True):
        np.testing.assert_allclose(F.cross_entropy(tl.Value(logits), idx, reduction="none", fused=fused).data, expected)
        assert F.cross_entropy(tl.Value(logits), idx, fused=fused).item() == pytest.approx(expected.mean())
    one_hot = np.eye(3)[idx]
    assert F.cross_entropy(tl.Value(logits), one_hot, reduction="sum").item() == pytest.approx(expected.sum())
    int_one_hot = one_hot.astype(int)  # integer one-hot of the logits' shape: still probabilities
    assert F.cross_entropy(tl.Value(logits), int_one_hot, reduction="sum").item() == pytest.approx(expected.sum())
    # 1-D logits are one sample; a list of scalars gives the same loss.
    assert F.cross_entropy(tl.Value(logits[0]), int(idx[0])).item() == pytest.approx(expected[0])
    assert F.cross_entropy(list(logits[0]), int(idx[0])).item() == pytest.approx(expected[0])
    assert F.cross_entropy(list(logits[0]), one_hot[0]).item() == pytest.approx(expected[0])


def test_fused_cross_entropy_is_finite_for_huge_logits():
    logits = tl.Value(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]]))
    loss = F.cross_entropy(logits, np.array([1, 1]), fused=True)
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(logits.grad))
    np.testing.assert_allclose(logits.grad, [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]], atol=1e-12)  # (ŷ − y)/N
    zs = [tl.Value(1e4), tl.Value(-1e4)]
    lst = F.cross_entropy(zs, 1, fused=True)
    lst.backward()
    assert lst.item() == pytest.approx(2e4) and [z.grad for z in zs] == [1.0, -1.0]


def test_composed_cross_entropy_warns_instead_of_silent_inf():
    logits = tl.Value(np.array([[1e4, -1e4]]))
    with pytest.warns(tl.NonFiniteWarning, match="fused=True"):
        loss = F.cross_entropy(logits, np.array([1]))
    assert loss.item() == np.inf


@given(shape=st.sampled_from([(3,), (2, 3), (2, 1, 2)]), reduction=st.sampled_from(["mean", "sum", "none"]))
def test_mse_matches_pytorch_convention(shape, reduction):
    p, t = rng.standard_normal(shape), rng.standard_normal(shape)
    out = F.mse_loss(tl.Value(p), t, reduction=reduction)
    ref = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]((p - t) ** 2)
    np.testing.assert_allclose(out.data, ref)
    assert tl.gradcheck(lambda x: F.mse_loss(x, t, reduction=reduction), p)


def test_mse_list_form_is_the_seed_formula():
    probs, y = [0.7, 0.2, 0.1], [1.0, 0.0, 0.0]
    vals = [tl.Value(v) for v in probs]
    loss = F.mse_loss(vals, y, reduction="sum")
    assert loss.item() == pytest.approx(sum((a - b) ** 2 for a, b in zip(y, probs)))
    assert F.mse_loss(vals, y).item() == pytest.approx(loss.item() / 3)
    assert len(F.mse_loss(vals, y, reduction="none")) == 3


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_both_forms(reduction):
    x, y = rng.standard_normal(6), rng.integers(0, 2, 6).astype(float)
    s = 1 / (1 + np.exp(-x))
    ref = -(y * np.log(s) + (1 - y) * np.log(1 - s))
    ref = {"mean": ref.mean(), "sum": ref.sum(), "none": ref}[reduction]
    np.testing.assert_allclose(F.binary_cross_entropy(tl.Value(s), y, reduction=reduction).data, ref)
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(tl.Value(x), y, reduction=reduction).data, ref)
    assert tl.gradcheck(lambda v: F.binary_cross_entropy(v.sigmoid(), y, reduction=reduction), x)
    assert tl.gradcheck(lambda v: F.binary_cross_entropy_with_logits(v, y, reduction=reduction), x)
    lst = F.binary_cross_entropy([tl.Value(v) for v in s], y, reduction=reduction)
    got = [v.data for v in lst] if reduction == "none" else lst.data
    np.testing.assert_allclose(got, ref)


def test_bce_with_logits_is_stable_and_exact_at_zero():
    x = tl.Value(np.array([1e4, -1e4, 0.0]))
    loss = F.binary_cross_entropy_with_logits(x, np.array([0.0, 1.0, 1.0]), reduction="sum")
    loss.backward()
    np.testing.assert_allclose(loss.item(), 2e4 + np.log(2))
    np.testing.assert_allclose(x.grad, [1.0, -1.0, -0.5])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: F.cross_entropy(tl.Value(np.zeros((2, 3))), np.array([0, 3])), "target class 3 is out of range for 3 classes"),
        (lambda: F.cross_entropy(tl.Value(np.zeros((2, 3))), np.array([0, -1])), "out of range"),
        (lambda: F.cross_entropy(tl.Value(np.zeros((2, 3))), np.array([0, 1, 2])), r"need \(2,\)"),
        (lambda: F.cross_entropy(tl.Value(np.zeros((2, 3))), np.array([0.5, 1.0])), "neither class indices"),
        (lambda: F.cross_entropy(tl.Value(np.zeros((2, 3))), np.full((2, 3), 2.0)), r"must lie in \[0, 1\]"),
        (lambda: F.cross_entropy(tl.Value(np.zeros((2, 3, 4))), 0), r"shape \(N, K\)"),
        (lambda: F.cross_entropy([tl.Value(1.0), tl.Value(2.0)], 2), "out of range for 2 classes"),
        (lambda: F.cross_entropy(tl.Value(np.zeros((2, 3))), np.array([0, 1]), reduction="avg"), "reduction='avg'"),
        (lambda: F.mse_loss(tl.Value(np.zeros(3)), np.zeros(4)), r"shape \(3,\) and target of shape \(4,\)"),
        (lambda: F.mse_loss([tl.Value(1.0)], [1.0, 2.0]), "1 predictions need 1 targets"),
        (lambda: F.binary_cross_entropy(tl.Value(np.array([1.5])), np.array([1.0])), "must lie in"),
        (lambda: F.binary_cross_entropy(tl.Value(np.array([0.5])), np.array([2.0])), "must lie in"),
        (lambda: F.softmax([]), "empty list"),
    ],
)
def test_bad_loss_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
