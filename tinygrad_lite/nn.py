"""Layers and models: ``Module`` with parameters and state dicts, ``Linear``, ``MLP``, scalar ``Neuron``/``Layer``."""

from __future__ import annotations

import functools
import operator
import weakref
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from .value import Value

_rng = np.random.default_rng(0)
# Values created as layer parameters (weakly held), so drawings can tell parameters from inputs.
_parameters: weakref.WeakSet[Value] = weakref.WeakSet()


def is_parameter(v: Value) -> bool:
    """True for a Value made as a parameter by a layer of this module (Linear, Neuron, …)."""
    return v in _parameters


def _param(data: Any, label: str) -> Value:
    v = Value(data, label=label)
    v.role = "parameter"
    _parameters.add(v)
    return v


def manual_seed(seed: int) -> None:
    """Seed the generator that initialises new layers (like ``torch.manual_seed``)."""
    global _rng
    _rng = np.random.default_rng(seed)


def _generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    if rng is None:
        return _rng
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class Module:
    """Base class: parameters are the Value attributes (and those of sub-modules), found in order."""

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        for name, attr in vars(self).items():
            yield from _named(f"{prefix}{name}", attr)

    def parameters(self) -> list[Value]:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any) -> Any:
        return self.forward(*args)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameter name → a copy of its data."""
        return {name: np.array(p.data) for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Any]) -> Module:
        """Copy ``state`` into the parameters; checks everything first, so a bad dict changes nothing."""
        params = dict(self.named_parameters())
        missing = [k for k in params if k not in state]
        extra = [k for k in state if k not in params]
        if missing or extra:
            raise KeyError(
                f"load_state_dict: {type(self).__name__} "
                + (f"is missing {', '.join(missing)}" if missing else "")
                + ("; " if missing and extra else "")
                + (f"has no parameter(s) {', '.join(extra)}" if extra else "")
            )
        for name, p in params.items():
            got = np.shape(state[name])
            if got != p.shape:
                raise ValueError(
                    f"load_state_dict: parameter {name} has shape {p.shape} but the state has {got}; "
                    "was it saved from another architecture?"
                )
        for name, p in params.items():
            value = np.asarray(state[name], dtype=p.dtype)
            p.data = float(value) if type(p.data) is float else value.copy()
        return self

    def save(self, path: str | Path) -> Path:
        """Write the parameters to a ``.npz`` file (plain arrays, no pickle)."""
        path = Path(path)
        with open(path, "wb") as f:
            np.savez(f, **self.state_dict())
        return path

    def load(self, path: str | Path) -> Module:
        """Read parameters saved by ``save`` into this module, in place; returns it."""
        with np.load(path, allow_pickle=False) as data:
            return self.load_state_dict({k: data[k] for k in data.files})

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _named(name: str, attr: Any) -> Iterator[tuple[str, Value]]:
    if isinstance(attr, Value):
        if attr.requires_grad:
            yield name, attr
    elif isinstance(attr, Module):
        yield from attr.named_parameters(prefix=f"{name}.")
    elif isinstance(attr, (list, tuple)):
        for i, item in enumerate(attr):
            yield from _named(f"{name}.{i}", item)


class Linear(Module):
    """y = x @ W + b, with W of shape (in_features, out_features), initialised U(±1/√in_features) as PyTorch."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 dtype: Any = np.float64, rng: np.random.Generator | int | None = None) -> None:
        self.in_features = _positive("Linear in_features", in_features)
        self.out_features = _positive("Linear out_features", out_features)
        gen = _generator(rng)
        bound = 1.0 / np.sqrt(in_features)
        self.weight = _param(gen.uniform(-bound, bound, (in_features, out_features)).astype(dtype), "W")
        self.bias = _param(gen.uniform(-bound, bound, out_features).astype(dtype), "b") if bias else None

    def forward(self, x: Any) -> Value:
        out = x @ self.weight if isinstance(x, Value) else Value(x, requires_grad=False) @ self.weight
        return out + self.bias if self.bias is not None else out

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features}, bias={self.bias is not None})"


class _Activation(Module):
    method = ""

    def forward(self, x: Value) -> Value:
        return getattr(x, self.method)()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ReLU(_Activation):
    method = "relu"


class Tanh(_Activation):
    method = "tanh"


class Sigmoid(_Activation):
    method = "sigmoid"


ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


class Sequential(Module):
    """Modules applied one after another."""

    def __init__(self, *layers: Module) -> None:
        self.layers = list(layers)

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        return "Sequential(" + ", ".join(map(repr, self.layers)) + ")"


class MLP(Sequential):
    """Linear layers of the given sizes with ``activation`` between them; the last layer is linear."""

    def __init__(self, sizes: Sequence[int], activation: str = "relu", *, dtype: Any = np.float64,
                 rng: np.random.Generator | int | None = None) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP: activation={activation!r} is not one of {', '.join(ACTIVATIONS)}")
        sizes = [_positive("MLP size", s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got {list(sizes)}")
        gen = _generator(rng)
        layers: list[Module] = []
        for k, (nin, nout) in enumerate(zip(sizes, sizes[1:])):
            layers.append(Linear(nin, nout, dtype=dtype, rng=gen))
            if k < len(sizes) - 2:
                layers.append(ACTIVATIONS[activation]())
        super().__init__(*layers)


# ---------------------------------------------------------------- scalar level, for drawing

class Neuron(Module):
    """One neuron on scalar Values: act(Σ wᵢxᵢ + b), small enough to draw edge by edge."""

    def __init__(self, nin: int, nonlin: bool = True, *, rng: np.random.Generator | int | None = None) -> None:
        gen = _generator(rng)
        nin = _positive("Neuron nin", nin)
        bound = 1.0 / np.sqrt(nin)
        self.w = [_param(float(v), f"w{i}") for i, v in enumerate(gen.uniform(-bound, bound, nin))]
        self.b = _param(float(gen.uniform(-bound, bound)), "b")
        self.nonlin = nonlin

    def forward(self, x: Sequence[Any]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"Neuron: expects {len(self.w)} inputs, got {len(x)}")
        act = functools.reduce(operator.add, (wi * xi for wi, xi in zip(self.w, x))) + self.b
        return act.relu() if self.nonlin else act


class Layer(Module):
    """``nout`` scalar neurons reading the same inputs."""

    def __init__(self, nin: int, nout: int, nonlin: bool = True, *,
                 rng: np.random.Generator | int | None = None) -> None:
        gen = _generator(rng)
        self.neurons = [Neuron(nin, nonlin, rng=gen) for _ in range(_positive("Layer nout", nout))]

    def forward(self, x: Sequence[Any]) -> list[Value]:
        return [n(x) for n in self.neurons]
