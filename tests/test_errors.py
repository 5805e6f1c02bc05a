"""Bad input gets a clear error naming the op and the shapes, and changes no state."""

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value


@pytest.mark.parametrize(
    "call, exc, message",
    [
        (lambda: Value(np.ones((8, 3))) @ Value(np.ones((4, 3))), tl.ShapeError,
         r"matmul: shapes \(8, 3\) and \(4, 3\) are not aligned.*x @ W\.T"),
        (lambda: Value(2.0) @ Value(np.ones(2)), tl.ShapeError, "at least 1-D"),
        (lambda: Value(np.ones((2, 2, 3))) @ Value(np.ones((3, 3, 1))), tl.ShapeError, "batch dimensions"),
        (lambda: Value(np.ones(3)) + Value(np.ones(4)), tl.ShapeError,
         r"add: operands of shapes \(3,\) and \(4,\) cannot be broadcast"),
        (lambda: Value(np.ones((2, 3))) * np.ones((3, 2)), tl.ShapeError, r"mul: .*\(2, 3\) and \(3, 2\)"),
        (lambda: Value(np.ones((2, 3))).reshape(4, 2), tl.ShapeError,
         r"reshape: cannot reshape a Value of shape \(2, 3\) \(6 elements\) into \(4, 2\)"),
        (lambda: Value(np.ones((2, 3))).permute(0, 0), tl.ShapeError, "permute: axes .* not a permutation"),
        (lambda: Value(np.ones((2, 3))).sum(axis=2), tl.ShapeError, r"sum: axis 2 is out of range.*\(2, 3\)"),
        (lambda: Value(np.ones((2, 3))).softmax(axis=-3), tl.ShapeError, "softmax: axis -3"),
        (lambda: Value(np.ones(3))[5], IndexError, r"index: .*out of bounds.*shape \(3,\)"),
        (lambda: Value(2.0)[0], IndexError, "0-d Value cannot be indexed"),
        (lambda: Value(None), TypeError, "cannot make a Value from NoneType"),
        (lambda: Value("abc"), TypeError, "cannot make a Value from str"),
        (lambda: Value(np.array(["a"])), TypeError, "dtype <U1"),
        (lambda: Value([[1, 2], [3]]), ValueError, "unequal lengths"),
        (lambda: Value(1.0) + "x", TypeError, "add: cannot combine a Value with str"),
        (lambda: Value(1.0) * None, TypeError, "mul: cannot combine a Value with NoneType"),
        (lambda: Value(np.ones(2)).sum(axis=1.5), TypeError, "axis must be an int"),
    ],
)
def test_bad_input_is_explained(call, exc, message):
    with pytest.raises(exc, match=message):
        call()


def test_failed_op_leaves_operands_untouched():
    a, b = Value(np.ones((8, 3)), label="a"), Value(np.ones((4, 3)), label="b")
    (a * 2).sum().backward()
    before = a.grad.copy()
    with pytest.raises(tl.ShapeError):
        a @ b
    with pytest.raises(ValueError):
        (a * 2).sum().backward(np.ones(3))
    np.testing.assert_array_equal(a.grad, before)
    assert a.parents == () and b._grad is None


@pytest.mark.parametrize(
    "make, op",
    [
        (lambda: Value(0.0).log(), "log"),
        (lambda: Value(-1.0).log(), "log"),
        (lambda: Value(np.array([1.0, -2.0])).log(), "log"),
        (lambda: Value(-1.0).sqrt(), "sqrt"),
        (lambda: Value(np.array([4.0, -1.0])).sqrt(), "sqrt"),
        (lambda: Value(-2.0).log1p(), "log1p"),
        (lambda: Value(np.array([1.0, 0.0])).log(), "log"),
        (lambda: Value(1.0) / 0.0, "div"),
        (lambda: Value(np.ones(2)) / np.array([1.0, 0.0]), "div"),
        (lambda: Value(-8.0) ** (1 / 3), "pow"),
        (lambda: Value(1000.0).exp(), "exp"),
    ],
)
def test_non_finite_forward_warns_naming_the_op(make, op):
    with pytest.warns(tl.NonFiniteWarning, match=f"^{op}:"):
        make()


def test_nan_in_backward_warns_naming_the_op():
    x = Value(0.0, label="x")
    y = x.sqrt() * 0.0  # forward is finite (0); backward is 0·inf = NaN in sqrt
    with pytest.warns(tl.NonFiniteWarning, match=r"NaN/Inf gradient for x.*backward of (mul|sqrt)"):
        y.backward()


def test_pow_gradient_of_exponent_follows_pytorch():
    b = Value(2.0)
    (Value(0.0) ** b).backward()
    assert b.grad == 0.0  # 0**b · ln 0 taken as 0 for b ≥ 0
    e = Value(2.0, label="e")
    with pytest.warns(tl.NonFiniteWarning, match="gradient for e"):
        (Value(-2.0) ** e).backward()
    assert np.isnan(e.grad)


def test_detect_anomaly_names_op_and_user_line():
    with tl.detect_anomaly():
        x = Value(np.array([0.0, 1.0]), label="x")
        with pytest.raises(tl.AnomalyError, match=r"sqrt's backward produced NaN/Inf.*test_errors.py:\d+: s = x.sqrt\(\)"):
            s = x.sqrt()
            s.sum().backward()
        with pytest.raises(tl.AnomalyError, match=r"div produced NaN/Inf in forward.*test_errors.py:\d+"):
            with pytest.warns(tl.NonFiniteWarning):
                Value(1.0) / Value(0.0)


def test_root_nan_warns_with_the_first_op():
    a = Value(1e308)
    with pytest.warns(tl.NonFiniteWarning, match="first appears in the output of mul"):
        (a * 10.0 - a * 10.0).backward()
    b = Value(np.inf, label="b")
    with pytest.warns(tl.NonFiniteWarning, match="the input b is already NaN/Inf"):
        (b - b).backward()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_but_finite_gradients_do_not_warn(dtype):
    """The quick NaN test (a sum of squares) overflows here; the exact test must then clear it."""
    big = np.sqrt(np.finfo(dtype).max)  # twelve squares of it overflow to inf
    w = Value(np.ones((3, 4), dtype=dtype), label="w")
    (w * Value(np.full((3, 4), big, dtype=dtype))).sum().backward()  # ∂/∂w = big; a warning would fail
    assert np.all(w.grad == big) and w.grad.dtype == dtype
    assert not np.isfinite(np.vdot(w.grad, w.grad))  # so the exact test did run


def test_gradient_overflowing_to_inf_still_warns():
    x = Value(np.array([1e-300, 1e-300]), label="x")
    with pytest.warns(tl.NonFiniteWarning, match="gradient for x"), np.errstate(over="ignore"):
        (x * 1e300 * 1e300).sum().backward()  # forward ≤ 1e300, but ∂/∂x = 1e600 = inf
