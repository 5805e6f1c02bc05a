"""Model files (issue 12, 16): versioned .npz, format-1 files converted, one clear error for a bad file, fuzzed."""

import io
import pickle
import warnings
import zipfile

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import nn


def _state(module):
    return {k: v.copy() for k, v in module.state_dict().items()}


def _same(module, state):
    now = module.state_dict()
    return now.keys() == state.keys() and all(np.array_equal(now[k], v, equal_nan=True) for k, v in state.items())


def _write_npz(path, entries, allow_pickle=False):
    with open(path, "wb") as f:
        np.savez(f, allow_pickle=allow_pickle, **entries) if allow_pickle else np.savez(f, **entries)
    return path


def _refused(module, path, match, **kw):
    """Loading ``path`` raises ModelFileError naming the path and matching ``match``; the module is unchanged."""
    before = _state(module)
    with pytest.raises(tl.ModelFileError, match=match) as info:
        module.load(path, **kw)
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and "allow_pickle" not in msg
    assert _same(module, before)
    return msg


# ---------------------------------------------------------------- format versions

def test_a_saved_file_carries_the_format_version_and_round_trips(tmp_path):
    a = nn.MLP([3, 3, 3], rng=0)  # square weights: a layout mix-up would not show in the shapes
    path = a.save(str(tmp_path / "m.npz"))
    assert path == tmp_path / "m.npz" and [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no partial file left
    with np.load(path) as f:
        assert f["__format_version__"] == 2
    b = nn.MLP([3, 3, 3], rng=1)
    assert b.load(path) is b and _same(b, a.state_dict())


def test_file_objects_fortran_order_data_and_appended_layers_round_trip(tmp_path):
    a = nn.Sequential(nn.Linear(3, 2, rng=0)).append(nn.Tanh()).append(nn.Linear(2, 4, rng=1))
    assert [n for n, _ in a.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    a[2].weight.data = np.asfortranarray(a[2].weight.data)
    b = nn.Sequential(nn.Linear(3, 2, rng=2), nn.Tanh(), nn.Linear(2, 4, rng=3)).load(a.save(tmp_path / "f.npz"))
    assert _same(b, a.state_dict()) and b[2].weight.data.flags.c_contiguous and b[2].weight.data.flags.writeable
    buf = io.BytesIO()
    assert a.save(buf) is buf and _same(nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 4)).load(io.BytesIO(buf.getvalue())),
                                        a.state_dict())
    with open(tmp_path / "f.npz", "rb") as f:
        with pytest.raises(tl.ModelFileError, match=f"^{tmp_path / 'f.npz'}: parameter 0.weight has shape"):
            nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 4)).load(f)


def _format1(module):
    """What the code before format 2 wrote for ``module``: Linear weights (in, out), Sequential layers in 'layers'."""
    out = {}
    for name, v in module.state_dict().items():
        from tinygrad_lite.serialization import _format1_name

        legacy, transposed = _format1_name(module, name)
        out[legacy] = v.T if transposed else v
    return out


def test_format1_files_are_converted_by_version_even_with_square_weights(tmp_path):
    old = {"layers.0.weight": np.arange(9.0).reshape(3, 3), "layers.0.bias": np.zeros(3),
           "layers.2.weight": np.arange(9.0, 18.0).reshape(3, 3), "layers.2.bias": np.ones(3)}
    path = _write_npz(tmp_path / "old.npz", old)
    with pytest.warns(UserWarning, match="read as format 1"):  # names only format 1 has
        model = nn.MLP([3, 3, 3], rng=0).load(path)
    np.testing.assert_array_equal(model[0].weight.data, old["layers.0.weight"].T)
    x = np.array([[1.0, -2.0, 0.5]])
    expected = np.maximum(x @ old["layers.0.weight"] + old["layers.0.bias"], 0) @ old["layers.2.weight"] + old["layers.2.bias"]
    np.testing.assert_allclose(model(x).data, expected, rtol=1e-15)
    assert model[0].weight.data.flags.c_contiguous
    for module in (nn.Linear(2, 2, rng=0), nn.Layer(2, 2, rng=0), nn.Neuron(3, rng=0)):
        saved = _state(module)
        _write_npz(tmp_path / "old1.npz", _format1(module))
        for p in module.parameters():
            p.data = p.data * 0 if not isinstance(p.data, float) else 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "read as format 1 … transposed": tested above
            assert _same(module.load(tmp_path / "old1.npz"), saved)
    assert set(_format1(nn.Layer(2, 1))) == {"neurons.0.w.0", "neurons.0.w.1", "neurons.0.b"}


def test_a_newer_or_broken_format_version_is_refused(tmp_path):
    m = nn.Linear(2, 2, rng=0)
    state = m.state_dict()
    _refused(m, _write_npz(tmp_path / "new.npz", {**state, "__format_version__": np.array(3)}),
             "model-file format 3, newer than this tinygrad_lite reads .up to 2.; upgrade")
    _refused(m, _write_npz(tmp_path / "v.npz", {**state, "__format_version__": np.array([2, 2])}),
             "__format_version__ entry is not one integer")
    _refused(m, _write_npz(tmp_path / "v0.npz", {**state, "__format_version__": np.array(0)}),
             "damaged: its format version is 0")


