"""Second derivatives: create_graph, tl.grad, tl.hessian, tl.gradgradcheck, for every op.

Every op's gradient-of-gradient is checked against central differences
(gradgradcheck) always, and against PyTorch where it is installed.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tests.strategies import arrays, as_input, broadcast_pair, tensor_and_axis
from tinygrad_lite import ops, second_order

RNG_SEED = 7


def _scalarise(o, w1, w2):
    """A scalar from any output, with a nonzero second derivative even for linear ops."""
    return (o * w1 + o * o * w2).sum()


def _weights(shape, seed=RNG_SEED):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape), rng.standard_normal(shape)


def tl_first_second(fn, arrays_, seed=RNG_SEED):
    """(first derivatives, second derivatives along random directions u) by tl.grad twice."""
    xs = [tl.Value(as_input(np.array(a, dtype=np.float64))) for a in arrays_]
    o = fn(*xs)
    w1, w2 = _weights(o.shape, seed)
    f = _scalarise(o, w1, w2)
    gs = tl.grad(f, xs, create_graph=True, allow_unused=True)
    us = [np.random.default_rng(seed + 1 + k).standard_normal(np.shape(a)) for k, a in enumerate(arrays_)]
    s = sum((g * u).sum() for g, u in zip(gs, us) if g is not None)
    first = [np.zeros(np.shape(a)) if g is None else np.asarray(g.data) for g, a in zip(gs, arrays_)]
    if not isinstance(s, tl.Value) or not s.requires_grad:
        return first, [np.zeros(np.shape(a)) for a in arrays_]
    second = tl.grad(s, xs, allow_unused=True)
    return first, [np.zeros(np.shape(a)) if h is None else np.asarray(h) for h, a in zip(second, arrays_)]


def torch_first_second(fn, arrays_, seed=RNG_SEED):
    torch = pytest.importorskip("torch")
    xs = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays_]
    o = fn(*xs)
    w1, w2 = (torch.tensor(w) for w in _weights(tuple(o.shape), seed))
    f = _scalarise(o, w1, w2)
    gs = torch.autograd.grad(f, xs, create_graph=True, allow_unused=True)
    us = [torch.tensor(np.random.default_rng(seed + 1 + k).standard_normal(np.shape(a)))
          for k, a in enumerate(arrays_)]
    s = sum((g * u).sum() for g, u in zip(gs, us) if g is not None)
    first = [np.zeros(np.shape(a)) if g is None else g.detach().numpy() for g, a in zip(gs, arrays_)]
    if not isinstance(s, torch.Tensor) or not s.requires_grad:
        return first, [np.zeros(np.shape(a)) for a in arrays_]
    second = torch.autograd.grad(s, xs, allow_unused=True)
    return first, [np.zeros(np.shape(a)) if h is None else h.numpy() for h, a in zip(second, arrays_)]


def check_op(tl_fn, torch_fn, *arrays_, torch_too=True):
    """gradgradcheck always; the first and second derivatives equal PyTorch's to 1e-9."""
    w1, w2 = _weights(np.shape(tl_fn(*[tl.Value(as_input(np.array(a, dtype=np.float64))) for a in arrays_]).data))
    assert tl.gradgradcheck(lambda *xs: _scalarise(tl_fn(*xs), w1, w2), *[as_input(a) for a in arrays_])
    if not torch_too:
        return
    pytest.importorskip("torch")
    ours, theirs = tl_first_second(tl_fn, arrays_), torch_first_second(torch_fn, arrays_)
    for mine, ref in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        np.testing.assert_allclose(np.asarray(mine, dtype=np.float64).reshape(np.shape(ref)), ref,
                                   rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------- elementwise, with broadcasting

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}


@pytest.mark.parametrize("name", BINARY)
@settings(max_examples=8)
@given(pair=broadcast_pair())
def test_binary_second_derivatives_broadcast(name, pair):
    a, b = pair
    if name == "div":
        b = np.where(np.abs(b) < 0.5, 1.0 + np.abs(b), b)
    if name == "pow":
        # At an exponent of exactly 0 PyTorch masks x's gradient to 0, so its ∂²/∂x∂y there is 0
        # (central differences and we give y·x^(y−1)·ln x + x^(y−1)); compare away from it.
        a, b = np.abs(a) + 0.5, np.where(np.abs(b) < 0.1, 0.5, np.clip(b, -2, 2))
    check_op(BINARY[name], BINARY[name], a, b)


