"""SPEC §2b's everyday ops: backward against central differences (gradcheck) and against PyTorch."""

import operator

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tests.strategies import arrays, as_input, broadcast_pair, small_shapes, tensor_and_axis
from tinygrad_lite import Value

# name → (tinygrad_lite fn, torch fn, input range): elementwise ops of one input.
UNARY = {
    "sin": (lambda v: v.sin(), lambda t: t.sin(), -3, 3),
    "cos": (lambda v: v.cos(), lambda t: t.cos(), -3, 3),
    "log1p": (lambda v: v.log1p(), lambda t: t.log1p(), -0.9, 3),
    "erf": (lambda v: v.erf(), lambda t: t.erf(), -3, 3),
    "clamp": (lambda v: v.clamp(-1.0, 0.5), lambda t: t.clamp(-1.0, 0.5), -3, 3),
    "clamp_min": (lambda v: v.clamp(min=0.2), lambda t: t.clamp(min=0.2), -3, 3),
    "clip_max": (lambda v: v.clip(max=0.2), lambda t: t.clip(max=0.2), -3, 3),
    "leaky_relu": (lambda v: F.leaky_relu(v, 0.1), lambda t: tnf().leaky_relu(t, 0.1), -3, 3),
    "elu": (lambda v: F.elu(v, 0.7), lambda t: tnf().elu(t, 0.7), -3, 3),
    "silu": (F.silu, lambda t: tnf().silu(t), -6, 6),
    "gelu": (F.gelu, lambda t: tnf().gelu(t), -4, 4),
    "gelu_tanh": (lambda v: F.gelu(v, "tanh"), lambda t: tnf().gelu(t, approximate="tanh"), -4, 4),
}


def tnf():
    import torch.nn.functional

    return torch.nn.functional


def _away_from_kinks(name, a):
    """Finite differences across a kink are meaningless: keep points off them."""
    kinks = {"clamp": (-1.0, 0.5), "clamp_min": (0.2,), "clip_max": (0.2,), "leaky_relu": (0.0,), "elu": (0.0,)}
    for k in kinks.get(name, ()):
        a = np.where(np.abs(a - k) < 1e-3, k + 0.01, a)
    return a


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary_gradcheck(name, data):
    fn, _, lo, hi = UNARY[name]
    a = _away_from_kinks(name, data.draw(arrays(data.draw(small_shapes), lo, hi)))
    assert tl.gradcheck(fn, as_input(a))


@pytest.mark.parametrize("name", UNARY)
def test_unary_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    fn, tfn, lo, hi = UNARY[name]
    a = np.random.default_rng(0).uniform(lo, hi, (3, 5))
    a[0, :2] = [lo * 0.5, 0.0]
    x, t = Value(a), torch.tensor(a, requires_grad=True)
    w = np.random.default_rng(1).standard_normal(a.shape)
    (fn(x) * w).sum().backward()
    (tfn(t) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(fn(x).data, tfn(t).detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@given(pair=broadcast_pair())
def test_maximum_minimum_broadcast(name, pair):
    a, b = pair
    assume(np.all(np.abs(np.subtract(a, b)) > 1e-3))  # ties are a kink: checked against PyTorch below
    fn = getattr(tl, name)
    assert tl.gradcheck(fn, as_input(a), as_input(b))
    out = fn(Value(as_input(a)), Value(as_input(b)))
    np.testing.assert_array_equal(out.data, getattr(np, name)(a, b))


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_ties_split_the_gradient_as_pytorch(name):
    torch = pytest.importorskip("torch")
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0])
    x, y = Value(a), Value(b)
    getattr(tl, name)(x, y).sum().backward()
    tx, ty = (torch.tensor(v, requires_grad=True) for v in (a, b))
    getattr(torch, name)(tx, ty).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
    np.testing.assert_array_equal(y.grad, ty.grad.numpy())
    assert x.grad[0] == 0.5  # the tie: half each