# ---------------------------------------------------------------- one clear error per problem

def test_files_that_are_not_model_files(tmp_path):
    m = nn.MLP([2, 4, 2], rng=0)
    text = tmp_path / "notes.npz"
    text.write_text("these are my notes, 70 bytes of text, not a model at all.............\n")
    assert "it looks like text" in _refused(m, text, "not a model file: it does not start like a .npz archive")
    (tmp_path / "empty.npz").write_bytes(b"")
    _refused(m, tmp_path / "empty.npz", "not a model file: it is empty")
    np.save(tmp_path / "one.npy", np.zeros(3))
    _refused(m, tmp_path / "one.npy", r"single NumPy array \(.npy\)")
    (tmp_path / "p.pkl").write_bytes(pickle.dumps(m.state_dict()))
    _refused(m, tmp_path / "p.pkl", "looks like a Python pickle, which tinygrad_lite never loads")
    with zipfile.ZipFile(tmp_path / "torch.pt", "w") as zf:  # the layout of torch.save
        zf.writestr("archive/data.pkl", pickle.dumps({}))
        zf.writestr("archive/version", "3")
    _refused(m, tmp_path / "torch.pt", "holds pickled data .e.g. a PyTorch checkpoint")
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as zf:
        zf.writestr("readme.txt", "hi")
    _refused(m, tmp_path / "z.zip", "entry 'readme.txt' is not a NumPy array")
    with pytest.raises(FileNotFoundError):
        m.load(tmp_path / "absent.npz")