def _torch_unary(name):
    return {
        "neg": lambda x: -x, "exp": lambda x: x.exp(), "log": lambda x: x.log(),
        "sigmoid": lambda x: x.sigmoid(), "tanh": lambda x: x.tanh(), "relu": lambda x: x.relu(),
        "square": lambda x: x.square(), "sqrt": lambda x: x.sqrt(), "abs": lambda x: x.abs(),
        "softplus": lambda x: __import__("torch").nn.functional.softplus(x),
        "pow3": lambda x: x**3, "pow_half": lambda x: x**0.5, "pow_neg": lambda x: x**-1.5,
        "times_const": lambda x: 2.5 * x - 1.0, "const_over": lambda x: 3.0 / x, "const_pow": lambda x: 2.0**x,
    }[name]


UNARY = {
    "neg": (lambda x: -x, -3, 3),
    "exp": (lambda x: x.exp(), -3, 3),
    "log": (lambda x: x.log(), 0.2, 5),
    "sigmoid": (lambda x: x.sigmoid(), -6, 6),
    "tanh": (lambda x: x.tanh(), -3, 3),
    "relu": (lambda x: x.relu(), -3, 3),
    "square": (lambda x: x.square(), -3, 3),
    "sqrt": (lambda x: x.sqrt(), 0.2, 5),
    "abs": (lambda x: x.abs(), -3, 3),
    "softplus": (lambda x: x.softplus(), -6, 6),
    "pow3": (lambda x: x**3, -2, 2),
    "pow_half": (lambda x: x**0.5, 0.2, 4),
    "pow_neg": (lambda x: x**-1.5, 0.3, 3),
    "times_const": (lambda x: 2.5 * x - 1.0, -3, 3),
    "const_over": (lambda x: 3.0 / x, 0.3, 3),
    "const_pow": (lambda x: 2.0**x, -2, 2),
}


@pytest.mark.parametrize("name", UNARY)
@settings(max_examples=6)
@given(data=st.data())
def test_unary_second_derivatives(name, data):
    fn, lo, hi = UNARY[name]
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    x = data.draw(arrays(shape, lo, hi))
    if name in ("relu", "abs"):
        x = np.where(np.abs(x) < 1e-3, 0.5, x)  # away from the kink
    check_op(fn, _torch_unary(name), x)


# ---------------------------------------------------------------- reductions, shapes, indexing, matmul

@pytest.mark.parametrize("kind", ["sum", "mean", "max"])
@settings(max_examples=8)
@given(case=tensor_and_axis())
def test_reduction_second_derivatives(kind, case):
    x, axis, keepdims = case
    x = x + np.arange(x.size).reshape(x.shape) * 1e-3  # no ties for max
    torch_kind = "amax" if kind == "max" else kind

    def torch_fn(t):
        dim = tuple(range(t.ndim)) if axis is None else axis
        return getattr(t, torch_kind)(dim=dim, keepdim=keepdims)

    check_op(lambda v: getattr(v, kind)(axis=axis, keepdims=keepdims), torch_fn, x)


@pytest.mark.parametrize("case", ["reshape", "transpose", "T", "basic index", "advanced repeats",
                                  "row picks", "scalar pick"])
def test_shape_and_index_second_derivatives(case):
    x = np.random.default_rng(1).standard_normal((3, 4))
    fns = {
        "reshape": (lambda v: v.reshape(2, 6) * v.reshape(2, 6)[:, :1], lambda t: t.reshape(2, 6) * t.reshape(2, 6)[:, :1]),
        "transpose": (lambda v: v.transpose(1, 0) @ v, lambda t: t.permute(1, 0) @ t),
        "T": (lambda v: v.T.exp(), lambda t: t.T.exp()),
        "basic index": (lambda v: v[1:, ::2] * v[0, 0], lambda t: t[1:, ::2] * t[0, 0]),
        "advanced repeats": (lambda v: v[[0, 0, 2]] * v[[1, 1, 1]], lambda t: t[[0, 0, 2]] * t[[1, 1, 1]]),
        "row picks": (lambda v: v[np.arange(3), [1, 3, 1]].tanh(), lambda t: t[np.arange(3), [1, 3, 1]].tanh()),
        "scalar pick": (lambda v: v[2, 1] * v, lambda t: t[2, 1] * t),
    }
    check_op(*fns[case], x)