@pytest.mark.parametrize("red", ["max", "min"])
def test_tied_reductions_share_the_gradient_as_pytorch(red):
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 3.0, 3.0], [1.0, 1.0, 2.0]])
    for axis in (None, 1):
        x, t = Value(a), torch.tensor(a, requires_grad=True)
        (getattr(x, red)() if axis is None else getattr(x, red)(dim=axis)).sum().backward()
        tr = getattr(t, "a" + red)  # amax/amin: PyTorch's reductions that split ties
        (tr() if axis is None else tr(dim=axis)).sum().backward()
        np.testing.assert_array_equal(x.grad, t.grad.numpy())


@given(case=tensor_and_axis())
def test_min_var_std_gradcheck(case):
    x, axis, keep = case
    assert tl.gradcheck(lambda v: v.min(axis, keep), x + np.arange(x.size).reshape(x.shape) * 1e-2)
    n = x.size if axis is None else np.prod([x.shape[a] for a in np.atleast_1d(axis)])
    for correction in (0, 1):
        if n - correction <= 0:
            continue
        assert tl.gradcheck(lambda v, c=correction: v.var(axis, c, keep), x)
        spread = x + np.arange(x.size).reshape(x.shape)  # std's kink is at zero spread
        assert tl.gradcheck(lambda v, c=correction: v.std(axis, correction=c, keepdims=keep), spread)


def test_var_std_match_pytorch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(3).standard_normal((4, 5))
    a[1] = 2.0  # a constant row: std 0, whose gradient PyTorch takes as 0
    for name in ("var", "std"):
        for kw in ({}, {"dim": 1}, {"dim": 0, "correction": 0, "keepdim": True}):
            x, t = Value(a), torch.tensor(a, requires_grad=True)
            out, tout = getattr(x, name)(**kw), getattr(t, name)(**kw)
            np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
            out.sum().backward()
            tout.sum().backward()
            np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-14)


@given(pair=broadcast_pair(), data=st.data())
def test_where_broadcast_routes_gradient_to_the_chosen_side(pair, data):
    a, b = pair
    shape = data.draw(st.sampled_from([np.shape(a), np.shape(b), np.broadcast_shapes(np.shape(a), np.shape(b))]))
    cond = data.draw(hnp.arrays(np.bool_, shape))
    assert tl.gradcheck(lambda x, y: tl.where(cond, x, y), as_input(a), as_input(b))
    x, y = Value(as_input(a)), Value(as_input(b))
    tl.where(cond, x, y).sum().backward()
    c = np.broadcast_to(cond, np.broadcast_shapes(shape, np.shape(a), np.shape(b)))
    # Each output element's gradient 1 went to exactly one side: the side it was taken from.
    assert np.sum(x.grad) == c.sum() and np.sum(y.grad) == (~c).sum()


def test_clamp_with_value_bounds_matches_pytorch():
    torch = pytest.importorskip("torch")
    a, lo, hi = np.array([-2.0, 0.0, 0.5, 1.0, 3.0]), np.array([0.0, 0.0, 0.0, 0.0, 0.0]), np.array([1.0] * 5)
    x, vlo, vhi = Value(a), Value(lo), Value(hi)
    tx, tlo, thi = (torch.tensor(v, requires_grad=True) for v in (a, lo, hi))
    w = np.arange(1.0, 6.0)
    (x.clamp(vlo, vhi) * w).sum().backward()
    (tx.clamp(tlo, thi) * torch.tensor(w)).sum().backward()
    for ours, theirs in ((x, tx), (vlo, tlo), (vhi, thi)):
        np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())
    np.testing.assert_array_equal(x.clamp(vlo, vhi).data, tx.clamp(tlo, thi).detach().numpy())


