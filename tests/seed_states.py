"""The seed graphs in the three states a learner meets them in: before backward, after one pass, after two.

``build(name, passes)`` gives a ``Case``: the graph, the leaf to explain, and
every number a surface should show, from the closed forms and a fresh backward.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import tinygrad_lite as tl
from tinygrad_lite import seed

GRAPHS = ["softmax+ce", "softmax+mse", "sigmoid+bce", "sigmoid+mse"]
STATES = [0, 1, 2]


@dataclass
class Case:
    name: str
    passes: int
    L: tl.Value
    leaves: list[tl.Value]
    wrt: tl.Value
    closed: dict[tl.Value, float]  # ∂L/∂leaf by the seed articles' closed forms (one pass)
    interior: dict[tl.Value, float]  # ∂L/∂node for interior nodes, from backward() on a twin graph
    local_closed: dict[tuple[tl.Value, tl.Value], float]  # (parent, child) → closed-form local derivative

    def grads(self) -> list[Any]:
        """Every node's ``._grad`` as it is now (to check that looking changed none)."""
        return [n._grad for n in tl.backprop_steps(self.L).view.nodes]


def _build(name: str):
    kind, loss = name.split("+")
    if kind == "softmax":
        z, probs, L = seed.softmax_example(loss)
        yhat = np.array([p.data for p in probs])
        closed = dict(zip(z, seed.closed_forms(yhat, seed.TARGET)[loss]))
        local = {(z[j], probs[i]): yhat[i] * ((i == j) - yhat[j]) for i in range(len(z)) for j in range(len(z))}
        return z, z[seed.TARGET], L, closed, local
    w, s, L = seed.sigmoid_example(loss)
    b = next(n for n in tl.backprop_steps(L).view.nodes if n.label == "b")
    forms = seed.sigmoid_closed_forms(s.data)[loss]
    zn = s.parents[0]
    return [w, b], w, L, {w: forms["w"], b: forms["b"]}, {(zn, s): s.data * (1 - s.data)}


def build(name: str, passes: int) -> Case:
    leaves, wrt, L, closed, local = _build(name)
    twin_leaves, _, twin, _, _ = _build(name)
    twin.backward()
    twin_nodes = tl.backprop_steps(twin).view.nodes
    nodes = tl.backprop_steps(L).view.nodes
    interior = {n: t.grad for n, t in zip(nodes, twin_nodes) if n._prev and n.requires_grad}
    for _ in range(passes):
        L.backward()
    return Case(name, passes, L, leaves, wrt, closed, interior, local)
