"""Edge cases found in review, through the public API; each failed before its fix."""

import math
import threading
import warnings

import numpy as np
import pytest

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tinygrad_lite import Value, nn, optim, viz


def test_each_leaf_owns_its_gradient():
    a, b = Value(np.ones(3)), Value(np.ones(3))
    (a + b).sum().backward()  # add passes the same upstream array to both parents
    a.grad[0] = 100.0
    assert b.grad[0] == 1.0
    x = Value(np.ones((2, 3)))
    x.sum(axis=1).sum().backward()  # a partial sum's gradient is a broadcast view
    x.grad[0, 0] = 5.0  # writable, and only x's
    seed = np.ones(3)
    w = Value(np.ones(3))
    w.backward(seed)
    w.grad[0] = 7.0
    assert seed[0] == 1.0  # never the caller's array


def test_grad_modes_survive_switches_exiting_out_of_order():
    def paused():
        with tl.no_grad():
            yield

    g = paused()
    with tl.detect_anomaly():
        next(g)  # no_grad entered inside detect_anomaly, and left after it
    g.close()
    seen = {}

    def other():  # another thread inside a switch turns the per-thread look-up on
        with tl.no_grad():
            ready.set()
            done.wait(5)

    ready, done = threading.Event(), threading.Event()
    t = threading.Thread(target=other)
    t.start()
    ready.wait(5)
    try:
        y = Value(2.0) * Value(3.0)
        seen["records"], seen["anomaly"] = bool(y.parents), y._trace is not None
    finally:
        done.set()
        t.join()
    assert seen == {"records": True, "anomaly": False}


def test_nan_passes_through_scalar_relu_and_clamp_as_through_arrays():
    nan = float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tl.NonFiniteWarning)
        for build in (lambda v: v.relu(), lambda v: v.clamp(min=0.0), lambda v: v.clamp(0.0, 1.0)):
            scalar, array = build(Value(nan)), build(Value(np.array([nan])))
            assert type(scalar.data) is float and np.isnan(scalar.data) and np.isnan(array.data[0])
    assert Value(0.5).clamp(1.0, 0.0).item() == float(np.clip(0.5, 1.0, 0.0))  # min above max: as np.clip


