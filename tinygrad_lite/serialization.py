"""Model files: a module's parameters as a versioned ``.npz`` of plain arrays (never pickle).

Everything is checked before anything is copied, so a bad file or state dict
raises one clear error and leaves the module as it was.

Format 2 (written now) has an entry ``__format_version__`` = 2 and PyTorch's
names and layouts.  A file without that entry is format 1, from before Linear
weights became ``(out_features, in_features)``: on load its Linear weights are
transposed and its ``Sequential`` entries renamed (``layers.0.weight`` →
``0.weight``).  The version decides, never the shape, so square weights are
converted too.
"""

from __future__ import annotations

import lzma
import math
import os
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Mapping

import numpy as np

from ._state import user_stacklevel
from .errors import ModelFileError
from .value import Value

if TYPE_CHECKING:
    from .nn import Module

FORMAT_KEY = "__format_version__"
FORMAT_VERSION = 2

# What zipfile and numpy's .npy reader raise on bytes that are not what they should be.
_DAMAGE = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, lzma.LZMAError, EOFError, OSError,
           ValueError, NotImplementedError, RuntimeError, struct.error, KeyError, IndexError,
           OverflowError, UnicodeDecodeError, MemoryError)


class _Refused(Exception):
    """What is wrong, in words; the caller says where (a path, or load_state_dict)."""


@dataclass
class _Slot:
    """Where one stored entry goes: a parameter, stored transposed in a format-1 file or not."""

    name: str
    param: Value
    transposed: bool

    @property
    def stored_shape(self) -> tuple[int, ...]:
        return self.param.shape[::-1] if self.transposed else self.param.shape


# ------------------------------------------------------------------ writing

def save(module: Module, path: str | Path | BinaryIO) -> Path | BinaryIO:
    """Write ``module.state_dict()`` and the format version to ``path`` (or a binary file object)."""
    entries = {FORMAT_KEY: np.array(FORMAT_VERSION, dtype=np.int64), **module.state_dict()}
    if hasattr(path, "write"):
        _write(path, entries)
        return path
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with open(partial, "wb") as f:
            _write(f, entries)
        os.replace(partial, path)  # a crash while saving leaves an earlier file whole
    finally:
        partial.unlink(missing_ok=True)
    return path


