"""PyTorch parity where users type PyTorch by habit (SPEC §2): transpose, dim=, softmax axes, indices,
one domain policy, repr/format, .grad assignment, NumPy functions, gradcheck of non-scalar functions."""

import warnings

import numpy as np
import pytest

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tinygrad_lite import Value


def test_transpose_swaps_two_axes_and_T_reverses():
    torch = pytest.importorskip("torch")
    a = np.arange(24.0).reshape(2, 3, 4)
    for d0, d1 in [(0, 1), (1, 0), (0, 2), (-1, 0), (1, 1)]:
        np.testing.assert_array_equal(Value(a).transpose(d0, d1).data, torch.tensor(a).transpose(d0, d1).numpy())
    m = np.arange(6.0).reshape(2, 3)
    assert Value(m).transpose(0, 1).shape == (3, 2)  # not NumPy's identity permutation
    np.testing.assert_array_equal(Value(m).T.data, m.T)
    np.testing.assert_array_equal(Value(a).permute(2, 0, 1).data, np.transpose(a, (2, 0, 1)))
    np.testing.assert_array_equal(Value(a).permute((1, 2, 0)).data, np.transpose(a, (1, 2, 0)))
    assert tl.gradcheck(lambda v: v.transpose(0, 2) * np.arange(24.0).reshape(4, 3, 2), a)


@pytest.mark.parametrize("method", ["sum", "mean", "max", "min", "var", "std"])
def test_dim_and_keepdim_are_accepted(method):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((3, 4))
    ours = getattr(Value(a), method)(dim=1, keepdim=True)
    theirs = getattr(torch.tensor(a), "a" + method if method in ("max", "min") else method)(dim=1, keepdim=True)
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)
    if method not in ("var", "std"):  # their second positional argument is the correction, as PyTorch's
        np.testing.assert_allclose(getattr(Value(a), method)(1, True).data, ours.data)


def test_softmax_takes_one_axis_and_dim():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(1).standard_normal((2, 3))
    for kw in ({"dim": 0}, {"axis": 1}, {"dim": -1}):
        d = kw.get("dim", kw.get("axis"))
        np.testing.assert_allclose(Value(a).softmax(**kw).data, torch.tensor(a).softmax(d).numpy(), rtol=1e-12)
        np.testing.assert_allclose(F.log_softmax(Value(a), **kw).data, torch.tensor(a).log_softmax(d).numpy(), rtol=1e-12)
    np.testing.assert_allclose(Value(a[0]).softmax(axis=None).data, torch.tensor(a[0]).softmax(0).numpy())
    np.testing.assert_allclose(Value(a).softmax(axis=(1,)).data, Value(a).softmax(1).data)


@pytest.mark.parametrize("axis", [None, (0, 1), [0, 1]])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_over_several_axes_is_refused_not_guessed(axis, fn):
    with pytest.raises(tl.ShapeError, match=rf"{fn}: axis=.* on a Value of shape \(2, 3\): {fn} normalises over exactly one axis"):
        getattr(Value(np.ones((2, 3))), fn)(axis=axis)


@pytest.mark.parametrize("data", [2.0, np.array(2.0), np.array(2.0, np.float32)])
def test_softmax_of_a_0d_value_is_one_and_log_softmax_zero(data):
    torch = pytest.importorskip("torch")
    for fn, want in (("softmax", 1.0), ("log_softmax", 0.0)):
        x = Value(data)
        y = getattr(x, fn)()
        assert y.item() == want and y.shape == () and y.dtype == x.dtype
        y.backward()
        t = torch.tensor(2.0, requires_grad=True)
        getattr(t, fn)(0).backward()
        assert float(np.asarray(x.grad)) == t.grad.item() == 0.0
        assert getattr(Value(data), fn)(axis=None).item() == want


