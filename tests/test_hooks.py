"""Gradient hooks and forward hooks, checked against PyTorch on the same graphs."""

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value, nn


def _graph(lib, a, b):
    """A graph where `h` has two children (its gradient is a sum) and `x` feeds it twice."""
    if lib == "torch":
        import torch

        x, w = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        h = (x * w).tanh()
        out = (h * h + h * 3.0 + x).sum()
    else:
        x, w = Value(a), Value(b)
        h = (x * w).tanh()
        out = (h * h + h * 3.0 + x).sum()
    return x, w, h, out


def _copy(g):
    """A hook's gradient as a NumPy copy (torch tensors through .numpy(): their __array__ is older)."""
    return g.detach().numpy().copy() if hasattr(g, "detach") and not isinstance(g, Value) else np.array(g)


def _grad(lib, v):
    return v.grad.numpy() if lib == "torch" else np.asarray(v.grad)


@pytest.mark.parametrize("scenario", ["observe", "replace_interior", "replace_leaf", "two_hooks", "root"])
def test_hooks_match_pytorch(scenario):
    pytest.importorskip("torch")
    a, b = np.array([0.3, -1.2, 2.0]), np.array([1.5, 0.4, -0.7])
    results = {}
    for lib in ("torch", "tl"):
        x, w, h, out = _graph(lib, a, b)
        seen = []
        if lib == "torch":
            h.retain_grad()
        else:
            h.retain_grad()  # accepted; every node keeps .grad anyway
        if scenario == "observe":
            h.register_hook(lambda g, seen=seen: seen.append(_copy(g)))
        elif scenario == "replace_interior":
            h.register_hook(lambda g: g * 2)
        elif scenario == "replace_leaf":
            x.register_hook(lambda g: g * 0 + 1)
        elif scenario == "two_hooks":
            h.register_hook(lambda g: g + 1)
            h.register_hook(lambda g, seen=seen: seen.append(_copy(g)) or g * 3)
        elif scenario == "root":
            out.register_hook(lambda g: g * 5)
        out.backward()
        results[lib] = [_grad(lib, v) for v in (x, w, h)] + seen
    for ours, theirs in zip(results["tl"], results["torch"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert len(results["tl"]) == len(results["torch"])


def test_leaf_hook_sees_this_pass_and_grads_accumulate_as_pytorch():
    torch = pytest.importorskip("torch")
    seen = {"torch": [], "tl": []}
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    xv = Value([1.0, 2.0])
    xt.register_hook(lambda g: seen["torch"].append(g.numpy().copy()) or g * 10)
    xv.register_hook(lambda g: seen["tl"].append(np.array(g)) or g * 10)
    for _ in range(2):
        (xt * xt).sum().backward()
        (xv * xv).sum().backward()
    np.testing.assert_array_equal(xv.grad, xt.grad.numpy())  # 2 × 10·2x
    for ours, theirs in zip(seen["tl"], seen["torch"]):
        np.testing.assert_array_equal(ours, theirs)  # each pass's own gradient, not the total


def test_remove_and_context_manager():
    x = Value(3.0)
    calls = []
    handle = x.register_hook(lambda g: calls.append(g))
    (x * 2).backward()
    handle.remove()
    handle.remove()  # twice is harmless
    (x * 2).backward()
    assert calls == [2.0] and x.grad == 4.0
    with x.register_hook(lambda g: g * 0):
        (x * 2).backward()
    (x * 2).backward()
    assert x.grad == 6.0


def test_scalar_graph_hook_and_unreached_leaf():
    a, b, c = Value(2.0), Value(-3.0), Value(5.0)
    unused = a * c  # noqa: F841 - a second child of a, outside the backward graph
    y = a * b
    a.register_hook(lambda g: g + 100)
    c.grad = 7.0
    c.register_hook(lambda g: g * 0)
    y.backward()
    assert a.grad == -3.0 + 100 and b.grad == 2.0 and c.grad == 7.0  # c was not in the pass


def test_hook_returning_a_wrong_shape_names_the_op_and_shapes():
    x = Value(np.ones((2, 3)), label="x")
    h = x.exp()
    h.register_hook(lambda g: np.ones(3))
    with pytest.raises(tl.ShapeError, match=r"hook on the exp node \(shape \(2, 3\)\) returned a gradient of shape "
                                            r"\(3,\); it must return one of the gradient's shape \(2, 3\)"):
        h.sum().backward()
    with pytest.raises(TypeError, match="hook must be callable"):
        x.register_hook(3)
    with pytest.raises(RuntimeError, match="does not require grad"):
        Value(1.0, requires_grad=False).register_hook(print)


def test_hooks_see_anomaly_mode_and_gradcheck_still_passes():
    x = Value(np.array([0.5, 1.5]))
    x.register_hook(lambda g: g)
    with tl.detect_anomaly():
        (x.log() * 2).sum().backward()
    np.testing.assert_allclose(x.grad, [4.0, 4 / 3])
    assert tl.gradcheck(lambda v: (v.sin() * v).sum(), np.array([0.1, 0.2]))


def test_forward_hook_as_pytorch():
    torch = pytest.importorskip("torch")
    lin = nn.Linear(3, 2)
    calls = []

    def hook(module, inputs, output):
        calls.append((module, inputs, output))
        return output * 2

    handle = lin.register_forward_hook(hook)
    x = Value(np.ones((4, 3)))
    out = lin(x)
    assert calls[0][0] is lin and calls[0][1][0] is x and calls[0][1] == (x,)
    np.testing.assert_allclose(out.data, 2 * calls[0][2].data)
    handle.remove()
    np.testing.assert_allclose(lin(x).data, calls[0][2].data)
    tlin = torch.nn.Linear(3, 2)
    tcalls = []
    tlin.register_forward_hook(lambda m, i, o: tcalls.append(i) or o * 2)
    tlin(torch.ones(4, 3))
    assert isinstance(tcalls[0], tuple) and len(tcalls[0]) == 1  # inputs as a tuple there too
