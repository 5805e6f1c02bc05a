"""SPEC §8 claim 7, from backprop twice: CE's Hessian in the logits is diag(ŷ) − ŷŷᵀ (PSD), MSE's is not."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tinygrad_lite import curvature, seed

logits = st.lists(st.floats(-8, 8), min_size=2, max_size=6)


@settings(max_examples=25)
@given(z=logits, data=st.data())
def test_ce_hessian_is_the_closed_form_and_psd(z, data):
    p = data.draw(st.integers(0, len(z) - 1))
    H = curvature.logit_hessian("ce", tuple(z), p)
    yhat = curvature.softmax_of(tuple(z))
    np.testing.assert_allclose(H, curvature.ce_closed_form(yhat), atol=1e-9, rtol=1e-9)
    assert np.linalg.eigvalsh(H).min() >= -1e-9
    # the tensor form (one (K,) Value) gives the same matrix
    np.testing.assert_allclose(tl.hessian(lambda v: F.cross_entropy(v, p), np.array(z)), H, atol=1e-9)


@settings(max_examples=15)
@given(q=st.floats(0.005, 0.32))
def test_mse_hessian_has_a_negative_eigenvalue_below_a_third(q):
    H = curvature.logit_hessian("mse", seed.sweep_point(q), 0)
    expected = 4.5 * q * (1 - q) ** 2 * (3 * q - 1)  # SymPy's closed form, see below
    assert curvature.curvatures(H)[0] == pytest.approx(expected, abs=1e-9)
    assert np.linalg.eigvalsh(H).min() < -1e-9


@settings(max_examples=15)
@given(q=st.floats(0.34, 0.995))
def test_mse_hessian_is_psd_above_a_third(q):
    H = curvature.logit_hessian("mse", seed.sweep_point(q), 0)
    assert np.linalg.eigvalsh(H).min() >= -1e-9
    c = curvature.curvatures(H)
    np.testing.assert_allclose(sorted(c), sorted([(1 - q) ** 2 * (3 * q + 1) / 2, 4.5 * q * (1 - q) ** 2 * (3 * q - 1)]),
                               atol=1e-9)


def test_mse_threshold_is_one_third():
    assert curvature.mse_threshold() == pytest.approx(1 / 3, abs=1e-9)


def test_closed_forms_symbolically():
    assert curvature.symbolic_ce_hessian_is_closed_form(3, 0)
    assert curvature.symbolic_ce_hessian_is_closed_form(3, 2)
    import sympy

    q = sympy.symbols("q", positive=True)
    got = curvature.symbolic_mse_sweep_curvatures()
    want = [sympy.Integer(0), (1 - q) ** 2 * (3 * q + 1) / 2, 9 * q * (1 - q) ** 2 * (3 * q - 1) / 2]
    assert len(got) == 3 and all(any(sympy.simplify(g - w) == 0 for g in got) for w in want)


def test_seed_point_mse_is_already_not_convex():
    # the seed example's ŷ_p ≈ 0.11 < 1/3 (but its wrong mass is not spread evenly): still non-convex there
    assert np.linalg.eigvalsh(curvature.logit_hessian("mse")).min() < -0.1
    assert np.linalg.eigvalsh(curvature.logit_hessian("ce")).min() > -1e-12


def test_report_mentions_the_claims():
    text = curvature.report()
    assert "diag(ŷ) − ŷŷᵀ" in text and "True" in text and "0.333333" in text
    assert "3*q - 1" in text
