"""A Python number operand is part of its op (x * 2.0, 1 - x, x ** 2): one parent, not a node."""

import math
import operator

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tests.strategies import arrays, as_input, small_shapes
from tinygrad_lite import Value, viz
from tinygrad_lite.naming import graph_nodes

# form: (function of x, op name, label in the drawing, ∂out/∂x as a function of x, formula text)
FORMS = {
    "x * 2.0": (lambda x: x * 2.0, "mul", "× 2", lambda x: 2.0, "2"),
    "2.0 * x": (lambda x: 2.0 * x, "mul", "2 × ·", lambda x: 2.0, "2"),
    "x + 1": (lambda x: x + 1, "add", "+ 1", lambda x: 1.0, "1"),
    "1 + x": (lambda x: 1 + x, "add", "1 + ·", lambda x: 1.0, "1"),
    "x - 1": (lambda x: x - 1, "sub", "− 1", lambda x: 1.0, "1"),
    "1 - x": (lambda x: 1 - x, "sub", "1 − ·", lambda x: -1.0, "−1"),
    "x / 3": (lambda x: x / 3, "div", "÷ 3", lambda x: 1 / 3, "1/3"),
    "3 / x": (lambda x: 3 / x, "div", "3 ÷ ·", lambda x: -3 / x**2, "−3/x²"),
    "x ** 2": (lambda x: x**2, "pow", "^ 2", lambda x: 2 * x, "2·x^(2−1)"),
    "2 ** x": (lambda x: 2**x, "pow", "2 ^ ·", lambda x: 2**x * math.log(2), "pow0·log(2)"),
}


@pytest.mark.parametrize("form", FORMS)
def test_the_number_is_in_the_op_not_a_node(form):
    fn, name, label, _, _ = FORMS[form]
    x = Value(1.5, label="x")
    out = fn(x)
    assert out.op == name and out.parents == (x,)
    assert f"[{label}]" in viz.draw_graph(out).source
    assert viz.draw_graph(out, show_local=False).source.count("->") == 1  # no box for the number
    assert len(graph_nodes(out)) == 2


@pytest.mark.parametrize("form", FORMS)
@given(x=st.floats(0.2, 3.0))
def test_local_derivative_is_data_and_matches_the_closed_form(form, x):
    fn, _, _, d, _ = FORMS[form]
    v = Value(x, label="x")
    out = fn(v)
    out.backward()
    assert v.grad == pytest.approx(d(x), rel=1e-12)
    (step,) = list(fn(v).backward_steps())
    assert step.parents[0].local == pytest.approx(d(x), rel=1e-12)


@pytest.mark.parametrize("form", FORMS)
@given(data=st.data())
def test_gradcheck_on_scalars_and_tensors(form, data):
    fn = FORMS[form][0]
    x = data.draw(arrays(data.draw(small_shapes), 0.2, 3.0))
    assert tl.gradcheck(fn, as_input(x))


@pytest.mark.parametrize("form", FORMS)
def test_steps_and_drawings_name_the_number(form):
    fn, _, _, _, text = FORMS[form]
    x = Value(1.5, label="x")
    out = fn(x)
    (step,) = list(out.backward_steps())
    assert step.parents[0].formula == text
    assert f"x.grad += {text}" in str(step)


@pytest.mark.parametrize(
    "fn, simplified",
    [
        (lambda x: x * 2.0, sympy.Integer(2)),
        (lambda x: x * 0.5, sympy.Rational(1, 2)),  # written as a simple fraction: exact
        (lambda x: 0.25 - x, sympy.Integer(-1)),
        (lambda x: x / 3, sympy.Rational(1, 3)),
        (lambda x: 3 / x, -3 / sympy.Symbol("x") ** 2),
        (lambda x: x**2, 2 * sympy.Symbol("x")),
        (lambda x: (x**2) * 0.5, sympy.Symbol("x")),  # ½·2x: the numbers cancel exactly
    ],
)
def test_explain_keeps_numbers_exact(fn, simplified):
    x = Value(1.5, label="x")
    out = fn(x)
    out.backward()
    e = tl.explain(out, x)
    assert sympy.simplify(e.paths[0].simplified - simplified) == 0
    assert e.total == pytest.approx(x.grad)