def test_where_and_clamp_match_pytorch():
    torch = pytest.importorskip("torch")
    a = np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]])
    b = np.array([[1.0], [3.0]])
    x, y = Value(a), Value(b)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (tl.where(x > 0, x, y) + x.clamp(-0.5, 0.5)).sum().backward()
    (torch.where(tx > 0, tx, ty) + tx.clamp(-0.5, 0.5)).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
    np.testing.assert_array_equal(y.grad, ty.grad.numpy())


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), data=st.data())
def test_shape_ops_gradcheck(shape, data):
    x = data.draw(arrays(shape))
    w = lambda s: np.arange(1, 1 + int(np.prod(s))).reshape(s)  # weights tell positions apart
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    d0, d1 = data.draw(st.integers(0, nd - 1)), data.draw(st.integers(0, nd - 1))
    cases = [
        lambda v: v.unsqueeze(dim) * w(np.expand_dims(x, dim).shape),
        lambda v: v.unsqueeze(0).squeeze(0) * w(shape),
        lambda v: v.squeeze() * w(np.squeeze(x).shape),
        lambda v: v.flatten() * w((x.size,)),
        lambda v: v.flatten(dim) * w(Value(x).flatten(dim).shape),
        lambda v: v.transpose(d0, d1) * w(np.swapaxes(x, d0, d1).shape),
        lambda v: v.unsqueeze(0).expand(2, *shape) * w((2,) + shape),
        lambda v: tl.cat([v, v * v], dim=dim) * w(np.concatenate([x, x], axis=dim).shape),
        lambda v: tl.stack([v, 2 * v, v.sin()], dim) * w(np.stack([x] * 3, axis=dim).shape),
    ]
    for fn in cases:
        assert tl.gradcheck(fn, x)


def test_shape_ops_match_numpy_and_pytorch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(4).standard_normal((2, 1, 3))
    x, t = Value(a), torch.tensor(a)
    pairs = [
        (x.squeeze(1), t.squeeze(1)), (x.squeeze(0), t.squeeze(0)), (x.squeeze(), t.squeeze()),
        (x.unsqueeze(-1), t.unsqueeze(-1)), (x.flatten(), t.flatten()), (x.flatten(1), t.flatten(1)),
        (x.expand(4, 2, 5, 3), t.expand(4, 2, 5, 3)), (x.expand(-1, 2, -1), t.expand(-1, 2, -1)),
        (x.transpose(0, 2), t.transpose(0, 2)), (x.permute(2, 0, 1), t.permute(2, 0, 1)),
        (tl.cat([x, x], dim=1), torch.cat([t, t], dim=1)), (tl.stack([x, x], dim=-1), torch.stack([t, t], dim=-1)),
        (x.argmax(), t.argmax()), (x.argmin(dim=2), t.argmin(dim=2)), (x.argmax(2, keepdim=True), t.argmax(2, keepdim=True)),
    ]
    for ours, theirs in pairs:
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_cat_of_mixed_float_widths_and_scalars():
    a32 = Value(np.ones((2, 2), np.float32))
    b = Value(np.ones((1, 2)))
    out = tl.cat([a32, b])
    (out * np.arange(6.0).reshape(3, 2)).sum().backward()
    assert a32.grad.dtype == np.float32 and b.grad.tolist() == [[4.0, 5.0]]
    s, t = Value(1.0), Value(2.0)
    y = tl.stack([s, t])
    (y * np.array([3.0, 4.0])).sum().backward()
    assert (s.grad, t.grad) == (3.0, 4.0)