@pytest.mark.parametrize("sa, sb", [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
                                    ((2, 3, 4), (4, 2)), ((2, 1, 3, 4), (3, 4, 2))])
def test_matmul_second_derivatives(sa, sb):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    check_op(lambda x, y: x @ y, lambda x, y: x @ y, a, b)


@settings(max_examples=8)
@given(x=arrays(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)), data=st.data())
def test_softmax_log_softmax_second_derivatives(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    check_op(lambda v: v.softmax(axis), lambda t: t.softmax(axis), x)
    check_op(lambda v: v.log_softmax(axis), lambda t: t.log_softmax(axis), x)


# ---------------------------------------------------------------- scalar graphs: lists of scalar Values

def _scalar_hessian_vs_torch(tl_fn, torch_fn, z):
    torch = pytest.importorskip("torch")
    H = tl.hessian(tl_fn, [tl.Value(v) for v in z])
    ref = torch.autograd.functional.hessian(torch_fn, torch.tensor(z, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(H, ref, rtol=1e-9, atol=1e-12)


@settings(max_examples=10)
@given(z=st.lists(st.floats(-4, 4), min_size=2, max_size=5), data=st.data())
def test_scalar_softmax_and_losses_second_derivatives(z, data):
    k = data.draw(st.integers(0, len(z) - 1))
    torch = pytest.importorskip("torch")
    onehot = np.eye(len(z))[k]
    cases = [
        (lambda zs: F.softmax(zs)[k] * F.softmax(zs)[0], lambda t: t.softmax(0)[k] * t.softmax(0)[0]),
        (lambda zs: F.log_softmax(zs)[k] * F.log_softmax(zs)[-1], lambda t: t.log_softmax(0)[k] * t.log_softmax(0)[-1]),
        (lambda zs: F.cross_entropy(zs, k), lambda t: torch.nn.functional.cross_entropy(t[None], torch.tensor([k]))),
        (lambda zs: F.cross_entropy(zs, k, fused=True), lambda t: -t.log_softmax(0)[k]),
        (lambda zs: F.mse_loss(F.softmax(zs), onehot, reduction="sum"),
         lambda t: ((t.softmax(0) - torch.tensor(onehot)) ** 2).sum()),
    ]
    for tl_fn, torch_fn in cases:
        _scalar_hessian_vs_torch(tl_fn, torch_fn, z)
        assert tl.gradgradcheck(lambda *zs, f=tl_fn: f(list(zs)), *z)


def test_scalar_softmax_with_freed_siblings():
    """Only one output of a scalar softmax is kept: its siblings are rebuilt from the inputs."""
    z = [0.3, -1.0, 2.0]
    H = tl.hessian(lambda zs: -F.softmax(zs)[1].log(), z)
    y = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(H, np.diag(y) - np.outer(y, y), atol=1e-12)


# ---------------------------------------------------------------- the losses, tensor form

@settings(max_examples=6)
@given(n=st.integers(1, 3), k=st.integers(2, 4), data=st.data())
def test_tensor_losses_second_derivatives(n, k, data):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = data.draw(arrays((n, k), -3, 3))
    idx = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    probs = np.abs(data.draw(arrays((n, k), 0.1, 1)))
    probs = probs / probs.sum(-1, keepdims=True)
    y01 = data.draw(arrays((n, k), 0, 1))
    cases = [
        (lambda v: F.cross_entropy(v, idx), lambda t: tf.cross_entropy(t, torch.tensor(idx))),
        (lambda v: F.cross_entropy(v, idx, fused=True, reduction="sum"),
         lambda t: tf.cross_entropy(t, torch.tensor(idx), reduction="sum")),
        (lambda v: F.cross_entropy(v, probs), lambda t: tf.cross_entropy(t, torch.tensor(probs))),
        (lambda v: F.mse_loss(v.softmax(-1), probs), lambda t: tf.mse_loss(t.softmax(-1), torch.tensor(probs))),
        (lambda v: F.binary_cross_entropy(v.sigmoid(), y01),
         lambda t: tf.binary_cross_entropy(t.sigmoid(), torch.tensor(y01))),
        (lambda v: F.binary_cross_entropy_with_logits(v, y01, reduction="none"),
         lambda t: tf.binary_cross_entropy_with_logits(t, torch.tensor(y01), reduction="none")),
    ]
    for tl_fn, torch_fn in cases:
        check_op(tl_fn, torch_fn, x)


def test_mlp_hessian_matches_torch():
    """A whole tiny net: Linear → tanh → Linear → CE; the Hessian in the first layer's bias."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    W1, W2, X = rng.standard_normal((2, 5)), rng.standard_normal((5, 3)), rng.standard_normal((4, 2))
    y = np.array([0, 2, 1, 1])

    def ours(b):
        return F.cross_entropy((X @ W1 + b).tanh() @ W2, y)

    def theirs(b):
        h = (torch.tensor(X) @ torch.tensor(W1) + b).tanh()
        return torch.nn.functional.cross_entropy(h @ torch.tensor(W2), torch.tensor(y))

    b0 = rng.standard_normal(5)
    ref = torch.autograd.functional.hessian(theirs, torch.tensor(b0)).numpy()
    np.testing.assert_allclose(tl.hessian(ours, b0), ref, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- the formula *is* the executed derivative

def _local_ops():
    """Every LocalOp class tinygrad_lite defines (subclasses included)."""
    found, stack = set(), [ops.LocalOp]
    while stack:
        for c in stack.pop().__subclasses__():
            if c.__module__.startswith("tinygrad_lite."):
                found.add(c)
            stack.append(c)
    return found


def _unrolled(reduce, a, b):
    """The n-ary scalar node tl.unroll makes for a reduction of [a, b, a·b] (scalars only)."""
    if a.size != 1:
        return []
    Z = tl.Value(np.array([a.item(), b.item(), a.item() * b.item() + 0.25]), label="Z")
    return [tl.unroll(reduce(Z)).root]


# Each case builds nodes of one op through the public API; domain chosen inside it.
FORMULA_CASES = {
    "add": lambda a, b: [a + b, a + 2.0, 2.0 + a],
    "sub": lambda a, b: [a - b, a - 2.0, 2.0 - a],
    "mul": lambda a, b: [a * b, a * 2.0, 2.0 * a],
    "div": lambda a, b: [a / (b.abs() + 0.5), a / 2.0, 2.0 / (a.abs() + 0.5)],
    "neg": lambda a, b: [-a],
    "pow": lambda a, b: [a.abs() ** b, (a.abs() + 0.1) ** 2.5, a ** 3, 2.0 ** a, a ** 1.0, a ** 0.0],
    "exp": lambda a, b: [a.exp()],
    "log": lambda a, b: [(a.abs() + 0.1).log()],
    "sigmoid": lambda a, b: [a.sigmoid()],
    "tanh": lambda a, b: [a.tanh()],
    "relu": lambda a, b: [a.relu()],
    "square": lambda a, b: [a.square()],
    "sqrt": lambda a, b: [(a.abs() + 0.1).sqrt()],
    "abs": lambda a, b: [a.abs()],
    "softplus": lambda a, b: [a.softplus()],
    "sum": lambda a, b: _unrolled(lambda Z: Z.sum(), a, b),
    "mean": lambda a, b: _unrolled(lambda Z: Z.mean(), a, b),
    "max": lambda a, b: _unrolled(lambda Z: Z.max(), a, b),
    "min": lambda a, b: _unrolled(lambda Z: Z.min(), a, b),
    "softmax": lambda a, b: F.softmax([a, b, a * b]) if a.size == 1 else [],
    "log_softmax": lambda a, b: F.log_softmax([a, b, a * b]) if a.size == 1 else [],
    "sin": lambda a, b: [a.sin()],
    "cos": lambda a, b: [a.cos()],
    "erf": lambda a, b: [a.erf()],
    "log1p": lambda a, b: [a.abs().log1p()],
    "clamp": lambda a, b: [a.clamp(-1.0, 1.0), a.clamp(min=0.5), a.clamp(max=0.5)],
    "maximum": lambda a, b: [tl.maximum(a, b)],
    "minimum": lambda a, b: [tl.minimum(a, b)],
    "where": lambda a, b: [tl.where(a > 0, a, b)],
    "leaky_relu": lambda a, b: [F.leaky_relu(a, 0.2)],
    "elu": lambda a, b: [F.elu(a, 0.7)],
    "silu": lambda a, b: [F.silu(a)],
    "gelu": lambda a, b: [F.gelu(a), F.gelu(a, "tanh")],
}


def test_every_local_op_has_a_formula_case():
    # A NumberOp (x * 2.0) is its binary op's: the cases of add … pow include the number forms.
    names = {c.name if isinstance(c.name, str) else "" for c in _local_ops() if c is not ops.NumberOp}
    missing = names - set(FORMULA_CASES)
    assert not missing, f"add a case for {missing} to FORMULA_CASES"


@settings(max_examples=10)
@given(a=st.floats(-3, 3).filter(lambda v: abs(v) > 1e-3), b=st.floats(-3, 3).filter(lambda v: abs(v) > 1e-3),
       tensor=st.booleans())
def test_evaluated_formula_equals_numeric_local(a, b, tensor):
    """For every op, the local derivative built from its formula template equals the one forward saved."""
    wrap = (lambda v: tl.Value(np.array([v, v / 2 + 0.3]))) if tensor else tl.Value
    seen = set()
    for name, build in FORMULA_CASES.items():
        x, y = wrap(a), wrap(b)
        for node in build(x, y):
            if node.op != name and not (name == "pow" and node is x):
                continue
            seen.add(node.op)
            for i, p in enumerate(node.parents):
                if not p.requires_grad:
                    continue
                got = second_order.local_value(node, i)
                got = got.data if isinstance(got, tl.Value) else got
                want = node._saved[i]
                np.testing.assert_allclose(np.broadcast_to(np.asarray(got, dtype=float), node.shape),
                                           np.broadcast_to(np.asarray(want, dtype=float), node.shape),
                                           rtol=1e-12, atol=1e-12, err_msg=f"{name} ∂/∂parent {i}")
    assert seen >= set(FORMULA_CASES) - ({"softmax", "log_softmax", "sum", "mean", "max", "min"} if tensor else set())


def test_every_vjp_op_says_how_it_builds_its_gradient_graph():
    """A VjpOp declares saved_as ("inputs", "output", "fixed"), or None to refuse create_graph by name."""
    found, stack = [], [ops.VjpOp]
    while stack:
        for c in stack.pop().__subclasses__():
            if c.__module__.startswith("tinygrad_lite."):
                found.append(c)
            stack.append(c)
    undeclared = [c.__name__ for c in found if not hasattr(c, "saved_as")]
    assert not undeclared, f"set saved_as on {undeclared} (see tinygrad_lite.second_order)"
    assert {c.saved_as for c in found} <= {"inputs", "output", "fixed", None}


def test_formula_evaluator_refuses_what_is_not_whitelisted():
    with pytest.raises(ValueError, match="does not accept"):
        second_order.evaluate("__import__('os')", {"x": 1.0})
    with pytest.raises(ValueError, match="does not accept"):
        second_order.evaluate("x.data", {"x": tl.Value(1.0)})
    assert second_order.evaluate("2*x**(2 - 1)", {"x": 3.0}) == 6.0


# ---------------------------------------------------------------- backward(create_graph=True) and tl.grad

def test_backward_create_graph_makes_grads_values_and_agrees_with_plain_backward():
    a, b = tl.Value(1.5, label="a"), tl.Value(-0.7, label="b")
    L = (a * b).tanh() + a.exp() * b
    L.backward(create_graph=True)
    ga, gb = a.grad, b.grad
    assert isinstance(ga, tl.Value) and ga.requires_grad
    a2, b2 = tl.Value(1.5), tl.Value(-0.7)
    ((a2 * b2).tanh() + a2.exp() * b2).backward()
    assert ga.item() == pytest.approx(a2.grad, abs=1e-14) and gb.item() == pytest.approx(b2.grad, abs=1e-14)
    # ∂²L/∂a∂b by differentiating the gradient Value again
    (h_ab,) = tl.grad(ga, b)
    t = np.tanh(1.5 * -0.7)
    expected = (1 - t * t) + 1.5 * -0.7 * (-2 * t * (1 - t * t)) + np.exp(1.5)
    assert h_ab == pytest.approx(expected, abs=1e-12)


def test_create_graph_leaf_grads_accumulate_and_a_plain_pass_gives_numbers_again():
    a = tl.Value(2.0)
    y = a * a * a
    y.backward(create_graph=True)
    y.backward(create_graph=True)
    assert a.grad.item() == 24.0 and tl.grad(a.grad, a) == (24.0,)  # d(2·3a²)/da = 12a
    a.zero_grad()
    y.backward()
    assert a.grad == 12.0 and type(a.grad) is float


def test_tl_grad_touches_no_grad_and_returns_a_tuple():
    x = tl.Value(np.array([1.0, 2.0, 3.0]), label="x")
    y = (x * x).sum()
    (g,) = tl.grad(y, x)
    np.testing.assert_allclose(g, [2.0, 4.0, 6.0])
    assert x._grad is None and y._grad is None
    (gg,) = tl.grad(y, [x], create_graph=True)
    assert isinstance(gg, tl.Value) and x._grad is None
    np.testing.assert_allclose(tl.grad(gg, x, grad_outputs=np.ones(3))[0], [2.0, 2.0, 2.0])


def test_tl_grad_of_several_outputs_with_grad_outputs():
    x = tl.Value(np.array([0.5, -1.0]))
    y1, y2 = x.exp(), (x * x).sum()
    g = tl.grad([y1, y2], x, grad_outputs=[np.array([1.0, 2.0]), None])[0]
    np.testing.assert_allclose(g, np.exp([0.5, -1.0]) * [1, 2] + 2 * np.array([0.5, -1.0]))
    with pytest.raises(ValueError, match="list of 2 grad_outputs"):
        tl.grad([y1, y2], x, grad_outputs=np.ones(2))


def test_tl_grad_through_an_interior_input():
    x = tl.Value(2.0)
    h = x * x
    y = h.exp()
    (gh,) = tl.grad(y, h)
    assert gh == pytest.approx(np.exp(4.0))


def test_grad_outputs_as_a_value_is_differentiable():
    """A Hessian-vector product with v a Value: differentiating through grad_outputs too."""
    x, v = tl.Value(np.array([0.3, -0.2])), tl.Value(np.array([1.0, 2.0]))
    y = x.exp()
    (g,) = tl.grad(y, x, grad_outputs=v, create_graph=True)  # g = v ⊙ eˣ
    (dv,) = tl.grad(g.sum(), v)
    np.testing.assert_allclose(dv, np.exp([0.3, -0.2]))


def test_hessian_of_tensor_and_list_inputs_agree_and_are_symmetric():
    rng = np.random.default_rng(4)
    A = rng.standard_normal((4, 4))
    x0 = rng.standard_normal(4)
    H1 = tl.hessian(lambda x: ((x @ A).tanh() * x).sum(), x0)
    H2 = tl.hessian(lambda xs: sum(((sum(xi * A[i, j] for i, xi in enumerate(xs))).tanh() * xs[j]
                                    for j in range(4)), tl.Value(0.0)), list(x0))
    np.testing.assert_allclose(H1, H2, atol=1e-12)
    np.testing.assert_allclose(H1, H1.T, atol=1e-12)


def test_hessian_of_a_linear_function_is_zero():
    np.testing.assert_array_equal(tl.hessian(lambda x: (x * 3.0).sum(), np.ones(3)), np.zeros((3, 3)))


# ---------------------------------------------------------------- seeing it

def test_explain_and_viz_work_on_a_gradient_value():
    pytest.importorskip("sympy")
    z = [tl.Value(v, label=f"z{i}") for i, v in enumerate((0.5, 2.5, 1.0))]
    L = F.cross_entropy(z, 0)
    (g0,) = tl.grad(L, z[0], create_graph=True)  # ŷ0 − 1, as a graph
    e = tl.explain(g0, z[1])
    assert e.total == pytest.approx(tl.hessian(lambda zs: F.cross_entropy(zs, 0), z)[0, 1], abs=1e-12)
    import sympy

    y0, y1 = sympy.symbols("ŷ0 ŷ1")
    assert sympy.simplify(e.total_expression - (-y0 * y1)) == 0  # ∂²L/∂z0∂z1 = −ŷ0ŷ1
    from tinygrad_lite import viz

    g0.label = "g0"
    dot = viz.draw_graph(g0).source
    assert "z0" in dot and "z1" in dot and "g0" in dot


def test_gradient_graph_renders_to_svg():
    import shutil
    import xml.etree.ElementTree as ET

    if shutil.which("dot") is None:
        pytest.skip("Graphviz `dot` not installed")
    from tinygrad_lite import viz

    z = [tl.Value(v, label=f"z{i}") for i, v in enumerate((0.5, 2.5, 1.0))]
    (g0,) = tl.grad(F.mse_loss(F.softmax(z), [1.0, 0.0, 0.0], reduction="sum"), z[0], create_graph=True)
    g0.label = "g0"
    svg = ET.fromstring(viz.to_svg(g0))
    texts = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert "z0" in texts and any(t.startswith("g0") for t in texts)
    assert "ŷ0(1−ŷ0) = 0.0897" in texts  # the gradient graph's own edges carry their local derivatives


def test_drawing_the_original_graph_after_create_graph():
    from tinygrad_lite import viz

    z = [tl.Value(v, label=f"z{i}") for i, v in enumerate((0.5, 2.5, 1.0))]
    L = F.cross_entropy(z, 0)
    L.backward(create_graph=True)
    assert "grad" in viz.draw_graph(L).source


# ---------------------------------------------------------------- bad input

def test_differentiating_a_plain_gradient_again_says_create_graph():
    x = tl.Value(2.0)
    (x * x * x).backward()
    with pytest.raises(TypeError, match="create_graph=True"):
        tl.grad(x.grad, x)
    (g,) = tl.grad(x * x * x, x)
    with pytest.raises(TypeError, match="create_graph=True"):
        tl.grad(g, x)
    # Wrapped back into a Value, a plain gradient is a constant: an error, never a zero.
    with pytest.raises(RuntimeError, match="create_graph=True"):
        tl.grad(tl.Value(g), x)


def test_unused_input_raises_unless_allow_unused():
    x, w = tl.Value(1.0, label="x"), tl.Value(2.0, label="w")
    y = x * 3.0
    with pytest.raises(RuntimeError, match="input 1 \\(w\\).*not in the graph"):
        tl.grad(y, [x, w])
    assert tl.grad(y, [x, w], allow_unused=True) == (3.0, None)
    c = tl.Value(1.0, requires_grad=False)
    with pytest.raises(RuntimeError, match="does not require grad"):
        tl.grad(y, c)


def test_hessian_refuses_non_scalar_output_and_large_input():
    with pytest.raises(ValueError, match="scalar"):
        tl.hessian(lambda x: x * 2.0, np.ones(3))
    with pytest.raises(ValueError, match="HESSIAN_MAX_SIZE"):
        tl.hessian(lambda x: x.sum(), np.ones(second_order.HESSIAN_MAX_SIZE + 1))
    with pytest.raises(ValueError, match="1-D"):
        tl.hessian(lambda x: x.sum(), np.ones((2, 2)))


def test_create_graph_through_an_op_without_support_names_the_op():
    class Opaque(ops.VjpOp):
        name = "opaque"

        def forward(self, a):
            return a * 2.0, None

        def backward(self, saved, g, parents):
            return (g * 2.0,)

    from tinygrad_lite.value import _unary

    x = tl.Value(np.array([1.0, 2.0]))
    y = _unary(Opaque(), x).sum()
    with pytest.raises(RuntimeError, match="'opaque'"):
        y.backward(create_graph=True)
    with pytest.raises(RuntimeError, match="'opaque'"):
        tl.grad(y, x, create_graph=True)
    np.testing.assert_allclose(tl.grad(y, x)[0], [2.0, 2.0])  # first order still works


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class BadSquare(ops.LocalOp):
        name, formulas = "bad_square", ("2*x + x*x",)  # right value at x = 0 only

        def forward(self, a):
            return a * a, (2.0 * a,)

    from tinygrad_lite.value import _unary

    with pytest.raises(tl.GradcheckError):
        # first order right (saved local) but the formula executed for create_graph is wrong
        tl.gradgradcheck(lambda x: _unary(BadSquare(), x).sum(), np.array([0.7, -1.2]))


def test_signatures_match_pytorch():
    params = list(inspect.signature(tl.grad).parameters)
    assert params == ["outputs", "inputs", "grad_outputs", "create_graph", "allow_unused"]
    assert "create_graph" in inspect.signature(tl.Value.backward).parameters


def test_nan_in_second_order_is_never_silent():
    x = tl.Value(np.array([0.0, 1.0]))
    with pytest.warns(tl.NonFiniteWarning):
        (g,) = tl.grad(x.sqrt().sum(), x)  # 1/(2√0) = inf
    with tl.detect_anomaly():
        x = tl.Value(np.array([0.0, 1.0]))
        y = x.sqrt().sum()
        with pytest.raises(tl.AnomalyError, match="sqrt"):
            tl.grad(y, x)