def test_a_float_that_is_not_a_simple_fraction_stays_a_float():
    x = Value(1.5, label="x")
    e = tl.explain(x * 0.1, x)
    assert e.paths[0].simplified == sympy.Float(0.1) and isinstance(e.paths[0].simplified, sympy.Float)


def test_other_number_types_and_float32_tensors():
    x = Value(2.0)
    for c in (2, True, np.float64(2.0), np.int64(2), np.float32(2.0)):
        out = x * c
        assert out.parents == (x,) and type(out.data) is float and out.data == 2.0 * float(c)
    w = Value(np.ones(3, dtype=np.float32))
    out = (w * 2.0 + 1) / 3
    assert out.parents[0].parents[0].parents == (w,) and out.dtype == np.float32
    out.sum().backward()
    assert w.grad.dtype == np.float32 and np.allclose(w.grad, 2 / 3)


def test_constants_made_explicitly_and_arrays_stay_nodes():
    x = Value(np.ones(3), label="x")
    k = Value(2.0, requires_grad=False)
    for c in (k, np.array(2.0), np.full(3, 2.0)):
        out = x * c
        assert len(out.parents) == 2 and out.parents[0] is x and not out.parents[1].requires_grad
    assert (k * x).parents == (k, x)


@pytest.mark.parametrize("bad", ["a", None, 1j, object(), [1, "a"]])
@pytest.mark.parametrize("op, fn", [("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                                    ("div", operator.truediv), ("pow", operator.pow)])
def test_non_numbers_are_refused_naming_the_op_and_the_type(op, fn, bad):
    x = Value(2.0)
    for a, b in ((x, bad), (bad, x)):
        with pytest.raises(TypeError, match=f"{op}: cannot combine a Value with {type(bad).__name__}"):
            fn(a, b)
    assert x._grad is None and x.parents == ()


def test_nan_and_inf_numbers_warn_where_they_did():
    """The same warnings as when numbers were constant nodes (checked against that version)."""
    x, y = Value(2.0, label="x"), Value(1e-300, label="y")
    with pytest.warns(tl.NonFiniteWarning) as caught:
        (x * math.nan).backward()
        x / 0.0
        1.0 / Value(0.0)
        Value(-8.0) ** (1 / 3)
        (y * math.inf * 0.0 + y).backward()
    assert [str(w.message).split(" (")[0] for w in caught] == [
        "backward: the root's value is NaN/Inf; it first appears in the output of mul",
        "backward produced a NaN/Inf gradient for x",
        "div: division by zero", "div: division by zero",
        "pow: negative base with a non-integer exponent gives nan",  # once: one op, one warning
        "backward: the root's value is NaN/Inf; it first appears in the output of mul",
        "backward produced a NaN/Inf gradient for y",
    ]
    with tl.detect_anomaly(), pytest.raises(tl.AnomalyError, match="mul produced NaN/Inf in forward"):
        x * math.inf


def test_mse_graph_has_no_constant_boxes():
    z = [Value(v, label=f"z{i}") for i, v in enumerate([2.0, 1.0, 0.1])]
    loss = F.mse_loss(F.softmax(z), [1.0, 0.0, 0.0], reduction="sum")
    assert all(n.requires_grad for n in graph_nodes(loss))
    assert "− 1]" in viz.draw_graph(loss).source


def test_a_chain_with_numbers_has_one_node_per_op():
    x = Value(1.0)
    y = x
    for _ in range(100):
        y = y * 1.0001 + 0.0001
    assert len(graph_nodes(y)) == 201
    y.backward()
    assert x.grad == pytest.approx(1.0001**100)
