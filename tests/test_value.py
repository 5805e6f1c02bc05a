"""Value semantics (SPEC §2): data types, attributes, backward rules, graph hygiene."""

import gc
import sys
import weakref

import numpy as np
import pytest

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tinygrad_lite import Value


def test_data_conversion_and_dtypes():
    assert Value(2).data == 2.0 and type(Value(2).data) is float
    assert Value(True).dtype == np.float64
    assert Value([[1, 2], [3, 4]]).dtype == np.float64 and Value([[1, 2]]).shape == (1, 2)
    assert Value(np.arange(3)).dtype == np.float64
    assert Value(np.ones(3, dtype=np.float32)).dtype == np.float32
    assert Value(np.float32(1.5)).dtype == np.float32
    f32 = Value(np.ones((2, 2), np.float32))
    assert (f32 * 2.0 + f32).dtype == np.float32  # Python numbers don't upcast float32


def test_attributes():
    v = Value(np.arange(6.0).reshape(2, 3), label="v")
    assert (v.shape, v.ndim, v.size, v.label, v.op, v.parents) == ((2, 3), 2, 6, "v", "", ())
    np.testing.assert_array_equal(v.grad, np.zeros((2, 3)))
    w = v * 2
    assert w.op == "mul" and w.parents == (v,)  # the number is part of the op, not a parent
    assert Value(3.5).item() == 3.5 and float(Value([[2.5]])) == 2.5
    assert isinstance(v.numpy(), np.ndarray) and len(v) == 2
    with pytest.raises(ValueError, match="only a one-element Value"):
        v.item()


def test_operators_with_numbers_and_arrays_on_either_side():
    a = Value(3.0)
    assert [(2 + a).data, (a + 2).data, (2 - a).data, (a - 2).data, (2 * a).data, (a / 2).data,
            (6 / a).data, (a**2).data, (2**a).data, (-a).data] == [5, 5, -1, 1, 6, 1.5, 2, 9, 8, -3]
    arr = np.array([1.0, 2.0])
    assert isinstance(arr * a, Value) and (arr * a).shape == (2,)  # NumPy defers to Value
    assert (arr @ Value(arr)).item() == 5.0
    two = Value(2.0, requires_grad=False)  # a constant made explicitly stays a node
    assert (two + a).parents == (two, a) and (a + two).parents == (a, two)  # in argument order


def test_scalar_example_from_spec():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b + a.exp()
    c.backward()
    assert a.grad == pytest.approx(-3.0 + np.exp(2.0)) and b.grad == 2.0


def test_leaf_grads_accumulate_interior_grads_are_recomputed():
    x = Value(3.0)
    y = x * x  # the same Value twice: both edges add up
    z = y * 2.0
    z.backward()
    assert x.grad == 12.0 and y.grad == 2.0
    z.backward()  # a second backward adds the same leaf gradient again
    assert x.grad == 24.0 and y.grad == 2.0
    x.zero_grad()
    assert x.grad == 0.0


def test_diamond_reuse():
    a = Value(2.0)
    b, c = a * 3.0, a.square()
    d = b + c
    d.backward()
    assert a.grad == 3.0 + 4.0


def test_tensor_example_from_spec():
    W = Value(np.random.randn(3, 4), label="W")
    x = Value(np.random.randn(8, 3))
    (x @ W).relu().sum().backward()
    assert W.grad.shape == (3, 4)


def test_non_scalar_backward_needs_grad():
    v = Value(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*pass grad="):
        (v * 2).backward()
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but the root has shape \(2, 3\)"):
        (v * 2).backward(np.ones(3))
    (v * 2).backward(np.ones((2, 3)))
    np.testing.assert_array_equal(v.grad, 2 * np.ones((2, 3)))


def test_no_grad_and_detach():
    a = Value(2.0)
    with tl.no_grad():
        b = a * 3
    assert b.parents == () and not b.requires_grad
    c = a.detach() * 3 + a
    c.backward()
    assert a.grad == 1.0 and not a.detach().requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        b.backward()


def test_requires_grad_false_gets_no_gradient():
    a, k = Value(2.0), Value(5.0, requires_grad=False)
    (a * k).backward()
    assert a.grad == 5.0 and k._grad is None


def test_million_link_chain_without_recursion_error():
    assert sys.getrecursionlimit() <= 10_000
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0000001
    y.backward()
    assert x.grad == pytest.approx(1.0000001**1_000_000)


def test_no_reference_cycles():
    """After ``del loss`` everything is freed by reference counting alone."""
    gc.collect()
    gc.disable()
    try:
        z = [Value(v) for v in (2.0, 1.0, 0.1)]
        loss = F.cross_entropy(z, 0) + F.mse_loss(F.softmax(z), [1.0, 0.0, 0.0])
        W = Value(np.ones((3, 2)))
        loss = loss + F.cross_entropy(Value(np.ones((4, 3))) @ W, np.array([0, 1, 1, 0]), fused=True)
        loss.backward()
        probe = weakref.ref(loss.parents[0])
        del loss, z, W
        assert probe() is None
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_node_identity_is_not_structural_and_deterministic():
    a, b = Value(1.0), Value(1.0)
    assert a is not b and {a, b} == {a, b} and len({a, b}) == 2
    s = a + b
    assert s.parents == (a, b)


def test_grad_setter_checks_shape():
    v = Value(np.zeros((2, 2)))
    v.grad = np.ones((2, 2))
    np.testing.assert_array_equal(v.grad, np.ones((2, 2)))
    v.grad = None
    np.testing.assert_array_equal(v.grad, np.zeros((2, 2)))


def test_float32_gradients_stay_float32():
    W = Value(np.ones((3, 2), np.float32))
    x = Value(np.ones((4, 3), np.float32))
    F.cross_entropy(x @ W, np.array([0, 1, 1, 0]), fused=True).backward()
    assert W.grad.dtype == np.float32


def test_repr():
    assert repr(Value(2.0, label="a")) == "Value(2, label='a')"
    assert repr(Value([1, 2]) * 2) == "Value([2., 4.], op='mul')"
