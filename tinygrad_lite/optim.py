"""Optimisers with ``torch.optim``'s update rules: ``SGD`` (momentum, weight decay) and ``Adam``."""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from .value import Value


class Optimizer:
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


def _apply(p: Value, delta: Any) -> None:
    """p ← p − delta (in place for arrays)."""
    if type(p.data) is float:
        p.data = p.data - float(delta)
    else:
        p.data -= delta


class SGD(Optimizer):
    """p ← p − lr·b with b = momentum·b + (g + weight_decay·p) (b = g on the first step)."""

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: momentum and weight_decay must be ≥ 0, got {momentum}, {weight_decay}")
        self.momentum, self.weight_decay = float(momentum), float(weight_decay)

    def _update(self, p: Value, g: Any, state: dict[str, Any]) -> None:
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        if self.momentum:
            buf = state.get("momentum")
            buf = g if buf is None else self.momentum * buf + g
            state["momentum"] = buf
            g = buf
        _apply(p, self.lr * g)


class Adam(Optimizer):
    """Adam with bias correction, in the same order of operations as ``torch.optim.Adam``."""

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
        m, v = state.get("m", 0.0 * g), state.get("v", 0.0 * g)
        m = state["m"] = m + (1 - b1) * (g - m)  # torch: exp_avg.lerp_(grad, 1 - beta1)
        v = state["v"] = b2 * v + (1 - b2) * (g * g)
        bias1, bias2 = 1 - b1**t, 1 - b2**t
        denom = np.sqrt(v) / math.sqrt(bias2) + self.eps
        _apply(p, (self.lr / bias1) * (m / denom))
