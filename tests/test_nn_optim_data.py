"""nn, optim and data (SPEC §6)."""

import numpy as np
import pytest

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tinygrad_lite import data, nn, optim


def test_shapes_and_parameter_counts():
    mlp = nn.MLP([2, 16, 16, 3], rng=0)
    assert len(mlp.parameters()) == 6
    assert sum(p.size for p in mlp.parameters()) == 2 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3
    assert [n for n, _ in mlp.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert mlp[0].weight.shape == (16, 2) and mlp[4].weight.shape == (3, 16)
    assert isinstance(mlp.layers[1], nn.ReLU) and isinstance(mlp.layers[-1], nn.Linear)
    assert mlp(tl.Value(np.ones((5, 2)))).shape == (5, 3)
    assert nn.Linear(4, 2, bias=False).bias is None and len(nn.Linear(4, 2, bias=False).parameters()) == 1
    assert nn.MLP([2, 3], activation="tanh")(np.ones((1, 2))).shape == (1, 3)


def test_linear_init_is_pytorch_uniform_and_seeded():
    lin = nn.Linear(100, 50, rng=1)
    bound = 1 / np.sqrt(100)
    assert np.abs(lin.weight.data).max() <= bound and np.abs(lin.weight.data).max() > 0.9 * bound
    np.testing.assert_array_equal(nn.Linear(3, 2, rng=5).weight.data, nn.Linear(3, 2, rng=5).weight.data)
    assert nn.Linear(3, 2, dtype=np.float32).weight.dtype == np.float32


def test_scalar_neuron_and_layer():
    neuron = nn.Neuron(3, rng=0)
    out = neuron([1.0, 2.0, 3.0])
    expected = max(0.0, sum(w.data * x for w, x in zip(neuron.w, [1, 2, 3])) + neuron.b.data)
    assert out.item() == pytest.approx(expected)
    out.backward()
    assert len(nn.Layer(3, 4, rng=0)([1.0, 2.0, 3.0])) == 4 and len(nn.Layer(3, 4).parameters()) == 16
    with pytest.raises(ValueError, match="expects 3 inputs, got 2"):
        neuron([1.0, 2.0])


def test_save_load_round_trip_without_pickle(tmp_path):
    a, b = nn.MLP([2, 8, 2], rng=0), nn.MLP([2, 8, 2], rng=1)
    path = a.save(tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as f:
        assert set(f.files) == set(a.state_dict()) | {"__format_version__"} and int(f["__format_version__"]) == 2
    assert b.load(path) is b
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
    scalar = nn.Neuron(2, rng=0)
    scalar.load_state_dict(nn.Neuron(2, rng=3).state_dict())
    assert type(scalar.w[0].data) is float


def test_bad_state_dicts_name_the_parameter_and_change_nothing():
    m = nn.MLP([2, 8, 2], rng=0)
    before = m.state_dict()
    bad = nn.MLP([2, 4, 2], rng=0).state_dict()
    with pytest.raises(ValueError, match=r"parameter 0.weight has shape \(4, 2\) in the state dict but \(8, 2\)"):
        m.load_state_dict(bad)
    with pytest.raises(ValueError, match="no entry for parameter.s. 2.bias"):
        m.load_state_dict({k: v for k, v in before.items() if k != "2.bias"})
    with pytest.raises(ValueError, match="no parameter of this MLP: extra"):
        m.load_state_dict({**before, "extra": np.zeros(2)})
    with pytest.raises(ValueError, match="entries for no parameter of this MLP: 0, None"):
        m.load_state_dict({**before, 0: np.zeros(2), None: 1})
    with pytest.raises(ValueError, match="expects a dict of name → array"):
        m.load_state_dict(list(before.values()))
    with pytest.raises(ValueError, match="0.bias is complex"):
        m.load_state_dict({**before, "0.bias": before["0.bias"] + 1j})
    with pytest.raises(ValueError, match="2.bias has 1 value.s. that are NaN or ±inf.*allow_nonfinite=True"):
        m.load_state_dict({**before, "2.bias": np.array([0.0, np.nan])})
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    m.load_state_dict({**before, "2.bias": np.array([0.0, np.inf])}, allow_nonfinite=True)
    assert m[2].bias.data[1] == np.inf
    m.load_state_dict({**before, "2.bias": np.array([3, 4])})  # integers: converted to the parameter's dtype
    assert m[2].bias.dtype == np.float64 and m[2].bias.data.tolist() == [3.0, 4.0]
    with pytest.raises(ValueError, match="positive integer"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="activation='nope'"):
        nn.MLP([2, 2], activation="nope")


def test_sgd_matches_closed_form_with_momentum_and_weight_decay():
    p = tl.Value(np.array([1.0, -2.0]))
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    x, buf = p.data.copy(), None
    for _ in range(3):
        opt.zero_grad()
        (p * p).sum().backward()
        g = 2 * x + 0.01 * x
        buf = g if buf is None else 0.9 * buf + g
        x = x - 0.1 * buf
        opt.step()
        np.testing.assert_allclose(p.data, x, rtol=1e-15)


def test_adam_matches_closed_form_with_bias_correction():
    p, s = tl.Value(np.array([0.5, -1.5])), tl.Value(2.0)
    opt = optim.Adam([p, s], lr=0.01)
    x, xs = p.data.copy(), 2.0
    m, v, ms, vs = 0, 0, 0.0, 0.0
    for t in range(1, 6):
        opt.zero_grad()
        ((p**3).sum() + s * s).backward()
        g, gs = 3 * x**2, 2 * xs
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        ms, vs = 0.9 * ms + 0.1 * gs, 0.999 * vs + 0.001 * gs * gs
        x = x - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        xs = xs - 0.01 * (ms / (1 - 0.9**t)) / (np.sqrt(vs / (1 - 0.999**t)) + 1e-8)
        opt.step()
    np.testing.assert_allclose(p.data, x, rtol=1e-12)
    assert s.data == pytest.approx(xs, rel=1e-12) and type(s.data) is float


def test_optimizers_match_torch_when_installed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 2))
    for make_tl, make_torch in [
        (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1)),
        (lambda ps: optim.Adam(ps, lr=0.05), lambda ps: torch.optim.Adam(ps, lr=0.05)),
    ]:
        p, tp = tl.Value(w0.copy()), torch.tensor(w0.copy(), requires_grad=True)
        o, to = make_tl([p]), make_torch([tp])
        for _ in range(5):
            o.zero_grad(), to.zero_grad()
            (p.tanh() * p).sum().backward()
            (torch.tanh(tp) * tp).sum().backward()
            o.step(), to.step()
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-12)


