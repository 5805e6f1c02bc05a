"""Every op's backward against central finite differences in float64 (tl.gradcheck)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tests.strategies import arrays, as_input, broadcast_pair, small_shapes, tensor_and_axis

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


@pytest.mark.parametrize("name", BINARY)
@given(pair=broadcast_pair())
def test_binary_ops_broadcast(name, pair):
    a, b = pair
    if name == "div":
        b = np.where(np.abs(b) < 0.5, 1.0 + np.abs(b), b)
    fn = BINARY[name]
    assert tl.gradcheck(lambda x, y: fn(x, y), as_input(a), as_input(b))
    # The result has NumPy's broadcast shape and each grad its operand's shape.
    x, y = tl.Value(as_input(a)), tl.Value(as_input(b))
    out = fn(x, y)
    assert out.shape == np.broadcast_shapes(np.shape(a), np.shape(b))
    out.backward(np.ones(out.shape))
    assert np.shape(x.grad) == np.shape(a) and np.shape(y.grad) == np.shape(b)


@pytest.mark.parametrize("case", ["scalar+tensor", "(3,1)+(1,4)", "missing leading", "both broadcast"])
def test_named_broadcast_cases(case):
    rng = np.random.default_rng(0)
    shapes = {
        "scalar+tensor": ((), (2, 3)),
        "(3,1)+(1,4)": ((3, 1), (1, 4)),
        "missing leading": ((4,), (2, 3, 4)),
        "both broadcast": ((2, 1, 4), (3, 1)),
    }[case]
    a, b = (as_input(rng.standard_normal(s)) for s in shapes)
    for fn in BINARY.values():
        assert tl.gradcheck(lambda x, y, fn=fn: fn(x, y * y + 1.0), a, b)


@pytest.mark.parametrize(
    "name, fn, lo, hi",
    [
        ("neg", lambda x: -x, -3, 3),
        ("exp", lambda x: x.exp(), -3, 3),
        ("log", lambda x: x.log(), 0.1, 5),
        ("sigmoid", lambda x: x.sigmoid(), -6, 6),
        ("tanh", lambda x: x.tanh(), -3, 3),
        ("relu", lambda x: x.relu(), -3, 3),
        ("square", lambda x: x.square(), -3, 3),
        ("sqrt", lambda x: x.sqrt(), 0.1, 5),
        ("abs", lambda x: x.abs(), -3, 3),
        ("softplus", lambda x: x.softplus(), -6, 6),
        ("pow const", lambda x: x**3, -3, 3),
        ("pow fractional", lambda x: x**0.5, 0.1, 5),
        ("rpow", lambda x: 2.0**x, -3, 3),
    ],
)
@given(data=st.data())
def test_unary_ops(name, fn, lo, hi, data):
    x = data.draw(arrays(data.draw(small_shapes), lo, hi))
    if name in ("relu", "abs"):  # keep away from the kink, where finite differences straddle it
        x = np.where(np.abs(x) < 1e-3, 0.5, x)
    assert tl.gradcheck(fn, as_input(x))


@given(a=arrays(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), 0.2, 3.0),
       b=arrays(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), -2.0, 2.0))
def test_pow_value_exponent(a, b):
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        return
    assert tl.gradcheck(lambda x, y: x**y, as_input(a), as_input(b))


@given(case=tensor_and_axis())
def test_reductions_axis_keepdims(case):
    x, axis, keepdims = case
    assert tl.gradcheck(lambda v: v.sum(axis=axis, keepdims=keepdims), x)
    assert tl.gradcheck(lambda v: v.mean(axis=axis, keepdims=keepdims), x)
    out = tl.Value(x).sum(axis=axis, keepdims=keepdims)
    assert out.shape == np.sum(x, axis=axis, keepdims=keepdims).shape


@given(case=tensor_and_axis())
def test_max_matches_numpy_and_gradcheck(case):
    x, axis, keepdims = case
    x = x + np.arange(x.size).reshape(x.shape) * 1e-2  # distinct values: no ties at the max
    out = tl.Value(x).max(axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(out.data, np.max(x, axis=axis, keepdims=keepdims))
    assert tl.gradcheck(lambda v: v.max(axis=axis, keepdims=keepdims), x)


def test_max_ties_share_gradient():
    x = tl.Value([1.0, 3.0, 3.0])
    x.max().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.5, 0.5])


@pytest.mark.parametrize(
    "sa, sb",
    [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
     ((3,), (5, 3, 2)), ((5, 2, 3), (5, 3, 4)), ((2, 1, 2, 3), (4, 3, 2))],
)
def test_matmul_1d_2d_batched(sa, sb):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    out = tl.Value(a) @ tl.Value(b)
    np.testing.assert_allclose(out.data, a @ b)
    assert tl.gradcheck(lambda x, y: x @ y, a, b)
    assert tl.gradcheck(lambda y: a @ y, b)  # ndarray on the left goes through __rmatmul__


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_reshape_transpose(shape, data):
    x = data.draw(arrays(shape))
    perm = data.draw(st.permutations(range(len(shape))))
    assert tl.gradcheck(lambda v: v.reshape(-1) * np.arange(x.size), x)
    assert tl.gradcheck(lambda v: v.permute(*perm) * np.arange(x.size).reshape(np.transpose(x, perm).shape), x)
    assert tl.gradcheck(lambda v: v.T.square(), x)


def test_indexing_ints_slices_arrays():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3))
    for index in [1, (2, 0), slice(1, 3), (slice(None), 2), np.array([0, 2, 2, 3]),
                  (np.arange(4), np.array([0, 2, 1, 1])), [3, 3], (Ellipsis, 1)]:
        assert tl.gradcheck(lambda v, index=index: v[index].square(), x)
    v = tl.Value(x)
    v[np.array([1, 1, 1])].sum().backward()  # repeated indices add up
    np.testing.assert_allclose(v.grad[1], [3.0, 3.0, 3.0])


@given(x=arrays(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), -5, 5), data=st.data())
def test_softmax_log_softmax(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    w = np.random.default_rng(3).standard_normal(x.shape)
    assert tl.gradcheck(lambda v: v.softmax(axis) * w, x)
    assert tl.gradcheck(lambda v: v.log_softmax(axis) * w, x)
    s = tl.Value(x).softmax(axis).data
    np.testing.assert_allclose(s.sum(axis=axis), 1.0)
    np.testing.assert_allclose(tl.Value(x).log_softmax(axis).data, np.log(s), atol=1e-12)


@given(zs=st.lists(st.floats(-5, 5), min_size=1, max_size=5), data=st.data())
def test_scalar_softmax_group(zs, data):
    """K scalars in, K scalars out; each output depends on all K inputs."""
    i = data.draw(st.integers(0, len(zs) - 1))
    for fn in (F.softmax, F.log_softmax):
        assert tl.gradcheck(lambda *v, fn=fn: fn(list(v))[i] * 1.5, *zs)
        outs = fn([tl.Value(z) for z in zs])
        assert len(outs) == len(zs) and all(len(o.parents) == len(zs) for o in outs)
        np.testing.assert_allclose([o.data for o in outs], tl.Value(np.array(zs)).__getattribute__(fn.__name__)().data)


def test_functional_elementwise_on_lists():
    xs = [tl.Value(v) for v in (0.5, 1.5)]
    for name in ("exp", "log", "sigmoid", "tanh", "relu", "square", "sqrt"):
        out = getattr(F, name)(xs)
        assert [o.data for o in out] == [getattr(x, name)().data for x in xs]
        assert getattr(F, name)(tl.Value(np.array([0.5, 1.5]))).shape == (2,)
