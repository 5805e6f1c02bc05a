"""tl.unroll and explain(root, wrt, index=): scalar graphs behind tensor graphs, and batched cancellations."""

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tinygrad_lite import ops, unrolling
from tinygrad_lite.naming import fmt, graph_nodes
from tinygrad_lite.ops.base import VjpOp
from tinygrad_lite.unrolling import UnrollError
from tinygrad_lite.value import _node

# ---------------------------------------------------------------- random graphs of every op


def _positive(x):
    return x * x + 1.0


UNARY = {
    "exp": lambda x: x.exp(), "log": lambda x: _positive(x).log(), "sigmoid": lambda x: x.sigmoid(),
    "tanh": lambda x: x.tanh(), "relu": lambda x: x.relu(), "square": lambda x: x.square(),
    "sqrt": lambda x: _positive(x).sqrt(), "abs": lambda x: x.abs(), "softplus": lambda x: x.softplus(),
    "neg": lambda x: -x, "pow const": lambda x: x ** 3, "number ops": lambda x: 2.0 - x * 0.5 / 4.0,
    "pow value": lambda x: _positive(x) ** tl.Value(1.5, label="e"),
    "sum axis": lambda x: x.sum(axis=-1, keepdims=True), "mean axis": lambda x: x.mean(axis=0),
    "max axis": lambda x: x.max(axis=-1), "min axis": lambda x: x.min(axis=0),
    "var axis": lambda x: x.var(axis=-1, correction=0), "mean all": lambda x: x.mean(),
    "reshape": lambda x: x.reshape(-1), "transpose": lambda x: x.T,
    "index ints": lambda x: x[np.array([0, 0, -1])], "index slice": lambda x: x[..., :1],
    "softmax": lambda x: x.softmax(-1), "log_softmax": lambda x: x.log_softmax(0 if x.ndim else -1),
}


def _with_tensor(draw, x, fn):
    other = tl.Value(draw(hnp.arrays(np.float64, x.shape[-1:] or (), elements=st.floats(-2, 2))), label="B")
    return fn(x, other)


BINARY = {
    "add": lambda x, b: x + b, "sub": lambda x, b: b - x, "mul": lambda x, b: x * b,
    "div": lambda x, b: x / _positive(b),
    "matmul": lambda x, b: x @ tl.Value(np.linspace(-1, 1, x.shape[-1] * 2).reshape(x.shape[-1], 2), label="W")
    if x.ndim else x * b,
}


@st.composite
def random_graph(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    X = tl.Value(draw(hnp.arrays(np.float64, shape, elements=st.floats(-2, 2))), label="X")
    x, names = X, []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            name = draw(st.sampled_from(sorted(BINARY)))
            x = _with_tensor(draw, x, BINARY[name])
        else:
            name = draw(st.sampled_from(sorted(UNARY)))
            if x.ndim == 0 and name.startswith(("index", "sum axis", "mean axis", "max axis")):
                continue
            x = UNARY[name](x)
        names.append(name)
    return X, x.sum(), names


@given(graph=random_graph())
def test_unrolled_gradients_equal_the_tensor_graphs(graph):
    X, L, names = graph
    u = tl.unroll(L)
    L.backward()
    for t in graph_nodes(L):
        if not t._prev and t.requires_grad:
            got = np.vectorize(lambda v: v.grad, otypes=[float])(u.scalars[t])
            np.testing.assert_allclose(got, t.grad, rtol=1e-12, atol=1e-12, err_msg=" → ".join(names))
    assert u.element(X, (0,) * X.ndim).label == f"X[{','.join('0' * X.ndim)}]"


@settings(max_examples=15)
@given(graph=random_graph(), data=st.data())
def test_explanation_totals_equal_the_tensor_gradient(graph, data):
    X, L, names = graph
    index = tuple(data.draw(st.integers(0, n - 1)) for n in X.shape)
    e = tl.explain(L, X, index=index)
    L.backward()
    assert e.total == pytest.approx(float(X.grad[index]), rel=1e-9, abs=1e-12), " → ".join(names)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_every_unary_op_unrolls(name):
    X = tl.Value(np.array([[0.3, -1.2, 2.0], [0.7, 0.1, -0.4]]), label="X")
    L = UNARY[name](X).sum()
    u = tl.unroll(L)
    L.backward()
    got = np.vectorize(lambda v: v.grad, otypes=[float])(u.scalars[X])
    np.testing.assert_allclose(got, X.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 2, 3), (3, 2)), ((1, 2, 3), (4, 3, 1))])