def test_argmax_argmin_have_no_gradient_and_index():
    x = Value([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    i = x.argmax(1)
    assert i.data.tolist() == [1, 0] and i.dtype == np.int64
    assert not i.requires_grad and i.parents == ()
    picked = x[np.arange(2), i]
    picked.sum().backward()
    assert x.grad.tolist() == [[0, 1, 0], [1, 0, 0]]
    assert x.argmin().item() == 4


@pytest.mark.parametrize("op", [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne])
def test_comparisons_give_boolean_values_without_gradient(op):
    a = np.array([1.0, 2.0, 3.0])
    x = Value(a)
    out = op(x, 2.0)
    assert out.dtype == np.bool_ and not out.requires_grad and out.parents == ()
    np.testing.assert_array_equal(out.data, op(a, 2.0))
    np.testing.assert_array_equal(op(2.0, x).data, op(2.0, a))  # reflected
    np.testing.assert_array_equal(op(np.ones(3) * 2, x).data, op(np.ones(3) * 2, a))  # an array on the left
    np.testing.assert_array_equal(op(x, Value(a[::-1])).data, op(a, a[::-1]))
    assert isinstance(op(Value(1.0), 1), Value)


def test_values_stay_dict_keys_and_set_members_by_identity():
    a, b = Value(np.ones(3)), Value(np.ones(3))
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b" and len({a, b}) == 2 and a in {a} and b not in {a}
    assert hash(a) != hash(b)
    assert (a == b).data.all() and a is not b
    assert (a == "text") is False and (a != None) is True  # noqa: E711 - not comparable: identity
    with pytest.raises(ValueError, match="ambiguous"):
        bool(a == b)
    assert bool(Value(2.0) > 1) and not bool(Value(np.array([0.0])) > 1)
    m = (a > 0) & ~(b > 2) | (a < 0)
    assert m.dtype == np.bool_ and m.data.all()
    with pytest.raises(TypeError, match="boolean Values"):
        a & b


def test_boolean_mask_indexing_and_accuracy_idiom():
    x = Value([-1.0, 2.0, -3.0, 4.0])
    x[x > 0].sum().backward()
    assert x.grad.tolist() == [0, 1, 0, 1]
    pred, y = Value([[0.1, 0.9], [0.8, 0.2]]).argmax(1), np.array([1, 1])
    assert float((pred == y).mean()) == 0.5


def test_creation_functions():
    assert tl.zeros(2, 3).shape == (2, 3) and tl.ones((4,)).data.tolist() == [1, 1, 1, 1]
    for v in (tl.zeros(2), tl.ones(2), tl.full((2, 2), 7.0), tl.arange(3), tl.eye(2), tl.rand(2), tl.randn(2),
              tl.zeros_like(Value(np.ones(2))), tl.ones_like(np.ones(3))):
        assert not v.requires_grad and v.dtype == np.float64 and v.is_leaf
    assert tl.zeros(2, requires_grad=True).requires_grad
    assert tl.ones(2, dtype=np.float32).dtype == np.float32
    assert tl.zeros_like(Value(np.ones(2, np.float32))).dtype == np.float32
    assert tl.arange(1, 2, 0.25).data.tolist() == [1.0, 1.25, 1.5, 1.75]
    assert tl.eye(2, 3).data.tolist() == [[1, 0, 0], [0, 1, 0]]
    assert tl.full(3, -1.0, label="c").label == "c"
    r = tl.rand(1000)
    assert 0 <= r.data.min() and r.data.max() < 1
    with pytest.raises(ValueError, match="zeros: sizes must be non-negative ints"):
        tl.zeros(2, -1)
    with pytest.raises(TypeError, match="dtype must be a float type"):
        tl.ones(2, dtype=np.int64)


def test_manual_seed_seeds_randn_and_layer_init_from_one_generator():
    from tinygrad_lite import nn

    tl.manual_seed(3)
    a, w1 = tl.randn(4), nn.Linear(2, 2).weight.data.copy()
    tl.manual_seed(3)
    b, w2 = tl.randn(4), nn.Linear(2, 2).weight.data.copy()
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(w1, w2)
    nn.manual_seed(3)  # the same generator under its nn name
    np.testing.assert_array_equal(tl.randn(4).data, a.data)


@pytest.mark.parametrize(
    "call, exc, message",
    [
        (lambda: tl.cat([Value(np.ones((2, 3))), Value(np.ones((2, 4)))]), tl.ShapeError,
         r"cat: shapes \[\(2, 3\), \(2, 4\)\] differ outside dim 0"),
        (lambda: tl.cat([Value(1.0), Value(2.0)]), tl.ShapeError, "0-d Values cannot be concatenated; use tl.stack"),
        (lambda: tl.cat(Value(np.ones(2))), TypeError, "cat: takes a list or tuple of Values"),
        (lambda: tl.cat([]), ValueError, "cat: got an empty list"),
        (lambda: tl.cat([Value(np.ones(2))], dim=1), tl.ShapeError, r"cat: dim 1 is out of range"),
        (lambda: tl.stack([Value(np.ones(2)), Value(np.ones(3))]), tl.ShapeError, "stack: every Value must have the same shape"),
        (lambda: tl.where(Value(np.ones(2)), 1.0, 2.0), TypeError, "where: cond must be boolean"),
        (lambda: tl.where(np.ones(2, bool), np.ones(3), 0.0), tl.ShapeError, r"where: cond of shape \(2,\), a of shape \(3,\)"),
        (lambda: tl.maximum(Value(np.ones(2)), np.ones(3)), tl.ShapeError, "maximum: operands of shapes"),
        (lambda: Value(np.ones(2)).clamp(), ValueError, "clamp: give min=, max= or both"),
        (lambda: Value(np.ones(2)).clamp("a"), TypeError, "clamp: min must be a number"),
        (lambda: Value(np.ones((2, 3))).expand(3, 3), tl.ShapeError, r"expand: cannot expand shape \(2, 3\) to \(3, 3\)"),
        (lambda: Value(np.ones((2, 3))).expand(3), tl.ShapeError, "to fewer dimensions"),
        (lambda: Value(np.ones((2, 3))).unsqueeze(3), tl.ShapeError, r"unsqueeze: dim 3 is out of range.*-3..2"),
        (lambda: Value(np.ones((2, 3))).squeeze(2), tl.ShapeError, "squeeze: dim 2 is out of range"),
        (lambda: Value(np.ones((2, 3))).flatten(1, 0), tl.ShapeError, "flatten: start_dim 1 comes after end_dim 0"),
        (lambda: Value(np.ones((2, 3))).argmax(2), tl.ShapeError, "argmax: dim 2 is out of range"),
        (lambda: Value(np.ones((2, 3))).var(dim=(0, 3)), tl.ShapeError, "var: axis 3 is out of range"),
        (lambda: Value(np.ones((2, 3))).min(axis=0, dim=1), TypeError, "min: got axis=0 and dim=1"),
        (lambda: Value(np.ones((2, 3))).permute(1), tl.ShapeError, r"permute: 1 dims \(1,\) given for a Value of shape"),
        (lambda: Value(np.ones((2, 3))).transpose(0, 1, 2), TypeError, "transpose: takes the two dims to swap"),
        (lambda: Value(np.ones((2, 3))).transpose((1, 0)), TypeError, "use x.permute"),
        (lambda: F.gelu(Value(1.0), "fast"), ValueError, "gelu: approximate='fast'"),
        (lambda: F.leaky_relu(Value(1.0), "x"), TypeError, "leaky_relu: negative_slope must be a number"),
        (lambda: Value(np.zeros((0, 2))).min(), tl.ShapeError, "min: a Value of shape .* is empty"),
    ],
)
def test_bad_input_names_the_op_and_shapes(call, exc, message):
    with pytest.raises(exc, match=message):
        call()


@settings(max_examples=20)
@given(x=arrays(hnp.array_shapes(min_dims=1, max_dims=2, max_side=3)))
def test_scalar_lists_for_activations(x):
    xs = [Value(float(v)) for v in x.ravel()]
    for fn in (F.gelu, F.silu, F.elu, F.leaky_relu):
        outs = fn(xs)
        np.testing.assert_allclose([o.data for o in outs], fn(Value(x.ravel())).data, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "build",
    [
        lambda Z, W: (Z @ W).sin().cos().sum(),
        lambda Z, W: F.gelu(Z).log1p().sum() + F.silu(W).sum(),
        lambda Z, W: (tl.maximum(Z, 0.1) * tl.minimum(Z, Z * 2) + Z.clamp(-0.5, 0.5)).sum(),
        lambda Z, W: (F.leaky_relu(Z, 0.2) + F.elu(Z)).softmax(-1).sum(),
        lambda Z, W: tl.where(Z > 0, Z, Z * Z).sum(),
        lambda Z, W: (tl.cat([Z, Z.square()], dim=1).unsqueeze(0).squeeze(0).flatten() * 2).sum(),
        lambda Z, W: (tl.stack([Z, -Z], dim=2).permute(2, 0, 1) * 1.5).sum() + Z[0].expand(2, 2).sum(),
    ],
)
def test_new_ops_unroll_to_scalars_with_the_same_gradients(build):
    """unroll rebuilds the graph from scalar Values and checks its gradients against the tensor graph's."""
    Z = Value(np.array([[0.3, -0.8], [1.2, 0.05]]), label="Z")
    W = Value(np.array([[0.5, -1.0], [0.25, 2.0]]), label="W")
    u = tl.unroll(build(Z, W))
    np.testing.assert_allclose(u.grad(Z), u.tensor_grads[Z], rtol=1e-12, atol=1e-15)


def test_nn_gelu_and_leaky_relu_modules():
    torch = pytest.importorskip("torch")
    from tinygrad_lite import nn

    a = np.linspace(-3, 3, 7)
    for ours, theirs in ((nn.GELU(), torch.nn.GELU()), (nn.GELU("tanh"), torch.nn.GELU(approximate="tanh")),
                         (nn.LeakyReLU(), torch.nn.LeakyReLU()), (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2))):
        np.testing.assert_allclose(ours(Value(a)).data, theirs(torch.tensor(a)).numpy(), rtol=1e-12, atol=1e-15)
        assert ours.parameters() == []
    model = nn.Sequential(nn.Linear(2, 3), nn.GELU(), nn.Linear(3, 1), nn.LeakyReLU(0.1))
    model(Value(np.ones((4, 2)))).sum().backward()
    assert all(np.any(p.grad != 0) for p in model.parameters())
    assert repr(nn.GELU()) == "GELU()"


def test_new_ops_keep_float32():
    x = Value(np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3))
    builds = [lambda v: v.sin(), lambda v: (v * v).log1p(), lambda v: v.clamp(-1, 1), lambda v: tl.maximum(v, 0.5),
              lambda v: tl.where(v > 0, v, 0.0), F.gelu, lambda v: F.gelu(v, "tanh"), F.elu, F.leaky_relu, F.silu,
              lambda v: v.var(1), lambda v: v.std(0), lambda v: v.min(1), lambda v: tl.cat([v, v]),
              lambda v: tl.stack([v, v]), lambda v: v[0].expand(2, 3), lambda v: v.permute(1, 0)]
    for build in builds:
        x.zero_grad()
        y = build(x)
        y.sum().backward()
        assert y.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize(
    "build",
    [
        lambda v: v.sin().sum() + (v.cos() * v).sum() + v.erf().sum() + (v * v).log1p().sum(),
        lambda v: (F.gelu(v) + F.gelu(v, "tanh") + F.silu(v) + F.elu(v) * v + F.leaky_relu(v, 0.2) * v).sum(),
        lambda v: (v.clamp(-1, 1) * v + tl.maximum(v, 0.1) * v + tl.minimum(v, v * v)).sum(),
        lambda v: tl.where(v > 0, v * v, v * v * v).sum() + (v.min(1) ** 2).sum(),
        lambda v: (tl.cat([v, v * v], dim=1) ** 2).sum() + (tl.stack([v, v * v]) ** 2).sum(),
        lambda v: (v[0].expand(2, 3) * v).sum() + (v.unsqueeze(0).squeeze().flatten() ** 2).sum()
        + (v.permute(1, 0) ** 2).sum(),
    ],
)
def test_second_order_through_the_new_ops(build):
    assert tl.gradgradcheck(build, np.array([[0.3, -0.8, 1.1], [1.2, 0.05, -2.0]]))


@pytest.mark.parametrize("build", [lambda v: v.var(1).sum() * v.sum(), lambda v: (v.std(0) ** 2).sum() + v.std(),
                                   lambda v: v.var(keepdims=True).sum(), lambda v: v.std(1, correction=0).sum()])
def test_second_order_through_var_and_std(build):
    assert tl.gradgradcheck(build, np.array([[0.3, -0.8, 1.1], [1.2, 0.05, -2.0]]))


def test_std_second_derivative_matches_pytorch():
    torch = pytest.importorskip("torch")
    x0 = np.array([[0.3, -0.8, 1.1], [1.2, 0.05, -2.0]])
    xt = torch.tensor(x0, requires_grad=True)
    (gt,) = torch.autograd.grad(xt.std(1).sum(), xt, create_graph=True)
    (ht,) = torch.autograd.grad((gt ** 2).sum(), xt)
    xv = Value(x0)
    (gv,) = tl.grad(xv.std(1).sum(), xv, create_graph=True)
    (hv,) = tl.grad((gv ** 2).sum(), xv)
    np.testing.assert_allclose(hv, ht.numpy(), rtol=1e-10, atol=1e-12)
