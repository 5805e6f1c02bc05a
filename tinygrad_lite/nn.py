"""Layers and models: ``Module`` with PyTorch's state dicts, ``Linear``, ``MLP``, ``Dropout``, ``LayerNorm``, scalar ``Neuron``/``Layer``."""

from __future__ import annotations

import functools
import numbers
import operator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, BinaryIO, Iterable, Iterator, Mapping, Sequence

import numpy as np

from . import functional as F
from . import hooks, serialization
from ._weak import WeakIdSet
from .creation import generator
from .creation import manual_seed as manual_seed  # one generator for tl.randn and layer init
from .errors import ShapeError
from .value import Value

# Values created as layer parameters (weakly held), so drawings can tell parameters from inputs.
_parameters = WeakIdSet()


def is_parameter(v: Value) -> bool:
    """True for a Value made as a parameter by a layer of this module (Linear, Neuron, …)."""
    return v in _parameters


def _param(data: Any, label: str) -> Value:
    v = Value(data, label=label)
    v.role = "parameter"
    _parameters.add(v)
    return v


def _generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    if rng is None:
        return generator()
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class Module:
    """Base class: parameters are the Value attributes (and those of sub-modules), found in order.

    Assigning a parameter or a sub-module as an attribute labels the parameters with
    their ``named_parameters()`` names, so drawings of the graph show ``0.weight``, ``fc1.bias``, ….
    """

    training = True  # train()/eval() set it on every sub-module

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        _label(name, value)

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """(name, parameter) pairs with PyTorch's names (``0.weight``, ``fc1.bias``); a shared one once."""
        seen: set[int] = set()
        for name, attr in vars(self).items():
            for full, p in _named(f"{prefix}{name}", attr):
                if id(p) not in seen:
                    seen.add(id(p))
                    yield full, p

    def parameters(self) -> list[Value]:
        return [p for _, p in self.named_parameters()]

    def children(self) -> Iterator[Module]:
        for attr in vars(self).values():
            if isinstance(attr, Module):
                yield attr
            elif isinstance(attr, (list, tuple)):
                yield from (a for a in attr if isinstance(a, Module))

    def modules(self) -> Iterator[Module]:
        """This module and every sub-module, depth first."""
        yield self
        for child in self.children():
            yield from child.modules()

    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout drops) for this module and its sub-modules; returns self."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (Dropout is the identity); returns self."""
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any) -> Any:
        out = self.forward(*args)
        return hooks.run_forward_hooks(self, args, out) if hooks.forward_hooks else out

    def register_forward_hook(self, fn: Any) -> hooks.RemovableHandle:
        """Call ``fn(module, inputs, output)`` after each forward; a returned value replaces the output."""
        return hooks.register(hooks.forward_hooks, self, fn, "register_forward_hook")

    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameter name → a copy of its data; names and layouts as the same PyTorch model's."""
        return {name: np.array(p.data) for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any], *, allow_nonfinite: bool = False) -> Module:
        """Copy ``state`` into the parameters, in place; returns self.

        Everything is checked first (names, shapes, real dtypes, finite values unless
        ``allow_nonfinite``), so a bad dict raises ValueError and changes nothing.
        """
        return serialization.load_state(self, state, allow_nonfinite=allow_nonfinite)

    def save(self, path: str | Path | BinaryIO) -> Path | BinaryIO:
        """Write the parameters to a versioned ``.npz`` model file (plain arrays, no pickle), or a binary file object."""
        return serialization.save(self, path)

    def load(self, path: str | Path | BinaryIO, *, allow_nonfinite: bool = False) -> Module:
        """Read a model file (or binary file object) written by ``save`` into this module, in place; returns it.

        Any problem with the file raises ``ModelFileError`` naming the path and what is wrong (a missing
        file, ``FileNotFoundError``), and leaves the module unchanged; files from before format 2
        (Linear weights ``(in, out)``) are converted, with a warning.
        """
        return serialization.load(self, path, allow_nonfinite=allow_nonfinite)

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