def test_matmul_of_every_rank_unrolls_without_zero_seeds(shapes):
    rng = np.random.default_rng(0)
    A, B = (tl.Value(rng.normal(size=s), label=n) for s, n in zip(shapes, "AB"))
    L = (A @ B).tanh().sum()
    u = tl.unroll(L)
    L.backward()
    for t in (A, B):
        got = np.vectorize(lambda v: v.grad, otypes=[float])(u.scalars[t])
        np.testing.assert_allclose(got, t.grad, rtol=1e-12, atol=1e-12)
    # einsum/object-array matmul would start each sum at 0: no constant node appears here.
    assert not any(not n._prev and not n.requires_grad for n in graph_nodes(u.root))


def test_the_traps_of_replaying_over_object_arrays():
    Z = tl.Value(np.array([[1.0, 3.0, 3.0], [0.5, -1.0, 2.0]]), label="Z")
    u = tl.unroll(Z.max(axis=1).sum() + Z.relu().sum())
    nodes = graph_nodes(u.root)
    maxes = [n for n in nodes if n.op == "max"]
    assert len(maxes) == 2 and all(len(m.parents) == 3 for m in maxes)  # a node, never an existing element
    assert maxes[0].data == 3.0 and [u.element(Z, (0, j)).grad for j in range(3)] == [1.0, 1.5, 1.5]  # tie shared
    for L in (Z.std(1).sum(), (Z.var(0, keepdims=True) * Z).sum()):  # Σ(x − mean)²/(n − 1), and its root
        L.backward()
        e = tl.explain(L, Z, index=(1, 2))
        assert e.total == pytest.approx(Z.grad[1, 2], rel=1e-12)
        Z.zero_grad()
    mins = [n for n in graph_nodes(tl.unroll(Z.min(axis=1).sum()).root) if n.op == "min"]
    assert [m.data for m in mins] == [1.0, -1.0] and all(len(m.parents) == 3 for m in mins)  # min is not max
    assert all(type(n.data) is float for n in nodes)  # relu gives Values of floats, no raw NumPy floats
    # A stable softmax's max shift stays inside the forward: one path per target logit, none cancelling to 0.
    L = F.cross_entropy(Z, np.array([1, 2]))
    e = tl.explain(L, Z, index=(0, 1))
    assert len(e.paths) == 1


def test_fused_and_composed_losses_unroll():
    rng = np.random.default_rng(3)
    Z = tl.Value(rng.normal(size=(3, 4)), label="Z")
    t = np.array([0, 3, 1])
    P = np.eye(4)[t] * 0.8 + 0.05
    for L in (F.cross_entropy(Z, t), F.cross_entropy(Z, t, fused=True), F.cross_entropy(Z, P),
              F.mse_loss(Z.softmax(-1), np.eye(4)[t]), F.binary_cross_entropy(Z.sigmoid(), np.eye(4)[t]),
              F.binary_cross_entropy_with_logits(Z, np.eye(4)[t]), F.cross_entropy(Z, t, reduction="sum")):
        u = tl.unroll(L)
        L.backward()
        got = np.vectorize(lambda v: v.grad, otypes=[float])(u.scalars[Z])
        np.testing.assert_allclose(got, Z.grad, rtol=1e-12, atol=1e-12)
        Z.zero_grad()


