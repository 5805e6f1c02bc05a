"""Optimisers with ``torch.optim``'s update rules: ``SGD`` (momentum, weight decay) and ``Adam``."""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from .value import Value


class Optimizer:
    """Holds the parameters and one dict of buffers per parameter (named as in ``torch.optim``)."""

    hyperparameters: tuple[str, ...] = ("lr",)
    # Settings of torch.optim's groups this optimizer has only one value of: exported, so PyTorch can
    # resume from the dict, and checked on load.
    fixed: dict[str, Any] = {}
    buffers: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got no parameters to optimise")
        if not all(isinstance(p, Value) for p in self.params):
            raise TypeError(f"{type(self).__name__}: params must be Values (e.g. model.parameters())")
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: lr must be positive, got {lr}")
        self.lr = float(lr)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Forget the gradients (set to "not computed"), as ``set_to_none=True`` in PyTorch."""
        for p in self.params:
            p._grad = None  # what Value.zero_grad does, without a call per parameter

    def step(self) -> None:
        for p, state in zip(self.params, self.state):
            if p._grad is not None:
                self._update(p, p._grad, state)

    def _update(self, p: Value, g: Any, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Hyperparameters and copies of the buffers, laid out as ``torch.optim``'s state_dict."""
        return {
            "state": {i: {k: _copy(v) for k, v in s.items()} for i, s in enumerate(self.state) if s},
            "param_groups": [{**{k: getattr(self, k) for k in self.hyperparameters}, **self.fixed,
                              "params": list(range(len(self.params)))}],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Continue from ``state_dict()``: the next ``step()`` is the one the saved optimizer would take.

        Everything is checked first, so a dict that does not fit changes nothing.
        """
        who = f"{type(self).__name__}.load_state_dict"
        try:
            per_param, (group,) = state_dict["state"], state_dict["param_groups"]
            hyper = {k: tuple(map(float, group[k])) if isinstance(group[k], (tuple, list)) else float(group[k])
                     for k in self.hyperparameters}
            n_saved = len(group["params"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{who}: expects the dict that {type(self).__name__}.state_dict() returns, with "
                             f"'state' and one 'param_groups' entry holding {', '.join(self.hyperparameters)}") from None
        for k, v in self.fixed.items():
            if k in group and group[k] != v:
                raise ValueError(f"{who}: the state has {k}={group[k]!r}; {type(self).__name__} here supports only "
                                 + ", ".join(f"{key}={val!r}" for key, val in self.fixed.items()))
        if n_saved != len(self.params):
            raise ValueError(f"{who}: the state was saved for {n_saved} parameters; this optimizer has "
                             f"{len(self.params)}")
        new: list[dict[str, Any]] = [{} for _ in self.params]
        for i, bufs in per_param.items():
            try:
                i, bufs = int(i), dict(bufs)
            except (TypeError, ValueError):
                raise ValueError(f"{who}: 'state' maps parameter indices to dicts of buffers; got {i!r}: "
                                 f"{type(bufs).__name__}") from None
            if not 0 <= i < len(self.params):
                raise ValueError(f"{who}: state for parameter {i}, but there are {len(self.params)}")
            p = self.params[i]
            for k, v in bufs.items():
                if k not in self.buffers:
                    raise ValueError(f"{who}: unknown buffer {k!r} for parameter {i}; "
                                     f"{type(self).__name__} keeps {', '.join(self.buffers)}")
                if k == "step":
                    new[i][k] = int(v)
                    continue
                if np.shape(v) != p.shape:
                    raise ValueError(f"{who}: buffer {k} of parameter {i} has shape {np.shape(v)}, "
                                     f"the parameter {p.shape}")
                new[i][k] = float(v) if type(p.data) is float else np.array(v)
        self.state = new
        for k, v in hyper.items():
            setattr(self, k, v)


def _copy(v: Any) -> Any:
    return np.array(v) if isinstance(v, np.ndarray) else v


def _apply(p: Value, delta: Any) -> None:
    """p ← p − delta (in place for arrays)."""
    if type(p.data) is float:
        p.data = p.data - float(delta)
    else:
        p.data -= delta


class SGD(Optimizer):
    """p ← p − lr·b with b = momentum·b + (g + weight_decay·p) (b = g on the first step)."""

    hyperparameters = ("lr", "momentum", "weight_decay")
    fixed = {"dampening": 0.0, "nesterov": False, "maximize": False}
    buffers = ("momentum_buffer",)

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: momentum and weight_decay must be ≥ 0, got {momentum}, {weight_decay}")
        self.momentum, self.weight_decay = float(momentum), float(weight_decay)

    def _update(self, p: Value, g: Any, state: dict[str, Any]) -> None:
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        if self.momentum:
            buf = state.get("momentum_buffer")
            buf = g if buf is None else self.momentum * buf + g
            state["momentum_buffer"] = buf
            g = buf
        _apply(p, self.lr * g)


class Adam(Optimizer):
    """Adam with bias correction, in the same order of operations as ``torch.optim.Adam``."""

    hyperparameters = ("lr", "betas", "eps", "weight_decay")
    buffers = ("step", "exp_avg", "exp_avg_sq")

    def __init__(self, params: Iterable[Value], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"Adam: betas must lie in [0, 1), got {betas}")
        self.betas, self.eps, self.weight_decay = (float(betas[0]), float(betas[1])), float(eps), float(weight_decay)

    def _update(self, p: Value, g: Any, state: dict[str, Any]) -> None:
        b1, b2 = self.betas
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        t = state["step"] = state.get("step", 0) + 1
        m, v = state.get("exp_avg", 0.0 * g), state.get("exp_avg_sq", 0.0 * g)
        m = state["exp_avg"] = m + (1 - b1) * (g - m)  # torch: exp_avg.lerp_(grad, 1 - beta1)
        v = state["exp_avg_sq"] = b2 * v + (1 - b2) * (g * g)
        bias1, bias2 = 1 - b1**t, 1 - b2**t
        denom = np.sqrt(v) / math.sqrt(bias2) + self.eps
        _apply(p, (self.lr / bias1) * (m / denom))