def _write(f: BinaryIO, entries: dict[str, np.ndarray]) -> None:
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:  # the layout np.savez writes
        for key, arr in entries.items():
            with zf.open(f"{key}.npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asarray(arr), allow_pickle=False)


# ------------------------------------------------------------------ reading

def load(module: Module, path: str | Path | BinaryIO, *, allow_nonfinite: bool = False) -> Module:
    """Check the model file at ``path`` (or a binary file object) in full, then copy it into ``module``."""
    try:
        if hasattr(path, "read"):
            where = getattr(path, "name", None) or f"<{type(path).__name__}>"
            values = _read_file(module, path, allow_nonfinite)
        else:
            where = path = Path(path)
            with open(path, "rb") as f:  # a missing file is the usual FileNotFoundError, which names the path
                values = _read_file(module, f, allow_nonfinite)
    except _Refused as e:
        raise ModelFileError(f"{where}: {e}") from None
    _assign(values)
    return module


def load_state(module: Module, state: Mapping[str, Any], *, allow_nonfinite: bool = False) -> Module:
    """``Module.load_state_dict``: the same checks as a file gets, as ValueError."""
    try:
        if not isinstance(state, Mapping):
            raise _Refused(f"expects a dict of name → array such as model.state_dict(), got {type(state).__name__}")
        slots = _slots(module, FORMAT_VERSION)
        if FORMAT_KEY in state:  # a dict read back from a model file (np.load): its version, not a parameter
            if _as_array(FORMAT_KEY, state[FORMAT_KEY]).tolist() != FORMAT_VERSION:
                raise _Refused(f"the state dict is of model-file format {state[FORMAT_KEY]}; use Module.load(path)")
            state = {k: v for k, v in state.items() if k != FORMAT_KEY}
        _check_names(module, slots, list(state), "the state dict")
        values = []
        for key, slot in slots.items():
            arr = _as_array(key, state[key])
            _check_entry(module, key, slot, arr.dtype, arr.shape, "the state dict")
            values.append(_converted(key, slot, arr, allow_nonfinite))
    except _Refused as e:
        raise ValueError(f"load_state_dict: {e}") from None
    _assign(values)
    return module


def _assign(values: list[tuple[Value, Any]]) -> None:
    for p, v in values:
        p.data = v


def _read_file(module: Module, f: BinaryIO, allow_nonfinite: bool) -> list[tuple[Value, Any]]:
    start = f.tell()
    head = f.read(8)
    size = f.seek(0, os.SEEK_END) - start
    f.seek(start)
    if not head:
        raise _Refused("not a model file: it is empty (0 bytes)")
    if head.startswith(b"\x93NUMPY"):
        raise _Refused("not a model file: it is a single NumPy array (.npy); Module.save writes a .npz of every parameter")
    if not head.startswith(b"PK"):
        raise _Refused(f"not a model file: it does not start like a .npz archive{_looks_like(head)}")
    try:
        zf = zipfile.ZipFile(f)
    except _DAMAGE as e:
        raise _Refused(
            f"truncated or damaged: {size} bytes and no readable zip directory at the end ({e}); "
            "was it cut off while saving or copying?"
        ) from None
    with zf:
        return _read_archive(module, zf, allow_nonfinite)


def _looks_like(head: bytes) -> str:
    if head[:1] == b"\x80":
        return " (it looks like a Python pickle, which tinygrad_lite never loads: unpickling can run any code)"
    if all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        return " (it looks like text)"
    return ""


def _read_archive(module: Module, zf: zipfile.ZipFile, allow_nonfinite: bool) -> list[tuple[Value, Any]]:
    try:
        infos = zf.infolist()
    except _DAMAGE as e:
        raise _Refused(f"damaged: its zip directory cannot be read ({e})") from None
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise _Refused("damaged: an entry appears twice in its zip directory")
    if any(n.endswith(".pkl") for n in names):
        raise _Refused(
            "not a model file: it holds pickled data (e.g. a PyTorch checkpoint from torch.save); "
            "tinygrad_lite never unpickles files. Load it in PyTorch and pass "
            "{k: v.numpy() for k, v in torch_model.state_dict().items()} to load_state_dict"
        )
    other = [n for n in names if not n.endswith(".npy")]
    if other:
        raise _Refused(f"not a model file: entry {other[0]!r} is not a NumPy array")
    entries = {n[: -len(".npy")]: info for n, info in zip(names, infos)}
    version_entry = entries.pop(FORMAT_KEY, None)
    version = _unversioned(module, list(entries)) if version_entry is None else _read_version(zf, version_entry)
    slots = _slots(module, version)
    hint = f" (it has no {FORMAT_KEY} entry, so it was read as format 1, whose names differ)" if version == 1 else ""
    _check_names(module, slots, list(entries), "the file", hint)
    values = []
    for key, slot in slots.items():
        def check(dtype: np.dtype, shape: tuple[int, ...], key: str = key, slot: _Slot = slot) -> None:
            _check_entry(module, key, slot, dtype, shape, "the file")
        arr = _read_npy(zf, entries[key], key, check)
        values.append(_converted(key, slot, arr, allow_nonfinite))
    return values


def _unversioned(module: Module, names: list[str]) -> int:
    """The format of a file with no version entry: 1 (tinygrad_lite 0.1's ``save``), unless only format
    2's names fit it (``np.savez(path, **model.state_dict())``).  Reading format 1 transposes Linear
    weights, which a square weight cannot show: so it says so."""
    if set(names) != set(_slots(module, 1)) and set(names) == set(_slots(module, FORMAT_VERSION)):
        return FORMAT_VERSION
    if any(slot.transposed for slot in _slots(module, 1).values()):
        warnings.warn(
            f"load: the model file has no {FORMAT_KEY} entry, so it was read as format 1 (tinygrad_lite 0.1, "
            "Linear weights stored (in, out)) and its Linear weights were transposed; save it again with "
            "Module.save to write format 2, or add the entry if it already holds (out, in) weights",
            UserWarning, stacklevel=user_stacklevel())
    return 1


def _read_version(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    def check(dtype: np.dtype, shape: tuple[int, ...]) -> None:
        if dtype.kind not in "iu" or shape != ():
            raise _Refused(f"damaged: its {FORMAT_KEY} entry is not one integer")
    return int(_read_npy(zf, info, FORMAT_KEY, check)[()])


def _read_npy(zf: zipfile.ZipFile, info: zipfile.ZipInfo, key: str,
              check: Callable[[np.dtype, tuple[int, ...]], None]) -> np.ndarray:
    """One ``.npy`` entry; ``check`` sees its dtype and shape before any data is read."""
    try:
        with zf.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise _Refused(f"damaged: entry {key} is a .npy of version {version}, which model files never use")
            check(dtype, shape)
            nbytes = math.prod(shape) * dtype.itemsize
            data = f.read(nbytes)
            if len(data) < nbytes:
                raise _Refused(f"truncated: entry {key} ends after {len(data)} of its {nbytes} bytes")
            if f.read(1):  # also where zipfile checks the entry's CRC
                raise _Refused(f"damaged: entry {key} is longer than its header says")
    except _DAMAGE as e:
        raise _Refused(f"damaged: reading entry {key} failed ({type(e).__name__}: {e})") from None
    return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran else "C")


# ------------------------------------------------------------------ checks shared by files and dicts

def _slots(module: Module, version: int) -> dict[str, _Slot]:
    """Stored name → where it goes, for a file of ``version``."""
    params = list(module.named_parameters())
    if version == FORMAT_VERSION:
        return {name: _Slot(name, p, False) for name, p in params}
    if version == 1:
        slots = {}
        for name, p in params:
            try:
                legacy, transposed = _format1_name(module, name)
            except (AttributeError, LookupError, TypeError, ValueError):  # a structure format 1 never wrote
                legacy, transposed = name, False
            slots[legacy] = _Slot(name, p, transposed)
        return slots
    if version > FORMAT_VERSION:
        raise _Refused(f"written in model-file format {version}, newer than this tinygrad_lite reads "
                       f"(up to {FORMAT_VERSION}); upgrade tinygrad_lite to load it")
    raise _Refused(f"damaged: its format version is {version}")


def _format1_name(module: Module, name: str) -> tuple[str, bool]:
    """A parameter's name in a format-1 file, and whether it was stored transposed (a Linear weight)."""
    from .nn import Linear, Module, Neuron, Sequential

    obj: Any = module
    parts, out = name.split("."), []
    for part in parts[:-1]:
        if isinstance(obj, Sequential):  # format 1 kept a Sequential's layers in a list named "layers"
            keys = [k for k, m in vars(obj).items() if isinstance(m, Module)]
            out += ["layers", str(keys.index(part))]
            obj = getattr(obj, part)
        else:
            obj = obj[int(part)] if isinstance(obj, (list, tuple)) else getattr(obj, part)
            out.append(part)
    last = parts[-1]
    if isinstance(obj, Neuron) and last != "b":  # w0 was w.0
        last = f"w.{last[1:]}"
    return ".".join(out + [last]), isinstance(obj, Linear) and last == "weight"


def _listed(names: list[Any], limit: int = 6) -> str:
    return ", ".join(map(str, names[:limit])) + (f", … ({len(names)} in all)" if len(names) > limit else "")


def _check_names(module: Module, slots: dict[str, _Slot], keys: list[str], where: str, hint: str = "") -> None:
    missing = [k for k in slots if k not in keys]
    extra = [k for k in keys if k not in slots]
    if not missing and not extra:
        return
    kind = type(module).__name__
    problems = []
    if missing:
        problems.append(f"{where} has no entry for parameter(s) {_listed(missing)}{hint}")
    if extra:
        problems.append(f"{where} has entries for no parameter of this {kind}: {_listed(extra)}")
    raise _Refused("; ".join(problems) + f" (this {kind} has {_listed(list(slots)) or 'no parameters'}); "
                   "was it saved from another architecture?")


def _as_array(key: str, value: Any) -> np.ndarray:
    if isinstance(value, Value):
        value = value.data
    try:
        return np.asarray(value)
    except (TypeError, ValueError, RuntimeError) as e:
        raise _Refused(f"entry {key} is a {type(value).__name__}, not an array ({e})") from None


def _check_entry(module: Module, key: str, slot: _Slot, dtype: np.dtype, shape: tuple[int, ...], where: str) -> None:
    """Refuse an entry whose dtype is not real numbers or whose shape does not fit the parameter."""
    if dtype.hasobject:
        raise _Refused(f"parameter {key} holds Python objects ({dtype}), which only pickle can load; "
                       "a model file holds plain numbers")
    if dtype.kind == "c":
        raise _Refused(f"parameter {key} is complex ({dtype}); parameters are real, and dropping the "
                       "imaginary part would lose data silently")
    if dtype.kind in "US":
        raise _Refused(f"parameter {key} holds text ({dtype}), not numbers")
    if dtype.kind not in "biuf" or dtype.shape:
        raise _Refused(f"parameter {key} has dtype {dtype}, not real numbers")
    if tuple(shape) != slot.stored_shape:
        raise _Refused(f"parameter {key} has shape {tuple(shape)} in {where} but {slot.stored_shape} in this "
                       f"{type(module).__name__}; was it saved from another architecture?")


def _converted(key: str, slot: _Slot, arr: np.ndarray, allow_nonfinite: bool) -> tuple[Value, Any]:
    """The entry as the parameter's new data: its dtype, its layout, and finite unless allowed."""
    p = slot.param
    with np.errstate(all="ignore"):  # an overflow to inf in the cast is refused just below
        value = np.array(arr.T if slot.transposed else arr, dtype=p.dtype, order="C")
    if not allow_nonfinite:
        bad = ~np.isfinite(value)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise _Refused(f"parameter {key} has {int(bad.sum())} value(s) that are NaN or ±inf as {p.dtype} "
                           f"(the first at index {first}); pass allow_nonfinite=True to load them anyway")
    return p, (float(value) if type(p.data) is float else value)
