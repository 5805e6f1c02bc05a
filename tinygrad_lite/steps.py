"""Backprop one chain-rule application at a time: ``backprop_steps(root)``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from . import autograd
from .naming import fmt, formula, graph_nodes, node_names
from .value import Value


@dataclass
class Edge:
    """One parent edge of a step: what the chain rule sends from the node to ``parent``."""

    parent: Value
    local: Any  # ∂node/∂parent: a number, an array, or (tensor VJPs) a description
    formula: str
    contribution: Any  # what this step added to parent.grad
    name: str = ""
    total: str = ""  # "a.grad = 2 (from c) + −1 (from d) = 1" once a parent has several children


@dataclass
class Step:
    """Node ``node`` with upstream gradient ``upstream`` passes it on to each parent."""

    node: Value
    upstream: Any
    parents: list[Edge] = field(default_factory=list)
    name: str = ""
    index: int = 0

    def __str__(self) -> str:
        up = fmt(self.upstream)
        parts = []
        for e in self.parents:
            local = e.local if isinstance(e.local, str) else fmt(e.local)
            part = f"{e.name}.grad += {e.formula} × {up} = {fmt(e.contribution)}"
            if not isinstance(e.local, str) and e.formula != local:
                part = f"{e.name}.grad += {e.formula} [{local}] × {up} = {fmt(e.contribution)}"
            parts.append(part + (f"  ({e.total})" if e.total else ""))
        return f"[{self.index}] ∂/∂{self.name} ({self.node.op}) = {up}: " + "; ".join(parts)


def backprop_steps(root: Value, grad: Any = None) -> Iterator[Step]:
    """Yield the steps of ``root.backward(grad)`` in order, applying each as it is yielded.

    Exhausting the generator leaves every ``.grad`` exactly as ``backward()`` would.

    >>> import tinygrad_lite as tl
    >>> a, b = tl.Value(2.0, label="a"), tl.Value(-3.0, label="b")
    >>> c = (a * b).tanh(); c.label = "c"
    >>> for step in c.backward_steps(): print(step)
    [1] ∂/∂c (tanh) = 1: mul0.grad += 1−c² [2.458e−05] × 1 = 2.458e−05
    [2] ∂/∂mul0 (mul) = 2.458e−05: a.grad += b [−3] × 2.458e−05 = −7.373e−05; b.grad += a [2] × 2.458e−05 = 4.915e−05
    """
    seed = autograd.seed_of(root, grad)
    names = node_names(graph_nodes(root))
    nodes = autograd.topo_order(root)
    for n in nodes:
        if n._prev:
            n._grad = None
    autograd.accumulate(root, seed)
    received: dict[Value, list[tuple[str, Any]]] = {}
    index = 0
    for n in reversed(nodes):
        g = n._grad
        if g is None or not n._prev:
            continue
        index += 1
        step = Step(node=n, upstream=g, name=names[n], index=index)
        for i, (p, c) in enumerate(zip(n._prev, autograd.contributions(n, g))):
            if c is None or not p.requires_grad:
                continue
            autograd.accumulate(p, c)
            got = received.setdefault(p, [])
            contrib = _summed(c, p)
            got.append((names[n], contrib))
            local = autograd.local(n, i)
            total = ""
            if len(got) > 1:  # spell out the sum over this parent's children
                total = f"{names[p]}.grad = " + " + ".join(f"{fmt(v)} (from {who})" for who, v in got)
                total += f" = {fmt(p._grad)}"
            step.parents.append(Edge(p, local, formula(n, i, names), contrib, names[p], total))
        yield step


def _summed(c: Any, p: Value) -> Any:
    """The contribution as it lands in ``p.grad`` (summed over broadcast axes)."""
    if type(p.data) is float:
        return float(np.sum(c))
    return autograd.unbroadcast(c, p.data)