def test_scalar_softmax_groups_unroll_too():
    z = [tl.Value(v, label=f"z{i}") for i, v in enumerate([2.0, 1.0, 0.1])]
    L = F.cross_entropy(z, 0)
    u = tl.unroll(L)
    L.backward()
    assert [u.element(v).grad for v in z] == pytest.approx([v.grad for v in z], abs=1e-12)


# ---------------------------------------------------------------- batched explanations


def batch(n=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    Z = tl.Value(rng.normal(size=(n, k)), label="Z")
    y = rng.integers(0, k, size=n)
    return Z, y


def S(name):
    return sympy.Symbol(name)


N = sympy.Symbol("N", positive=True)


@given(n=st.integers(1, 4), k=st.integers(2, 4), seed=st.integers(0, 100), fused=st.booleans(),
       data=st.data())
def test_batched_ce_per_element_is_the_seed_claim_with_one_over_n(n, k, seed, fused, data):
    Z, y = batch(n, k, seed)
    L = F.cross_entropy(Z, y, fused=fused)
    L.label = "L"
    i = data.draw(st.integers(0, n - 1))
    j = data.draw(st.integers(0, k - 1))
    e = tl.explain(L, Z, index=(i, j))
    L.backward()
    assert e.total == pytest.approx(Z.grad[i, j], abs=1e-12)
    assert e.total == pytest.approx(e.expected, abs=1e-12)
    p = int(y[i])
    y_hat = S(f"ŷ[{i},{p}]") if not fused else None
    if not fused:  # seed claim 1, per element, with the mean's 1/N
        (path,) = e.paths
        assert y_hat in path.cancelled
        scale = N if n > 1 else 1  # a mean over one sample divides by nothing
        want = (y_hat - 1) / scale if j == p else S(f"ŷ[{i},{j}]") / scale
        assert sympy.simplify(path.simplified - want) == 0
        assert e.general.matrix == ("∂L/∂Z = (Ŷ − Y)/N" if n > 1 else "∂L/∂Z = Ŷ − Y")
    assert e.sizes == ({"N": n} if n > 1 else {})
    assert e.general is not None


def test_target_and_non_target_logits_read_as_in_the_seed():
    Z, y = batch()
    L = F.cross_entropy(Z, y)
    L.label = "L"
    p = int(y[0])
    target = str(tl.explain(L, Z, index=(0, p)))
    assert f"(ŷ[0,{p}] − 1)/N" in target and f"cancels: ŷ[0,{p}]" in target and "N = 4" in target
    assert "∂L/∂Z[i,j] = (ŷ[i,j] − y[i,j])/N" in target and "∂L/∂Z = (Ŷ − Y)/N" in target
    other = str(tl.explain(L, Z, index=(0, (p + 1) % 3)))
    assert f"ŷ[0,{(p + 1) % 3}]/N" in other


def test_a_logit_of_another_row_has_no_path_and_the_explanation_says_which_rows_do():
    Z, y = batch()
    loss0 = F.cross_entropy(Z, y, reduction="none")[0]
    loss0.label = "L0"
    e = tl.explain(loss0, Z, index=(2, 1))
    assert e.paths == [] and e.total == 0.0 and e.reaching_rows == [0]
    assert "Z[2,1] has no path to L0" in str(e) and "row(s) 0 of Z" in str(e)


def test_mse_on_a_batch_keeps_the_softmax_factor_seed_claim_3():
    Z, y = batch(3, 3, seed=5)
    Y = np.eye(3)[y]
    P = Z.softmax(-1)
    L = (P - Y).square().sum(axis=1).mean()  # the seed's ℓ = (1/m) Σ_i Σ_k (ŷ_ik − y_ik)²
    L.label = "L"
    i, p = 1, int(y[1])
    e = tl.explain(L, Z, index=(i, p))
    L.backward()
    assert e.total == pytest.approx(Z.grad[i, p], abs=1e-12)
    yp = S(f"ŷ[{i},{p}]")
    direct = [path for path in e.paths if path.nodes[1].label == f"ŷ[{i},{p}]"]
    assert len(direct) == 1 and direct[0].cancelled == []
    assert sympy.simplify(direct[0].simplified - (-2 * yp * (1 - yp) ** 2 / N)) == 0
    rest = sum(S(f"ŷ[{i},{k}]") ** 2 for k in range(3) if k != p)
    assert sympy.simplify(sum(q.simplified for q in e.paths) - (-2 * yp * (1 - yp) ** 2 - 2 * yp * rest) / N) == 0
    assert e.general is None and "involves other elements" in str(e)


def test_sigmoid_bce_and_mse_on_a_batch_have_matrix_forms():
    rng = np.random.default_rng(2)
    Z = tl.Value(rng.normal(size=(5, 1)), label="Z")
    t = np.array([[1.0], [0.0], [1.0], [1.0], [0.0]])
    bce = F.binary_cross_entropy(Z.sigmoid(), t)
    mse = F.mse_loss(Z.sigmoid(), t)
    for L, matrix in ((bce, "∂L/∂Z = (σ − Y)/N"), (mse, "∂L/∂Z = 2 · σ ⊙ (1 − σ) ⊙ (σ − Y)/N")):
        L.label = "L"
        e = tl.explain(L, Z, index=(1, 0))
        L.backward()
        assert e.total == pytest.approx(Z.grad[1, 0], abs=1e-12)
        assert e.general is not None and e.general.matrix == matrix, str(e)
        assert "Y = the targets" in e.general.indicator
        Z.zero_grad()


def test_through_a_layer_each_sample_is_a_path_with_its_cancellation():
    rng = np.random.default_rng(4)
    X = tl.Value(rng.normal(size=(4, 3)), label="X", requires_grad=False)
    W = tl.Value(rng.normal(size=(3, 2)), label="W")
    b = tl.Value(np.zeros(2), label="b")
    y = np.array([0, 1, 1, 0])
    L = F.cross_entropy(X @ W + b, y)
    L.label = "L"
    e = tl.explain(L, W, index=(2, 1))
    L.backward()
    assert e.total == pytest.approx(W.grad[2, 1], abs=1e-12)
    assert sorted(e.rows) == [0, 1, 2, 3]
    for path, row in zip(e.paths, e.rows):
        target = S(f"ŷ[{row},{y[row]}]")
        assert path.cancelled == [target]
        x = S(f"X[{row},2]")
        want = x * (S(f"ŷ[{row},1]") - (1 if y[row] == 1 else 0)) / N
        assert sympy.simplify(path.simplified - want) == 0


def test_explaining_looks_and_changes_nothing():
    Z, y = batch()
    L = F.cross_entropy(Z, y)
    tl.explain(L, Z, index=(0, 0))
    tl.unroll(L)
    assert all(n._grad is None for n in graph_nodes(L))
    L.backward()
    before = Z.grad.copy()
    tl.explain(L, Z, index=(1, 1))
    assert np.array_equal(Z.grad, before) and L.grad == 1.0


def test_an_interior_tensor_can_be_explained():
    rng = np.random.default_rng(6)
    X = tl.Value(rng.normal(size=(3, 2)), label="X")
    W = tl.Value(rng.normal(size=(2, 3)), label="W")
    Zi = X @ W
    Zi.label = "Z"
    y = np.array([2, 0, 1])
    L = F.cross_entropy(Zi, y)
    L.label = "L"
    e = tl.explain(L, Zi, index=(1, 0))
    L.backward()
    assert e.total == pytest.approx(Zi.grad[1, 0], abs=1e-12)
    assert e.general is not None and e.general.matrix == "∂L/∂Z = (Ŷ − Y)/N"


# ---------------------------------------------------------------- bad input


def test_bad_index_and_unknown_wrt():
    Z, y = batch()
    L = F.cross_entropy(Z, y)
    with pytest.raises(ValueError, match=r"Z has shape \(4, 3\).*index=.*index=\(0, 0\)"):
        tl.explain(L, Z)
    with pytest.raises(IndexError, match=r"out of range for Z of shape \(4, 3\)"):
        tl.explain(L, Z, index=(4, 0))
    with pytest.raises(IndexError, match=r"shape \(4, 3\)"):
        tl.explain(L, Z, index=(0,))
    with pytest.raises(ValueError, match="does not depend on other"):
        tl.explain(L, tl.Value(np.ones(3), label="other"), index=(0,))
    assert tl.explain(L, Z, index=(-1, -1)).wrt.label == "Z[3,2]"


def test_too_big_a_graph_is_refused_with_the_count_and_the_limit():
    Z = tl.Value(np.zeros((40, 50)), label="Z")
    L = F.cross_entropy(Z, np.zeros(40, dtype=int))
    with pytest.raises(UnrollError, match=r"would have \d+ scalar nodes, more than max_nodes=5000.*smaller batch"):
        tl.explain(L, Z, index=(0, 0))
    with pytest.raises(UnrollError, match="max_nodes=10"):
        tl.unroll(L[None] if False else L, max_nodes=10)


class Cube(VjpOp):
    name, formulas, vjps = "cube", ("3*x**2",), ("3x² ⊙ g",)

    def forward(self, a):
        return a ** 3, a

    def backward(self, a, g, parents):
        return (3 * a ** 2 * g,)


def test_an_op_without_a_scalar_rule_is_refused_by_name():
    X = tl.Value(np.ones(3), label="X")
    out, saved = Cube().forward(X.data)
    L = _node(Cube(), out, saved, (X,), True).sum()
    with pytest.raises(UnrollError, match=r"no scalar rule for the op 'cube' \(Cube\).*register"):
        tl.unroll(L)


def test_a_wrong_scalar_rule_is_an_error_never_a_wrong_explanation(monkeypatch):
    monkeypatch.setitem(unrolling.RULES, ops.Sum, unrolling.RULES[ops.Mean])
    Z, _ = batch()
    with pytest.raises(RuntimeError, match=r"gradient of Z \(leaf, shape \(4, 3\)\) differs from the tensor graph's"):
        tl.explain(Z.square().sum(), Z, index=(0, 0))


# ---------------------------------------------------------------- small tensors as matrices


def test_small_tensors_show_their_entries_as_a_matrix():
    a = np.arange(6.0).reshape(2, 3) - 2
    assert fmt(a) == "[[−2, −1, 0], [1, 2, 3]]"
    assert fmt(a, multiline=True) == "[[−2, −1,  0],\n [ 1,  2,  3]]"
    assert fmt(np.ones(16)).count(",") == 15
    assert fmt(np.ones((3, 6))) == "(3, 6) mean 1 [1, 1]"


def test_the_demo_prints_a_target_and_a_non_target_logit_of_the_batch():
    from tinygrad_lite.tensor_explanation import demo_text

    text = demo_text()
    assert "The target logit Z[0,0]" in text and "(ŷ[0,0] − 1)/N" in text and "cancels: ŷ[0,0]" in text
    assert "The non-target logit Z[0,1]" in text and "ŷ[0,1]/N" in text and "∂ℓ/∂Z = (Ŷ − Y)/N" in text


def test_explain_through_a_value_exponent_and_abs():
    """Symbolic powers (x**e with e a Value) once broke the search for cancelling factors."""
    a, e = tl.Value(2.0, label="a"), tl.Value(1.5, label="e")
    L = (a ** e).log() + (a - 3.0).abs()
    L.backward()
    assert tl.explain(L, a).total == pytest.approx(a.grad)
    assert tl.explain(L, e).total == pytest.approx(e.grad)