def _label(name: str, attr: Any) -> None:
    """Label the parameters held by attribute ``name`` with their full names (a list of Values keeps its labels)."""
    if isinstance(attr, Value):
        if attr.requires_grad:
            attr.label = name
    elif isinstance(attr, Module):
        for full, p in attr.named_parameters(prefix=f"{name}."):
            p.label = full
    elif isinstance(attr, (list, tuple)):
        for i, item in enumerate(attr):
            if isinstance(item, Module):
                _label(f"{name}.{i}", item)


def _as_value(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


class Linear(Module):
    """y = x @ W.T + b with W of shape (out_features, in_features) as PyTorch, initialised U(±1/√in_features)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 dtype: Any = np.float64, rng: np.random.Generator | int | None = None) -> None:
        self.in_features = _positive("Linear in_features", in_features)
        self.out_features = _positive("Linear out_features", out_features)
        gen = _generator(rng)
        bound = 1.0 / np.sqrt(in_features)
        # Drawn as (in, out) and stored transposed, so a seed gives the nets it gave before the layout change.
        w = gen.uniform(-bound, bound, (in_features, out_features)).T
        self.weight = _param(np.ascontiguousarray(w, dtype=dtype), "weight")
        self.bias = _param(gen.uniform(-bound, bound, out_features).astype(dtype), "bias") if bias else None

    def forward(self, x: Any) -> Value:
        try:
            return F.linear(x, self.weight, self.bias)  # (it makes an array input a constant Value)
        except ShapeError:
            raise ShapeError(
                f"{self!r}: input of shape {_as_value(x).shape} must end in in_features={self.in_features}, "
                f"e.g. shape (batch, {self.in_features})"
            ) from None

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


class GELU(_Activation):
    def __init__(self, approximate: str = "none") -> None:
        self.approximate = approximate

    def forward(self, x: Value) -> Value:
        return F.gelu(x, self.approximate)

    def __repr__(self) -> str:
        return "GELU()" if self.approximate == "none" else f"GELU(approximate={self.approximate!r})"


class LeakyReLU(_Activation):
    def __init__(self, negative_slope: float = 0.01) -> None:
        self.negative_slope = negative_slope

    def forward(self, x: Value) -> Value:
        return F.leaky_relu(x, self.negative_slope)

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope!r})"


ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "gelu": GELU, "leaky_relu": LeakyReLU}


class Dropout(Module):
    """While training, zero each element with probability ``p`` and scale the rest by 1/(1−p); identity in eval().

    The mask comes from the generator that initialises layers (``manual_seed``), or ``rng``.
    """

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | int | None = None) -> None:
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p is the probability of zeroing an element, in [0, 1]; got {p!r}")
        self.p = float(p)
        self._rng = None if rng is None else _generator(rng)

    def forward(self, x: Any) -> Value:
        x = _as_value(x)
        if not self.training or self.p == 0.0:
            return x
        keep = _generator(self._rng).random(x.shape) >= self.p
        mask = keep.astype(x.dtype) * (1.0 / (1.0 - self.p)) if self.p < 1 else np.zeros(x.shape, x.dtype)
        return x * Value(float(mask) if type(x.data) is float else mask, label="dropout mask", requires_grad=False)

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


class LayerNorm(Module):
    """Normalise over the last axes to mean 0, variance 1 (biased, + eps), then scale and shift, as PyTorch.

    Built from mean, subtraction, square, sqrt and division, so backprop (and drawings) show each step.
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, *, dtype: Any = np.float64) -> None:
        dims = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        self.normalized_shape = tuple(_positive("LayerNorm normalized_shape", d) for d in dims)
        if not self.normalized_shape:
            raise ValueError("LayerNorm: normalized_shape needs at least one axis size, e.g. LayerNorm(16)")
        if not eps > 0:
            raise ValueError(f"LayerNorm: eps must be positive, got {eps!r}")
        self.eps = float(eps)
        affine = bool(elementwise_affine)
        self.weight = _param(np.ones(self.normalized_shape, dtype), "weight") if affine else None
        self.bias = _param(np.zeros(self.normalized_shape, dtype), "bias") if affine and bias else None

    def forward(self, x: Any) -> Value:
        x = _as_value(x)
        k = len(self.normalized_shape)
        if x.shape[-k:] != self.normalized_shape:
            raise ShapeError(
                f"{self!r}: input of shape {x.shape} must end in {self.normalized_shape}"
            )
        axes = tuple(range(-k, 0))
        centred = x - x.mean(axis=axes, keepdims=True)
        var = centred.square().mean(axis=axes, keepdims=True)
        out = centred / (var + self.eps).sqrt()
        if self.weight is not None:
            out = out * self.weight
        return out + self.bias if self.bias is not None else out

    def __repr__(self) -> str:
        return f"LayerNorm({self.normalized_shape}, eps={self.eps:g})"


