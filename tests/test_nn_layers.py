"""nn's PyTorch path (SPEC §6): names and layouts as torch, Dropout, LayerNorm, clip_grad_norm_, optimizer state."""

import numpy as np
import pytest

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tinygrad_lite import data, nn, optim, viz


def _train(model, opt, batches):
    for xb, yb in batches:
        opt.zero_grad()
        F.cross_entropy(model(xb), yb, fused=True).backward()
        opt.step()


def _torch_mlp(torch, sizes, act):
    layers = []
    for k, (nin, nout) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(nin, nout, dtype=torch.float64))
        if k < len(sizes) - 2:
            layers.append(act())
    return torch.nn.Sequential(*layers)


def test_trained_mlp_loads_into_the_same_torch_model_with_equal_outputs_and_gradients():
    torch = pytest.importorskip("torch")
    X, y = data.make_moons(n=48, seed=0)
    model = nn.MLP([2, 8, 8, 2], activation="tanh", rng=0)
    _train(model, optim.Adam(model.parameters(), lr=0.05), data.batches(X, y, 16, seed=1))
    tm = _torch_mlp(torch, [2, 8, 8, 2], torch.nn.Tanh)
    tm.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})  # strict: same keys
    assert [k for k, _ in tm.named_parameters()] == [k for k, _ in model.named_parameters()]

    model.zero_grad()
    logits = model(X)
    F.cross_entropy(logits, y, fused=True).backward()
    tl_out = tm(torch.from_numpy(X))
    torch.nn.functional.cross_entropy(tl_out, torch.from_numpy(y)).backward()
    np.testing.assert_allclose(logits.data, tl_out.detach().numpy(), rtol=1e-12, atol=1e-14)
    for (name, p), (_, tp) in zip(model.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-14, err_msg=name)


def test_custom_modules_and_every_layer_have_torch_keys_and_layouts():
    torch = pytest.importorskip("torch")

    class Net(nn.Module):
        def __init__(self):
            self.fc1 = nn.Linear(3, 4, rng=0)
            self.body = nn.Sequential(nn.LayerNorm(4), nn.ReLU(), nn.Dropout(0.2), nn.Linear(4, 2, bias=False, rng=1))

        def forward(self, x):
            return self.body(self.fc1(x))

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(3, 4, dtype=torch.float64)
            self.body = torch.nn.Sequential(torch.nn.LayerNorm(4, dtype=torch.float64), torch.nn.ReLU(),
                                            torch.nn.Dropout(0.2), torch.nn.Linear(4, 2, bias=False, dtype=torch.float64))

        def forward(self, x):
            return self.body(self.fc1(x))

    net, tnet = Net(), TorchNet()
    state = net.state_dict()
    assert list(state) == list(tnet.state_dict()) == ["fc1.weight", "fc1.bias", "body.0.weight", "body.0.bias", "body.3.weight"]
    assert {k: v.shape for k, v in state.items()} == {k: tuple(v.shape) for k, v in tnet.state_dict().items()}
    state["body.0.weight"] = np.linspace(0.5, 2.0, 4)  # not the initial ones, so the affine part is checked
    net.load_state_dict(state)
    tnet.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    x = np.random.default_rng(0).standard_normal((5, 3))
    net.eval(), tnet.eval()
    np.testing.assert_allclose(net(x).data, tnet(torch.from_numpy(x)).detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("x_shape", [(3,), (4, 3), (2, 4, 3)])
def test_linear_gradcheck_through_input_weight_and_bias(x_shape):
    lin = nn.Linear(3, 2, rng=0)
    rng = np.random.default_rng(0)

    def f(x, w, b):
        lin.weight, lin.bias = w, b
        return lin(x)

    assert tl.gradcheck(f, rng.standard_normal(x_shape), rng.standard_normal((2, 3)), rng.standard_normal(2))
    out = lin(np.ones(x_shape))  # one node as torch's F.linear (addmm): the bias is its third parent, not an add
    assert out.op == "linear" and out.parents == (out.parents[0], lin.weight, lin.bias)


def test_drawings_label_parameters_by_their_names():
    model = nn.MLP([2, 3, 2], rng=0)
    assert [p.label for p in model.parameters()] == [n for n, _ in model.named_parameters()]
    loss = F.cross_entropy(model(np.ones((1, 2))), np.array([0]), fused=True)
    src = viz.draw_graph(loss).source
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert f'label="{name}\\n' in src

    class Net(nn.Module):
        def __init__(self):
            self.head = model

    assert Net().head[2].bias.label == "head.2.bias"
    assert [n for n, _ in nn.Layer(2, 1, rng=0).named_parameters()] == ["neurons.0.w0", "neurons.0.w1", "neurons.0.b"]
    assert nn.Linear(2, 2).weight.label == "weight"


def test_shared_parameters_are_listed_once_and_sequential_slices_keep_names():
    lin = nn.Linear(2, 2, rng=0)
    seq = nn.Sequential(lin, nn.Tanh(), lin)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    tail = nn.MLP([2, 3, 3, 1], rng=0)[2:]
    assert isinstance(tail, nn.Sequential) and [n for n, _ in tail.named_parameters()] == ["2.weight", "2.bias", "4.weight", "4.bias"]
    with pytest.raises(TypeError, match="layer 1 is ufunc, not a Module"):
        nn.Sequential(nn.ReLU(), np.tanh)
    with pytest.raises(tl.ShapeError, match=r"Linear\(3, 2, bias=True\): input of shape \(4, 2\) must end in in_features=3"):
        nn.Linear(3, 2)(np.ones((4, 2)))


# ---------------------------------------------------------------- Dropout

def test_dropout_is_inverted_and_the_identity_in_eval():
    drop = nn.Dropout(0.25, rng=0)
    x = tl.Value(np.ones((200, 100)))
    out = drop(x)
    kept = out.data != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_array_equal(out.data[kept], 1 / 0.75)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)  # d out/dx is the scaled mask
    assert not np.array_equal(drop(x).data, out.data)  # a new mask every call
    assert drop.eval() is drop and drop(x) is x and not drop.training
    assert nn.Dropout(0.0)(x) is x and np.all(nn.Dropout(1.0)(x).data == 0)
    s = tl.Value(2.0)
    assert type(nn.Dropout(0.5, rng=1)(s).data) is float