def test_integer_values_work_as_indices():
    x = Value(np.arange(12.0).reshape(3, 4))
    assert x[Value(1)].data.tolist() == [4, 5, 6, 7]
    assert x[Value(2), Value(3)].item() == 11
    assert x[Value([0, 2])].shape == (2, 4)
    rows = x[np.arange(3), x.argmax(1)]  # argmax gives an integer Value
    assert rows.data.tolist() == [3, 7, 11]
    with pytest.raises(IndexError, match="a Value holding 1.5 is not an integer index"):
        x[Value(1.5)]
    with pytest.raises(IndexError, match="not an integer array"):
        x[Value([0.5])]


@pytest.mark.parametrize(
    "make, op, value",
    [
        (lambda: Value(-1.0).log(), "log", np.nan),
        (lambda: Value(np.array([1.0, -1.0])).log(), "log", np.nan),
        (lambda: Value(0.0).log(), "log", -np.inf),
        (lambda: Value(-4.0).sqrt(), "sqrt", np.nan),
        (lambda: Value(np.array([-4.0, 4.0])).sqrt(), "sqrt", np.nan),
        (lambda: Value(-1.0).log1p(), "log1p", -np.inf),
        (lambda: Value(np.array([-3.0])).log1p(), "log1p", np.nan),
        (lambda: Value(-8.0) ** 0.5, "pow", np.nan),
        (lambda: Value(1.0) / 0.0, "div", np.inf),
    ],
)
def test_one_domain_policy_nan_inf_as_pytorch_with_one_warning(make, op, value):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = make()
    ours = [x for x in w if issubclass(x.category, tl.NonFiniteWarning)]
    assert len(ours) == 1 and str(ours[0].message).startswith(f"{op}:")
    assert not [x for x in w if issubclass(x.category, RuntimeWarning) and x not in ours]  # no raw NumPy warning
    got = np.asarray(out.data)
    assert np.isnan(got).any() if np.isnan(value) else (got == value).any()
    with tl.detect_anomaly(), pytest.raises(tl.AnomalyError, match=rf"{op} produced NaN/Inf in forward"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            make()


def test_repr_shows_values_and_grad_for_tensors_too():
    x = Value([[1.0, 2.0], [3.0, 4.0]], label="x")
    assert repr(x) == "Value([[1., 2.],\n       [3., 4.]], label='x')"
    loss = (x * 2).mean()
    assert repr(loss) == "Value(5., op='mean')"
    loss.backward()
    assert repr(x).endswith("label='x',\n      grad=[[0.5, 0.5],\n            [0.5, 0.5]])")
    assert "dtype=float32" in repr(Value(np.ones(2, np.float32)))
    big = repr(Value(np.zeros(1000)))
    assert "..." in big and "shape=(1000,)" in big and len(big) < 200
    print(loss)  # str works as repr


def test_format_for_one_element_values():
    assert f"{Value(2.0):.3f}" == "2.000"
    assert f"{Value(np.array([[0.25]])):.2f}" == "0.25"
    assert format(Value(np.ones(3)).mean(), ".1e") == "1.0e+00"
    assert f"{Value(1.5)}" == "Value(1.5)"
    with pytest.raises(TypeError, match=r"format: the spec '.3f' needs a one-element Value, this one has shape \(2,\)"):
        f"{Value(np.ones(2)):.3f}"


def test_assigning_a_grad_of_the_wrong_shape_raises():
    v = Value(np.zeros((2, 2)))
    with pytest.raises(tl.ShapeError, match=r"grad: cannot assign a gradient of shape \(2,\) to a Value of shape \(2, 2\)"):
        v.grad = np.ones(2)
    with pytest.raises(tl.ShapeError):
        Value(1.0).grad = np.ones(1)
    np.testing.assert_array_equal(v.grad, np.zeros((2, 2)))  # unchanged
    v.grad = np.ones((2, 2), np.float32)
    assert v.grad.dtype == np.float64
    s = Value(1.0)
    s.grad = 3
    assert s.grad == 3.0 and type(s.grad) is float


@pytest.mark.parametrize(
    "call, hint",
    [
        (lambda v: np.concatenate([v, v]), "tl.cat"),
        (lambda v: np.stack([v, v]), "tl.stack"),
        (lambda v: np.vstack([v, v]), "tl.cat"),
        (lambda v: np.where(v.data > 0, v, 0), "tl.where"),
        (lambda v: np.sum(v), r"v.sum\(dim\)"),
        (lambda v: np.mean(v), r"v.mean"),
        (lambda v: np.clip(v, 0, 1), r"v.clamp"),
        (lambda v: np.transpose(v), "permute"),
        (lambda v: np.dot(v, v), "a @ b"),
        (lambda v: np.tile(v, 2), r"v.tile\(...\)"),  # no tinygrad_lite twin: the generic advice
        (lambda v: np.exp(v), r"v.exp\(\)"),
        (lambda v: np.maximum(v, 0), r"tl.maximum\(a, b\)"),
        (lambda v: np.add(np.ones(3), v, out=np.ones(3)), "in-place add would store a Value inside a NumPy array"),
    ],
)
def test_numpy_functions_on_a_value_raise_naming_the_function_to_use(call, hint):
    v = Value(np.ones(3))
    with pytest.raises(TypeError, match=rf"(np\.\w+ was given a Value.*)?{hint}"):
        call(v)


def test_numpy_shape_queries_and_asarray_still_work():
    v = Value(np.ones((2, 3)))
    assert np.shape(v) == (2, 3) and np.ndim(v) == 2 and np.size(v) == 6 and np.size(v, 1) == 3
    np.testing.assert_array_equal(np.asarray(v), np.ones((2, 3)))
    assert np.asarray([Value(1.0), Value(2.0)]).tolist() == [1.0, 2.0]  # e.g. a list of losses to plot
    for out in (np.ones(3) * Value(np.ones(3)), np.float64(2.0) - Value(np.ones(3)), np.eye(3) @ Value(np.ones(3))):
        assert isinstance(out, Value) and out.shape == (3,)  # NumPy on the left hands over to Value
    assert (np.zeros(3) < Value(np.ones(3))).data.all()


def test_gradcheck_of_a_non_scalar_function_says_how_it_reduces():
    def wrong(x):
        return x.exp() * 1.0 + (x * 0.0 + 1.0) * x.data.sum() * 0.0 + x * Value(np.ones(3), requires_grad=False) * 0

    class Off(tl.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3  # wrong on purpose

    x = np.array([0.1, 0.2, 0.3])
    assert tl.gradcheck(wrong, x)
    with pytest.raises(tl.GradcheckError, match=r"output of shape \(3,\) was reduced to Σ v·fn\(x\) with v a random "
                                                r"normal array \(seed=0\); pass grad_outputs= to choose v"):
        tl.gradcheck(Off.apply, x)
    with pytest.raises(tl.GradcheckError, match=r"reduced to Σ grad_outputs·fn\(x\)"):
        tl.gradcheck(Off.apply, x, grad_outputs=np.array([1.0, 0.0, 0.0]))
    assert tl.gradcheck(Off.apply, x, grad_outputs=np.zeros(3))  # v = 0 checks nothing, as asked
    with pytest.raises(ValueError, match=r"grad_outputs has shape \(2,\) but fn's output has shape \(3,\)"):
        tl.gradcheck(lambda v: v * 2, x, grad_outputs=np.ones(2))


def test_drawings_find_an_edge_by_identity_not_by_equal_values():
    """A Value's == is elementwise, so a parent is found by identity: two equal parents stay apart."""
    from tinygrad_lite import viz

    x, y = Value(2.0, label="x"), Value(2.0, label="y")
    z = x * y
    src = viz.draw_graph(z, explain=y).source
    highlighted = [line for line in src.splitlines() if "->" in line and "penwidth=2.5" in line]
    assert highlighted and all("n1_n2_1" in line for line in highlighted)  # the y → z edge, not x → z
