"""tl.gradcheck itself: it passes correct gradients and reports wrong ones with a table."""

import numpy as np
import pytest

import tinygrad_lite as tl


def test_passes_and_accepts_float32_inputs_checked_in_float64():
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    assert tl.gradcheck(lambda v: (v * v).sum(axis=0), x) is True


def test_wrong_gradient_is_reported_with_input_index_and_both_values():
    # x * x.detach(): backprop sees only one factor, so it gives x where the truth is 2x.
    x = tl.Value(np.array([1.0, -2.0, 3.0]), label="x")
    with pytest.raises(tl.GradcheckError) as err:
        tl.gradcheck(lambda v: (v * v.detach()).sum(), x)
    text = str(err.value)
    assert "3 gradient element(s) differ" in text
    assert "input" in text and "analytic" in text and "numeric" in text
    lines = text.splitlines()
    worst = next(line for line in lines if line.startswith("0 (x)"))
    assert "(2,)" in worst and "3" in worst and "6" in worst  # index 2: analytic 3, numeric 6


def test_non_value_output_is_a_type_error():
    with pytest.raises(TypeError, match="must return a Value"):
        tl.gradcheck(lambda v: 1.0, 2.0)


@pytest.mark.parametrize("op", ["sigmoid", "tanh", "softplus"])
def test_saturating_ops_have_finite_gradients_at_extremes(op):
    x = tl.Value(np.array([-1e4, -50.0, 0.0, 50.0, 1e4]))
    y = getattr(x, op)()
    y.sum().backward()
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad))
    for v in (-1e4, 1e4):
        s = tl.Value(v)
        getattr(s, op)().backward()
        assert np.isfinite(s.grad)


def test_softmax_is_max_shifted():
    x = tl.Value(np.array([1000.0, 1000.0, -1000.0]))
    p = x.softmax()
    np.testing.assert_allclose(p.data, [0.5, 0.5, 0.0])
    (p * np.array([1.0, 2.0, 3.0])).sum().backward()
    assert np.all(np.isfinite(x.grad))
