"""F.linear as one node, as PyTorch's addmm: x @ Wᵀ + b with parents (x, W, b), checked by
finite differences, second order, PyTorch and the unrolled scalar graph."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tinygrad_lite import nn, viz
from tinygrad_lite.unrolling import SumOf

SHAPES = [(3,), (4, 3), (2, 4, 3)]


def _args(x_shape, bias_shape=(2,), seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(x_shape), rng.standard_normal((2, 3)), rng.standard_normal(bias_shape)


@pytest.mark.parametrize("x_shape", SHAPES)
def test_gradcheck_through_x_weight_and_bias(x_shape):
    assert tl.gradcheck(lambda x, w, b: F.linear(x, w, b).tanh(), *_args(x_shape))


@pytest.mark.parametrize("x_shape", [s for s in SHAPES if len(s) > 1])  # on a 1-D input it would widen the output
def test_a_bias_that_broadcasts_gets_its_gradient_summed_back(x_shape):
    """A bias of shape (1, out) on a batch adds into every row: its gradient is summed to (1, out)."""
    assert tl.gradcheck(lambda x, w, b: F.linear(x, w, b) ** 2, *_args(x_shape, (1, 2)))


@pytest.mark.parametrize("x_shape", SHAPES)
def test_gradgradcheck_and_hessian_through_the_bias(x_shape):
    x, w, b = _args(x_shape)
    assert tl.gradgradcheck(lambda x, w, b: (F.linear(x, w, b) ** 3).sum(), x, w, b)
    # ∂²/∂b² of Σ tanh(xWᵀ + b): diagonal, -2·tanh·(1 − tanh²) summed over the rows
    H = tl.hessian(lambda b: F.linear(tl.Value(x), tl.Value(w), b).tanh().sum(), b)
    t = np.tanh(x @ w.T + b).reshape(-1, 2)
    np.testing.assert_allclose(H, np.diag((-2 * t * (1 - t**2)).sum(axis=0)), rtol=1e-10, atol=1e-12)


def test_backward_create_graph_gives_the_bias_gradient_as_a_graph():
    x, w, b = (tl.Value(a) for a in _args((4, 3)))
    (F.linear(x, w, b) ** 2).sum().backward(create_graph=True)
    assert isinstance(b.grad, tl.Value)
    np.testing.assert_allclose(b.grad.data, (2 * (x.data @ w.data.T + b.data)).sum(axis=0), rtol=1e-12)


@given(batch=st.lists(st.integers(1, 4), max_size=2), n_in=st.integers(1, 5), n_out=st.integers(1, 5),
       bias=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_forward_and_gradients_match_torch(batch, n_in, n_out, bias, dtype, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((*batch, n_in)), rng.standard_normal((n_out, n_in))]
    if bias:
        arrays.append(rng.standard_normal(n_out))
    arrays = [a.astype(dtype) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    tout = torch.nn.functional.linear(*ts)
    (tout ** 2).sum().backward()
    vs = [tl.Value(a) for a in arrays]
    out = F.linear(*vs)
    (out ** 2).sum().backward()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert out.dtype == dtype and out.parents == tuple(vs)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=tol, atol=tol)
    for v, t in zip(vs, ts):
        assert v.grad.dtype == dtype
        np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=tol, atol=tol * 10)


def test_one_node_with_the_bias_as_third_parent_and_two_without():
    x, w, b = (tl.Value(a) for a in _args((4, 3)))
    out = F.linear(x, w, b)
    assert out.op == "linear" and out.parents == (x, w, b)
    assert F.linear(x, w).parents == (x, w)
    lin = nn.Linear(3, 2)
    assert lin(np.ones((4, 3))).parents[1:] == (lin.weight, lin.bias)


def test_the_bias_is_added_into_the_product_and_touches_no_input():
    x, w, b = _args((4, 3))
    before = [a.copy() for a in (x, w, b)]
    out = F.linear(tl.Value(x), tl.Value(w), tl.Value(b))
    np.testing.assert_array_equal(out.data, x @ w.T + b)
    for a, a0 in zip((x, w, b), before):
        np.testing.assert_array_equal(a, a0)


def test_a_bias_of_another_dtype_promotes_as_numpy():
    x, w, b = _args((4, 3))
    out = F.linear(tl.Value(x.astype(np.float32)), tl.Value(w.astype(np.float32)), tl.Value(b))
    assert out.dtype == np.float64  # float32 product + float64 bias, as NumPy (and the add it replaces)
    out.sum().backward()
    assert out.parents[0].grad.dtype == np.float32 and out.parents[2].grad.dtype == np.float64


@pytest.mark.parametrize("bias_shape", [(3,), (2, 2), (5, 4, 2)])
def test_a_bias_that_does_not_fit_names_linear_and_the_shapes(bias_shape):
    x, w, b = _args((4, 3), bias_shape)
    with pytest.raises(tl.ShapeError, match=re.escape(f"linear: bias of shape {bias_shape}") + r".*output of shape \(4, 2\)"):
        F.linear(tl.Value(x), tl.Value(w), tl.Value(b))
    x, w, b = _args((3,), (1, 2))  # a bias may not widen the output (a 1-D input's is (2,)); PyTorch squeezes it
    with pytest.raises(tl.ShapeError, match=r"linear: bias of shape \(1, 2\) does not fit the output of shape \(2,\)"):
        F.linear(tl.Value(x), tl.Value(w), tl.Value(b))


def test_unrolled_as_a_sum_of_products_then_an_add_of_the_bias_element():
    x, w, b = (tl.Value(a, label=n) for a, n in zip(_args((2, 3)), ("X", "W", "b")))
    u = tl.unroll(F.linear(x, w, b).sum())
    entry = u.scalars[u.tensor_root.parents[0]][1, 0]
    s, bias = entry.parents
    assert entry.op == "add" and bias is u.element(b, (0,))
    assert isinstance(s._op, SumOf) and s.label == "linear0[1,0]" and [p.op for p in s.parents] == ["mul"] * 3
    assert u.count == 2 * 2 * (3 + 1 + 1) + 1 + 6 + 6 + 2  # products, sum, add; the loss sum; the leaves


def test_drawing_shows_three_edges_with_their_vjps():
    x, w, b = (tl.Value(a, label=n) for a, n in zip(_args((4, 3)), ("X", "W", "b")))
    loss = F.linear(x, w, b).sum()
    loss.backward()
    src = viz.draw_graph(loss).source
    for text in ("g @ W", "gᵀ @ x", "g summed over the batch"):
        assert text in src