def test_truncated_and_damaged_files(tmp_path):
    m = nn.MLP([2, 4, 2], rng=0)
    blob = nn.MLP([2, 4, 2], rng=1).save(tmp_path / "good.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(blob[: len(blob) // 2])
    _refused(m, tmp_path / "cut.npz", "truncated or damaged: .* was it cut off while saving or copying")
    flipped = bytearray(blob)
    flipped[blob.index(b"\x93NUMPY", 200) + 100] ^= 1  # inside an entry's data: its CRC no longer matches
    (tmp_path / "flip.npz").write_bytes(bytes(flipped))
    _refused(m, tmp_path / "flip.npz", "damaged: reading entry .* failed .BadZipFile: Bad CRC-32")


def test_object_string_complex_and_structured_entries(tmp_path):
    m = nn.MLP([2, 4, 2], rng=0)
    s = {**m.state_dict(), "__format_version__": np.array(2)}
    obj = _write_npz(tmp_path / "o.npz", {**s, "0.bias": s["0.bias"].astype(object)}, allow_pickle=True)
    msg = _refused(m, obj, "parameter 0.bias holds Python objects .object., which only pickle can load")
    assert "pickle" in msg and "allow_pickle" not in msg
    _refused(m, _write_npz(tmp_path / "c.npz", {**s, "2.weight": s["2.weight"] + 0j}),
             r"parameter 2.weight is complex \(complex128\); parameters are real")
    _refused(m, _write_npz(tmp_path / "u.npz", {**s, "2.bias": np.array(["a", "b"])}),
             r"parameter 2.bias holds text \(<U1\), not numbers")
    rec = np.zeros(2, dtype=[("a", "f8")])
    _refused(m, _write_npz(tmp_path / "r.npz", {**s, "2.bias": rec}), "parameter 2.bias has dtype .* not real numbers")
    _refused(m, _write_npz(tmp_path / "t.npz", {**s, "2.bias": np.zeros(2, "M8[s]")}), "not real numbers")


def test_missing_extra_and_wrong_shape_entries(tmp_path):
    m = nn.MLP([2, 4, 2], rng=0)
    s = {**m.state_dict(), "__format_version__": np.array(2)}
    del s["2.bias"]
    msg = _refused(m, _write_npz(tmp_path / "a.npz", {**s, "3.weight": np.zeros(2)}),
                   "the file has no entry for parameter.s. 2.bias; the file has entries for no parameter of this MLP: 3.weight")
    assert "this MLP has 0.weight, 0.bias, 2.weight, 2.bias" in msg
    s["2.bias"] = np.zeros(3)
    _refused(m, _write_npz(tmp_path / "b.npz", s),
             r"parameter 2.bias has shape \(3,\) in the file but \(2,\) in this MLP; was it saved from another architecture")


def test_nonfinite_values_are_refused_unless_allowed_and_integers_are_converted(tmp_path):
    m = nn.MLP([2, 4, 2], rng=0, dtype=np.float32)
    s = {**m.state_dict(), "__format_version__": np.array(2)}
    bad = s["0.weight"].copy()
    bad[1, 0], bad[3, 1] = np.nan, -np.inf
    path = _write_npz(tmp_path / "nan.npz", {**s, "0.weight": bad})
    _refused(m, path, r"parameter 0.weight has 2 value.s. that are NaN or ±inf as float32 \(the first at index \(1, 0\)\); "
                      "pass allow_nonfinite=True to load them anyway")
    m.load(path, allow_nonfinite=True)
    assert np.isnan(m[0].weight.data[1, 0]) and m[0].weight.dtype == np.float32
    _refused(m, _write_npz(tmp_path / "big.npz", {**s, "0.bias": np.full(4, 1e300)}),
             "4 value.s. that are NaN or ±inf as float32")  # finite in float64, inf once cast
    m.load(_write_npz(tmp_path / "int.npz", {**s, "0.bias": np.arange(4, dtype=np.int16), "2.bias": np.array([True, False])}))
    assert m[0].bias.dtype == np.float32 and m[0].bias.data.tolist() == [0, 1, 2, 3] and m[2].bias.data.tolist() == [1, 0]


# ---------------------------------------------------------------- fuzz: never a stray exception, never half loaded

def _fuzz_load(module, before, good, blob):
    """Loading ``blob`` either refuses with ModelFileError and changes nothing, or loads exactly ``good``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a flipped bit may drop the version entry: format 1
            module.load(io.BytesIO(blob))  # in memory: writing thousands of files would take most of the time
    except tl.ModelFileError as e:
        assert str(e).startswith("<BytesIO>: ") and "allow_pickle" not in str(e)
        assert _same(module, before), "a failed load changed the module"
        return False
    assert _same(module, good), "a load succeeded with other values than were saved"
    module.load_state_dict(before)
    return True


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    source = nn.Sequential(nn.Linear(3, 3, rng=1), nn.Tanh(), nn.Linear(3, 2, rng=2))
    blob = source.save(d / "src.npz").read_bytes()
    target = nn.Sequential(nn.Linear(3, 3, rng=5), nn.Tanh(), nn.Linear(3, 2, rng=6))
    return blob, source.state_dict(), target, _state(target)


def test_fuzz_every_truncation_length(saved):
    blob, good, target, before = saved
    loaded = [n for n in range(len(blob)) if _fuzz_load(target, before, good, blob[:n])]
    assert loaded == []


def test_fuzz_bit_flips(saved):
    blob, good, target, before = saved
    rng = np.random.default_rng(12)
    # Every bit of the zip directory at the end (names, sizes, offsets), one bit of 1,000 other bytes.
    tail = len(blob) - 400
    positions = sorted(set(range(tail, len(blob))) | set(rng.integers(0, tail, 1000).tolist()))
    refused = 0
    for pos in positions:
        for bit in range(8) if pos >= tail else (int(rng.integers(0, 8)),):
            flipped = bytearray(blob)
            flipped[pos] ^= 1 << bit
            refused += not _fuzz_load(target, before, good, bytes(flipped))
    assert refused > len(positions) // 2  # most flips are caught (CRCs, names, sizes); the rest change nothing


def test_fuzz_random_bytes(saved):
    blob, good, target, before = saved
    rng = np.random.default_rng(3)
    for k in range(1000):
        n = int(rng.integers(0, 3000))
        junk = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        if k % 3 == 0:
            junk = b"PK\x03\x04" + junk  # get past the magic-number check
        elif k % 3 == 1:  # a real archive with random bytes spliced in
            at = int(rng.integers(0, len(blob)))
            junk = blob[:at] + junk[:50] + blob[at + 50:]
        assert not _fuzz_load(target, before, good, junk)


def test_a_huge_declared_shape_is_refused_before_any_data_is_read(tmp_path):
    m = nn.Linear(2, 2, rng=0)
    huge = io.BytesIO()
    np.lib.format.write_array_header_1_0(huge, {"descr": "<f8", "fortran_order": False, "shape": (10**11,)})
    with zipfile.ZipFile(tmp_path / "h.npz", "w") as zf:
        zf.writestr("__format_version__.npy", _npy(np.array(2)))
        zf.writestr("weight.npy", _npy(np.zeros((2, 2))))
        zf.writestr("bias.npy", huge.getvalue() + bytes(16))
    _refused(m, tmp_path / "h.npz", r"parameter bias has shape \(100000000000,\) in the file but \(2,\)")


def _npy(arr):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr)
    return buf.getvalue()


def test_a_file_without_version_whose_names_only_fit_format2_is_read_as_format2(tmp_path):
    m = nn.MLP([2, 4, 2], rng=0)
    path = _write_npz(tmp_path / "noversion.npz", m.state_dict())  # np.savez(**state_dict()): no version entry
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no format-1 conversion, so no warning
        loaded = nn.MLP([2, 4, 2], rng=1).load(path)
    assert _same(loaded, _state(m))
    lin = nn.Linear(3, 3, rng=0)  # names fit both formats: format 1 decides, and says it transposed
    _write_npz(tmp_path / "lin.npz", lin.state_dict())
    with pytest.warns(UserWarning, match="read as format 1.*transposed.*Module.save"):
        nn.Linear(3, 3, rng=1).load(tmp_path / "lin.npz")
    m.save(tmp_path / "v2.npz")  # a dict read back with np.load carries the version entry
    with np.load(tmp_path / "v2.npz") as f:
        assert _same(nn.MLP([2, 4, 2], rng=1).load_state_dict(f), _state(m))
