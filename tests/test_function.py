"""tl.Function: custom ops on NumPy data, as torch.autograd.Function."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tests.strategies import arrays, as_input, small_shapes
from tinygrad_lite import Value, viz


def _erf(x):
    return np.vectorize(math.erf)(x) if np.ndim(x) else math.erf(x)


class GELU(tl.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * x * (1 + _erf(x / math.sqrt(2)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        cdf = 0.5 * (1 + _erf(x / math.sqrt(2)))
        return grad * (cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi))


class MulAdd(tl.Function):
    """x·y + c with c a plain number (no gradient), to check non-Value arguments."""

    formulas = ("y", "x")
    expr = "x*y"

    @staticmethod
    def forward(ctx, x, y, c):
        ctx.save_for_backward(x, y)
        ctx.c = c
        return x * y + c

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_values
        return grad * y, grad * x, None


@given(a=arrays(small_shapes))
def test_custom_gelu_matches_builtin_and_gradcheck(a):
    a = as_input(a)
    assert tl.gradcheck(GELU.apply, a)
    x1, x2 = Value(a), Value(a)
    y1, y2 = GELU.apply(x1), F.gelu(x2)
    np.testing.assert_allclose(y1.data, y2.data, rtol=1e-12, atol=1e-15)
    y1.sum().backward()
    y2.sum().backward()
    np.testing.assert_allclose(x1.grad, x2.grad, rtol=1e-10, atol=1e-15)
    assert y1.op == "GELU" and y1.parents == (x1,)


def test_two_inputs_broadcast_and_non_value_argument():
    a, b = np.random.default_rng(0).standard_normal((2, 3)), np.random.default_rng(1).standard_normal(3)
    assert tl.gradcheck(lambda x, y: MulAdd.apply(x, y, 2.0), a, b)
    x, y = Value(a), Value(b)
    out = MulAdd.apply(x, y, 2.0)
    out.sum().backward()
    np.testing.assert_allclose(y.grad, a.sum(0))  # the (2, 3) gradient summed back to y's (3,)
    assert out.parents == (x, y)


def test_needs_input_grad_and_constants():
    seen = {}

    class Probe(tl.Function):
        @staticmethod
        def forward(ctx, x, y):
            seen["needs"] = ctx.needs_input_grad
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g, None

    x = Value(1.0)
    Probe.apply(x, Value(2.0, requires_grad=False)).backward()
    assert seen["needs"] == (True, False) and x.grad == 1.0


def test_no_grad_builds_no_graph():
    x = Value(np.ones(3))
    with tl.no_grad():
        y = GELU.apply(x)
    assert y.parents == () and not y.requires_grad


def test_detect_anomaly_names_the_custom_op():
    class Bad(tl.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * np.nan

    x = Value(np.ones(2))
    with tl.detect_anomaly(), pytest.raises(tl.AnomalyError, match="Bad's backward produced NaN/Inf"):
        Bad.apply(x).sum().backward()


def test_wrong_number_or_shape_of_gradients_names_the_op_and_input():
    class TooFew(tl.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    class WrongShape(tl.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g, np.ones(5)

    x, y = Value(np.ones(3)), Value(np.ones(3))
    with pytest.raises(RuntimeError, match=r"TooFew.backward returned 1 gradient\(s\), but TooFew.forward took 2"):
        TooFew.apply(x, y).sum().backward()
    with pytest.raises(tl.ShapeError, match=r"WrongShape.backward returned a gradient of shape \(5,\) for input 1, "
                                            r"which has shape \(3,\)"):
        WrongShape.apply(x, y).sum().backward()


def test_forward_must_return_data():
    class ReturnsValue(tl.Function):
        @staticmethod
        def forward(ctx, x):
            return Value(x)

    class ReturnsTwo(tl.Function):
        @staticmethod
        def forward(ctx, x):
            return x, x

    with pytest.raises(TypeError, match="ReturnsValue.forward returned a Value; forward works on NumPy data"):
        ReturnsValue.apply(Value(1.0))
    with pytest.raises(TypeError, match="one output"):
        ReturnsTwo.apply(Value(1.0))


def test_drawings_steps_and_explain_show_formulas_or_numbers():
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    out = MulAdd.apply(x, y, 1.0)
    steps = list(tl.backprop_steps(out))
    text = "\n".join(map(str, steps))
    assert "x.grad += y" in text and "y.grad += x" in text  # the class's formulas, with labels
    e = tl.explain(out, x)
    assert e.total == 3.0
    g = Value(0.5, label="g")
    h = GELU.apply(g)
    dot = viz.draw_graph(h).source
    assert "GELU" in dot and "0.8" in dot  # no formulas: its name and the number ∂h/∂g ≈ 0.867
    assert "0.8" in "\n".join(map(str, tl.backprop_steps(h)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tl.explain(h, g)


def test_create_graph_through_a_function_is_a_clear_error():
    x = Value(np.ones(2))
    with pytest.raises(RuntimeError, match="create_graph: the op 'GELU'.*works on NumPy data only"):
        tl.grad(GELU.apply(x).sum(), [x], create_graph=True)