def test_optimizer_errors():
    with pytest.raises(ValueError, match="no parameters"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="lr must be positive"):
        optim.Adam([tl.Value(1.0)], lr=0)


@pytest.mark.parametrize("make", [data.make_moons, data.make_spirals, data.make_blobs])
def test_datasets_are_seeded_numpy_arrays(make):
    X, y = make(n=90, seed=3)
    X2, y2 = make(n=90, seed=3)
    assert X.shape == (90, 2) and y.shape == (90,) and y.dtype == np.int64 and X.dtype == np.float64
    np.testing.assert_array_equal(X, X2)
    assert not np.array_equal(X, make(n=90, seed=4)[0])
    with pytest.raises(ValueError, match="positive integer"):
        make(n=-1)


def test_batches_cover_everything_and_keep_the_last_partial_batch():
    X, y = np.arange(10.0)[:, None], np.arange(10)
    got = list(data.batches(X, y, 4, shuffle=True, seed=1))
    assert [len(b[1]) for b in got] == [4, 4, 2]
    assert sorted(np.concatenate([b[1] for b in got]).tolist()) == list(range(10))
    assert [b[1].tolist() for b in data.batches(X, y, 4, shuffle=False)][0] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        list(data.batches(X, y[:9], 2))


def test_mlp_reaches_97_percent_on_moons_within_100_steps():
    X, y = data.make_moons(n=200, noise=0.1, seed=0)
    model = nn.MLP([2, 16, 16, 2], rng=0)
    opt = optim.Adam(model.parameters(), lr=0.05)
    for _ in range(100):
        opt.zero_grad()
        F.cross_entropy(model(X), y, fused=True).backward()
        opt.step()
    with tl.no_grad():
        acc = (model(X).data.argmax(1) == y).mean()
    assert acc >= 0.97