class Sequential(Module):
    """Modules applied one after another, named ``0``, ``1``, … (or by the keys of one dict) as in PyTorch."""

    def __init__(self, *layers: Module | Mapping[str, Module]) -> None:
        named = layers[0].items() if len(layers) == 1 and isinstance(layers[0], Mapping) else \
            ((str(i), m) for i, m in enumerate(layers))
        for key, layer in named:
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {key} is {type(layer).__name__}, not a Module "
                                "(e.g. nn.Linear(2, 3) or nn.ReLU())")
            setattr(self, str(key), layer)

    @property
    def layers(self) -> list[Module]:
        return [m for m in vars(self).values() if isinstance(m, Module)]

    def forward(self, x: Any) -> Any:
        for layer in vars(self).values():
            if isinstance(layer, Module):
                x = layer(x)
        return x

    def __getitem__(self, i: int | slice) -> Module:
        if isinstance(i, slice):  # keeps the layers' names, as PyTorch
            return Sequential(dict(list((k, m) for k, m in vars(self).items() if isinstance(m, Module))[i]))
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def append(self, layer: Module) -> Sequential:
        """Add ``layer`` at the end (named by its position, as PyTorch); returns self."""
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential.append: {type(layer).__name__} is not a Module")
        setattr(self, str(len(self)), layer)
        return self

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


def clip_grad_norm_(parameters: Iterable[Value] | Value, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> float:
    """Scale the gradients in place so their joint ``norm_type``-norm is at most ``max_norm``, as PyTorch.

    Returns the norm before clipping (a float). Parameters without a gradient are skipped.
    """
    params = [parameters] if isinstance(parameters, Value) else list(parameters)
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real) or not max_norm >= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be a number ≥ 0, got {max_norm!r}")
    grads = [p for p in params if p._grad is not None]
    if not grads:
        return 0.0
    norm_type = float(norm_type)
    # The norm of the per-parameter norms, as torch computes it.
    total = float(np.linalg.norm([np.linalg.norm(np.ravel(p._grad), norm_type) for p in grads], norm_type))
    if error_if_nonfinite and not np.isfinite(total):
        raise FloatingPointError(
            f"clip_grad_norm_: the total {norm_type:g}-norm of the gradients is {total}; "
            "pass error_if_nonfinite=False to clip anyway"
        )
    coef = float(max_norm) / (total + 1e-6)
    if coef < 1.0:  # torch multiplies by min(coef, 1); by 1.0 changes no bit
        for p in grads:
            p._grad = float(p._grad * coef) if type(p._grad) is float else p._grad * np.asarray(coef, p._grad.dtype)
    return total


# ``nn.utils.clip_grad_norm_`` as typed in PyTorch.
utils = SimpleNamespace(clip_grad_norm_=clip_grad_norm_)


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

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """``w0``, ``w1``, …, ``b``: the names of micrograd's drawings."""
        for i, w in enumerate(self.w):
            yield f"{prefix}w{i}", w
        yield f"{prefix}b", self.b

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
