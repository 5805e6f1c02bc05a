"""SPEC §8 claims 1–5: gradients from backprop equal the seed articles' closed forms."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lite as tl
import tinygrad_lite.functional as F

RTOL, ATOL = 1e-9, 1e-12


@st.composite
def sample(draw):
    """Logits for K classes and a target class p."""
    k = draw(st.integers(2, 6))
    z = draw(st.lists(st.floats(-6, 6), min_size=k, max_size=k))
    return np.array(z), draw(st.integers(0, k - 1))


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


@given(s=sample(), fused=st.booleans())
def test_claim1_cross_entropy_gradient_is_yhat_minus_y(s, fused):
    z, p = s
    y = np.eye(len(z))[p]
    zs = [tl.Value(v) for v in z]
    F.cross_entropy(zs, p, fused=fused).backward()
    np.testing.assert_allclose([v.grad for v in zs], softmax(z) - y, rtol=RTOL, atol=ATOL)
    zt = tl.Value(z[None, :])  # the tensor form agrees
    F.cross_entropy(zt, np.array([p]), fused=fused).backward()
    np.testing.assert_allclose(zt.grad[0], softmax(z) - y, rtol=RTOL, atol=ATOL)


@given(s=sample(), data=st.data())
def test_claim2_softmax_jacobian(s, data):
    z, _ = s
    i = data.draw(st.integers(0, len(z) - 1))
    zs = [tl.Value(v) for v in z]
    yhat = F.softmax(zs)
    yhat[i].backward()
    y = softmax(z)
    expected = [y[i] * (1 - y[i]) if j == i else -y[i] * y[j] for j in range(len(z))]
    np.testing.assert_allclose([v.grad for v in zs], expected, rtol=RTOL, atol=ATOL)


@given(s=sample())
def test_claim3_mse_gradient_and_its_vanishing(s):
    z, p = s
    zs = [tl.Value(v) for v in z]
    F.mse_loss(F.softmax(zs), np.eye(len(z))[p], reduction="sum").backward()
    y = softmax(z)
    others = sum(y[k] ** 2 for k in range(len(z)) if k != p)
    expected_p = -2 * y[p] * (1 - y[p]) ** 2 - 2 * y[p] * others
    np.testing.assert_allclose(zs[p].grad, expected_p, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("gap", [4.0, 8.0, 12.0])
def test_claim3_mse_stalls_where_cross_entropy_does_not(gap):
    """ŷ_p → 0: MSE's ∂L/∂z_p → 0 while CE's → −1."""
    z = [0.0, gap, 0.0]  # confidently wrong about target 0
    grads = {}
    for name, loss in {"ce": lambda v: F.cross_entropy(v, 0),
                       "mse": lambda v: F.mse_loss(F.softmax(v), [1.0, 0.0, 0.0], reduction="sum")}.items():
        zs = [tl.Value(v) for v in z]
        loss(zs).backward()
        grads[name] = zs[0].grad
    yp = softmax(np.array(z))[0]
    assert grads["ce"] == pytest.approx(yp - 1, rel=RTOL)
    assert abs(grads["mse"]) <= 4 * yp  # 2ŷ_p(1−ŷ_p)² + 2ŷ_p Σŷ_k² ≤ 4ŷ_p: shrinks with ŷ_p
    assert abs(grads["ce"]) > 0.9


@given(w=st.floats(-3, 3), b=st.floats(-3, 3), x=st.floats(-3, 3), y=st.sampled_from([0.0, 1.0]))
def test_claim4_sigmoid_mse_vs_bce(w, b, x, y):
    s = 1 / (1 + np.exp(-(w * x + b)))
    wv = tl.Value(w)
    yhat = (wv * x + b).sigmoid()
    F.mse_loss([yhat], [y], reduction="sum").backward()
    np.testing.assert_allclose(wv.grad, 2 * (s - y) * s * (1 - s) * x, rtol=RTOL, atol=ATOL)
    wv2 = tl.Value(w)
    F.binary_cross_entropy((wv2 * x + b).sigmoid(), np.array(y)).backward()
    np.testing.assert_allclose(wv2.grad, (s - y) * x, rtol=1e-7, atol=ATOL)


def test_claim4_mse_vanishes_at_saturation_bce_does_not():
    w, x, y = tl.Value(10.0), 2.0, 0.0  # σ(20) ≈ 1 but the label is 0
    F.mse_loss([(w * x).sigmoid()], [y], reduction="sum").backward()
    w2 = tl.Value(10.0)
    F.binary_cross_entropy([(w2 * x).sigmoid()], [y]).backward()
    assert abs(w.grad) < 1e-7 and w2.grad == pytest.approx(x, rel=1e-6)


def test_claim5_mse_prefers_spreading_cross_entropy_does_not():
    label = [1.0, 0.0, 0.0]
    even, skewed = [0.8, 0.1, 0.1], [0.8, 0.15, 0.05]
    mse = {k: F.mse_loss([tl.Value(v) for v in p], label, reduction="sum").item()
           for k, p in (("even", even), ("skewed", skewed))}
    assert mse["even"] == pytest.approx(0.06, rel=RTOL)
    assert mse["skewed"] == pytest.approx(0.065, rel=RTOL)
    ce = {k: F.cross_entropy([tl.Value(np.log(v)) for v in p], 0).item()
          for k, p in (("even", even), ("skewed", skewed))}
    assert ce["even"] == pytest.approx(-np.log(0.8), rel=RTOL)
    assert ce["skewed"] == pytest.approx(ce["even"], rel=RTOL)