def test_power_zero_has_gradient_zero_at_zero_as_pytorch():
    xs = Value([0.0, 1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NaN, so no NonFiniteWarning
        sum(((xs ** k).sum() for k in range(3)), Value(0.0)).backward()
    np.testing.assert_array_equal(xs.grad, [1.0, 3.0, 5.0])
    assert tl.gradgradcheck(lambda v: (v ** 0 + v ** 2).sum(), np.array([0.0, 1.0, 2.0]))


def test_erf_and_gelu_of_a_0d_tensor():
    x = Value(np.array([0.3, 0.4]))
    assert x.sum().erf().item() == pytest.approx(math.erf(0.7), rel=1e-12)
    assert F.gelu(x[0]).item() == pytest.approx(0.3 * 0.5 * (1 + math.erf(0.3 / math.sqrt(2))), rel=1e-12)


def test_maximum_and_minimum_take_the_value_on_either_side():
    x = Value(np.array([1.0, 3.0]))
    np.testing.assert_array_equal(tl.maximum(2.0, x).data, [2.0, 3.0])
    np.testing.assert_array_equal(tl.minimum(np.array([2.0, 2.0]), x).data, [1.0, 2.0])
    with pytest.raises(TypeError, match="maximum: one of the operands must be a Value"):
        tl.maximum(1.0, 2.0)


def test_hooks_run_in_tl_grad_and_are_refused_with_create_graph():
    x = Value(2.0)
    handle = x.register_hook(lambda g: g * 10)
    assert tl.grad(x ** 3, x) == (120.0,)
    with pytest.raises(RuntimeError, match="hooks are not run when gradients are built as a graph"):
        tl.grad(x ** 3, x, create_graph=True)
    handle.remove()
    assert tl.grad(x ** 3, x, create_graph=True)[0].item() == 12.0


def test_explain_with_a_float_constant_such_as_an_epsilon():
    a = Value(2.0, label="a")
    L = (a * a + 1e-5).sqrt()
    L.backward()
    assert tl.explain(L, a).total == pytest.approx(a.grad, rel=1e-12)
    X = Value(np.array([[0.3, -1.0, 2.0]]), label="X")
    ln = nn.LayerNorm(3)
    out = (ln(X) * np.array([1.0, 2.0, 3.0])).sum()
    out.backward()
    assert tl.explain(out, X, index=(0, 1)).total == pytest.approx(X.grad[0, 1], rel=1e-9, abs=1e-12)


def test_two_nodes_never_share_a_display_name():
    x, y, z = Value(2.0, label="a"), Value(3.0, label="a"), Value(5.0, label="a_1")
    L = (x / y) * z
    e = tl.explain(L, x)
    assert not e.paths[0].cancellations  # 1/y times z: nothing cancels
    assert e.paths[0].product == pytest.approx(5.0 / 3.0)


def test_a_title_in_angle_brackets_is_text_not_a_graphviz_html_label():
    z = [Value(v) for v in (1.0, 2.0)]
    g = viz.comparison_graph({"<CE>": F.cross_entropy(z, 0)})
    assert 'label="<CE>"' in g.source


def test_stepper_and_comparison_follow_one_element_of_a_tensor():
    Z = Value(np.array([[0.5, 2.5, 1.0], [1.0, 0.0, -1.0]]), label="Z")
    L = F.cross_entropy(Z, np.array([0, 2]))
    assert "cancels" in viz.stepper(L, explain=Z, index=(0, 0))._repr_html_()
    assert "cancels" in viz.comparison_graph({"CE": L}, explain=Z, index={"CE": (0, 0)}).source


def test_unroll_counts_a_linear_layer_before_building_it():
    x, W = Value(np.ones((2, 50))), Value(np.ones((50, 50)))
    with pytest.raises(tl.unrolling.UnrollError, match="7701 scalar nodes"):
        tl.unroll(F.linear(x, W).sum(), max_nodes=5000)


def test_sgd_state_dict_resumes_in_pytorch():
    torch = pytest.importorskip("torch")
    m = nn.Linear(3, 2, rng=0)
    opt = optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    x = np.ones((4, 3))
    F.mse_loss(m(x), np.zeros((4, 2))).backward()
    opt.step()
    sd = opt.state_dict()
    tm = torch.nn.Linear(3, 2).double()
    tm.load_state_dict({k: torch.from_numpy(v) for k, v in m.state_dict().items()})
    topt = torch.optim.SGD(tm.parameters(), lr=0.1, momentum=0.9)
    topt.load_state_dict({"state": {i: {k: torch.from_numpy(np.asarray(v)) for k, v in s.items()}
                                    for i, s in sd["state"].items()}, "param_groups": sd["param_groups"]})
    m.zero_grad()
    F.mse_loss(m(x), np.zeros((4, 2))).backward()
    opt.step()
    topt.zero_grad()
    torch.nn.functional.mse_loss(tm(torch.from_numpy(x)), torch.zeros(4, 2, dtype=torch.float64)).backward()
    topt.step()
    np.testing.assert_allclose(m.weight.data, tm.weight.detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="nesterov=True.*supports only"):
        opt.load_state_dict({**sd, "param_groups": [{**sd["param_groups"][0], "nesterov": True}]})


def test_the_word_graph_as_an_option_value_is_not_the_graph_command(tmp_path, capsys):
    from tinygrad_lite.cli import main

    assert main(["steps", "--out", str(tmp_path / "graph"), "--loss", "mse"]) == 0
    assert "mse_steps.html" in capsys.readouterr().out


@pytest.mark.parametrize("flag, value", [("--seed", "-1"), ("--batch-size", "0"), ("--epochs", "0")])
def test_train_names_the_flag_that_is_out_of_range(flag, value, tmp_path, capsys):
    from tinygrad_lite.cli import main

    assert main(["train", "--out", str(tmp_path), flag, value]) == 1
    assert capsys.readouterr().err.strip() == f"tinygrad-lite: error: {flag} must be at least {int(value) + 1}, got {value}"


def test_a_label_that_looks_like_a_latex_macro_is_text():
    from tinygrad_lite.display import latex_name

    assert latex_name("\\end") == r"\text{\textbackslash{}end}" and latex_name("σ") == r"\sigma"
    L = Value(2.0) * Value(3.0)
    with pytest.raises(ValueError, match="wrt is the root .* itself"):
        tl.explain(L, L)
    assert repr(nn.MLP([2, 3, 1], activation="gelu")[1]) == "GELU()"


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_of_an_infinite_row_warns_once_naming_the_op(op):
    x = Value(np.array([[1.0, np.inf], [-np.inf, -np.inf], [0.0, 1.0]]))
    with pytest.warns(tl.NonFiniteWarning, match=f"^{op}: a row holding") as seen:
        out = getattr(x, op)(-1)
    assert len(seen) == 1
    assert np.isnan(out.data[:2]).all() and np.isfinite(out.data[2]).all()