def test_dropout_masks_follow_the_layer_seed_and_train_eval_reach_sub_modules():
    model = nn.Sequential(nn.Linear(4, 4, rng=0), nn.Dropout(0.5))
    x = np.ones((3, 4))
    nn.manual_seed(7)
    a = model(x).data
    nn.manual_seed(7)
    np.testing.assert_array_equal(model(x).data, a)
    assert model.eval() is model and not model[1].training
    np.testing.assert_array_equal(model(x).data, nn.Sequential(model[0])(x).data)
    assert model.train() is model and model[1].training
    for bad in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ValueError, match=r"Dropout: p is the probability .* in \[0, 1\]"):
            nn.Dropout(bad)


# ---------------------------------------------------------------- LayerNorm

def test_layernorm_gradcheck_through_input_weight_and_bias():
    ln = nn.LayerNorm((2, 3))
    rng = np.random.default_rng(0)

    def f(x, w, b):
        ln.weight, ln.bias = w, b
        return ln(x)

    assert tl.gradcheck(f, rng.standard_normal((4, 2, 3)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3)))


def test_layernorm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 6)) * 3 + 1
    ln, tln = nn.LayerNorm(6), torch.nn.LayerNorm(6, dtype=torch.float64)
    assert list(ln.state_dict()) == list(tln.state_dict()) and ln.eps == tln.eps == 1e-5
    w, b = rng.standard_normal(6), rng.standard_normal(6)
    ln.load_state_dict({"weight": w, "bias": b})
    tln.load_state_dict({"weight": torch.from_numpy(w), "bias": torch.from_numpy(b)})
    xv, tx = tl.Value(x), torch.tensor(x, requires_grad=True)
    g = rng.standard_normal((5, 6))
    out, tout = ln(xv), tln(tx)
    (out * g).sum().backward()
    (tout * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(xv.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ln.weight.grad, tln.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ln.bias.grad, tln.bias.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert nn.LayerNorm(3, elementwise_affine=False).parameters() == []
    with pytest.raises(tl.ShapeError, match=r"must end in \(6,\)"):
        ln(np.ones((2, 5)))


# ---------------------------------------------------------------- clip_grad_norm_

@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    grads = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    ps = [tl.Value(np.zeros_like(g)) for g in grads] + [tl.Value(np.zeros(2))]  # the last has no gradient
    tps = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, tp, g in zip(ps, tps, grads):
        p.grad, tp.grad = g.copy(), torch.from_numpy(g.copy())
    total = nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=norm_type)
    assert isinstance(total, float) and total == pytest.approx(float(ttotal), rel=1e-12)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-12)
    if max_norm == 100.0:  # below the limit: untouched, bit for bit
        for p, g in zip(ps, grads):
            np.testing.assert_array_equal(p.grad, g)


def test_clip_grad_norm_on_scalars_and_errors():
    a, b = tl.Value(1.0), tl.Value(2.0)
    (3 * a + 4 * b).backward()
    assert nn.clip_grad_norm_([a, b], 1.0) == pytest.approx(5.0)
    assert a.grad == pytest.approx(0.6, rel=1e-5) and type(a.grad) is float
    assert nn.clip_grad_norm_([tl.Value(1.0)], 1.0) == 0.0
    with pytest.raises(ValueError, match="max_norm must be a number ≥ 0"):
        nn.clip_grad_norm_([a], -1)
    a.grad = np.inf
    with pytest.raises(FloatingPointError, match="norm of the gradients is inf"):
        nn.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)


# ---------------------------------------------------------------- optimizer state

@pytest.mark.parametrize("make", [
    lambda ps: optim.Adam(ps, lr=0.02, weight_decay=0.01),
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.001),
], ids=["adam", "sgd"])
def test_a_resumed_optimizer_continues_bit_for_bit(make, tmp_path):
    X, y = data.make_moons(n=64, seed=0)
    batches = list(data.batches(X, y, 16, seed=1)) * 3
    straight = nn.MLP([2, 8, 2], rng=0)
    _train(straight, make(straight.parameters()), batches)

    first = nn.MLP([2, 8, 2], rng=0)
    opt = make(first.parameters())
    _train(first, opt, batches[:6])
    first.save(tmp_path / "half.npz")
    saved = opt.state_dict()
    _train(first, opt, batches[6:7])  # the saved copy does not move with the optimizer
    resumed = nn.MLP([2, 8, 2], rng=99).load(tmp_path / "half.npz")
    opt2 = make(resumed.parameters())
    opt2.lr = 1.0  # restored from the state
    opt2.load_state_dict(saved)
    _train(resumed, opt2, batches[6:])
    for (name, a), (_, b) in zip(straight.named_parameters(), resumed.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)


def test_optimizer_state_dict_layout_and_bad_states_change_nothing():
    p, s = tl.Value(np.array([1.0, 2.0])), tl.Value(3.0)
    opt = optim.Adam([p, s], lr=0.1)
    ((p * p).sum() + s * s).backward()
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"] == [{"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "params": [0, 1]}]
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"} and sd["state"][0]["step"] == 1
    assert type(sd["state"][1]["exp_avg"]) is float
    before = opt.state_dict()
    other = optim.Adam([tl.Value(1.0)], lr=0.1)
    with pytest.raises(ValueError, match="saved for 2 parameters; this optimizer has 1"):
        other.load_state_dict(sd)
    bad = {"state": {0: {**sd["state"][0], "exp_avg": np.zeros(3)}}, "param_groups": sd["param_groups"]}
    with pytest.raises(ValueError, match=r"buffer exp_avg of parameter 0 has shape \(3,\), the parameter \(2,\)"):
        opt.load_state_dict(bad)
    with pytest.raises(ValueError, match="unknown buffer 'momentum_buffer'"):
        opt.load_state_dict({"state": {0: {"momentum_buffer": np.zeros(2)}}, "param_groups": sd["param_groups"]})
    with pytest.raises(ValueError, match="'state' maps parameter indices to dicts of buffers; got 'x'"):
        opt.load_state_dict({"state": {"x": {}}, "param_groups": sd["param_groups"]})
    with pytest.raises(ValueError, match="expects the dict that SGD.state_dict.. returns"):
        optim.SGD([p], lr=0.1).load_state_dict(sd)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    np.testing.assert_array_equal(after["state"][0]["exp_avg"], before["state"][0]["exp_avg"])


def test_the_pytorch_page_runs_in_both_libraries(tmp_path, monkeypatch):
    """docs/pytorch.md: its ```py (PyTorch) blocks, skipped by the docs test, run here after its ```python block."""
    torch = pytest.importorskip("torch")
    import re
    from pathlib import Path

    page = (Path(__file__).parent.parent / "docs" / "pytorch.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(python|py)\n(.*?)```", page, re.S)
    assert [kind for kind, _ in blocks] == ["python", "py", "py", "py", "py", "py"]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: extra threads only spin, and slow the 2-core CI
    try:
        for k, (_, code) in enumerate(blocks):
            exec(compile(code, f"pytorch.md[block {k}]", "exec"), namespace)
    finally:
        torch.set_num_threads(threads)
    tl_model, torch_model = namespace["tl_model"], namespace["torch_model"]
    for (name, p), (_, tp) in zip(tl_model.named_parameters(), torch_model.named_parameters()):
        np.testing.assert_array_equal(p.data, tp.detach().numpy(), err_msg=name)  # back and forth, unchanged


@pytest.mark.parametrize("x_shape", [(3,), (5, 3), (2, 4, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_functional_linear_gradients_and_pytorch(x_shape, bias):
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal((2, 3)), rng.standard_normal(2)
    args = (x, w, b) if bias else (x, w)
    assert tl.gradcheck(lambda *vs: F.linear(*vs) ** 2, *args)
    assert tl.gradgradcheck(lambda *vs: (F.linear(*vs) ** 3).sum(), *args)
    torch = pytest.importorskip("torch")
    ts = [torch.tensor(a, requires_grad=True) for a in args]
    (torch.nn.functional.linear(*ts) ** 3).sum().backward()
    vs = [tl.Value(a) for a in args]
    (F.linear(*vs) ** 3).sum().backward()
    for v, t in zip(vs, ts):
        np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12)
