"""Backprop one chain-rule application at a time, computed on the side: looking never changes ``.grad``.

``GraphView`` is the one read-only look at a graph that steps, the stepper and
the drawings share: its nodes, their names, backward's order, and one backward
pass from zero kept in a dict of its own.  ``backprop_steps(root)`` yields that
pass's steps lazily.  Only ``backward()`` (and optimizers) write ``.grad``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
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
    contribution: Any  # what this step adds to the parent's gradient in this pass
    name: str = ""
    total: str = ""  # "a.grad = 2 (from c) + −1 (from d) = 1" once a parent has several children
    grad: Any = None  # the parent's gradient in this pass after this step


@dataclass
class Step:
    """Node ``node`` with upstream gradient ``upstream`` passes it on to each parent."""

    node: Value
    upstream: Any
    parents: list[Edge] = field(default_factory=list)
    name: str = ""
    index: int = 0

    def _repr_html_(self) -> str:
        from .display import steps_html

        return steps_html([self])

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


class GraphView:
    """A read-only view of ``root``'s graph: nodes, names, backward's order and one pass on the side.

    ``nodes`` holds every node ``root`` depends on (constants too), parents
    first; ``names`` their display names; ``order`` the nodes backward visits.
    ``steps()`` runs a fresh side pass lazily; ``trace`` and ``grads`` hold one
    full pass (computed once, on first use).  Nothing here writes ``.grad``.
    """

    def __init__(self, root: Value, grad: Any = None) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"expected a Value as the root of a graph, got {type(root).__name__}")
        self.root = root
        self.nodes = graph_nodes(root)
        self.names = node_names(self.nodes)
        self.order = autograd.topo_order(root)
        self._grad = grad

    @property
    def has_steps(self) -> bool:
        """False for a leaf, or a root built under ``no_grad()``/from constants: backward has nothing to do."""
        return bool(self.root._prev) and self.root.requires_grad

    def seed(self) -> Any:
        """The root's gradient the pass starts from (raises for a non-scalar root without ``grad=``)."""
        return autograd.seed_of(self.root, self._grad)

    def steps(self) -> Iterator[Step]:
        """A fresh side pass, one ``Step`` at a time."""
        return self._side_pass({}, self.seed())

    @cached_property
    def _full(self) -> tuple[list[Step], dict[Value, Any]]:
        grads: dict[Value, Any] = {}
        steps = list(self._side_pass(grads, self.seed()))
        return steps, grads

    @property
    def trace(self) -> list[Step]:
        """Every step of one side pass."""
        return self._full[0]

    @property
    def grads(self) -> dict[Value, Any]:
        """Node → its gradient after one whole backward pass from zero (nodes it never reaches are absent)."""
        return self._full[1]

    def _side_pass(self, grads: dict[Value, Any], seed: Any) -> Iterator[Step]:
        if not self.root.requires_grad:
            return
        names = self.names
        grads[self.root] = seed
        received: dict[Value, list[tuple[str, Any]]] = {}
        index = 0
        for n in reversed(self.order):
            g = grads.get(n)
            if g is None or not n._prev:
                continue
            index += 1
            step = Step(node=n, upstream=g, name=names[n], index=index)
            for i, (p, c) in enumerate(zip(n._prev, autograd.contributions(n, g))):
                if c is None or not p.requires_grad:
                    continue
                contrib = _summed(c, p)
                before = grads.get(p)
                grads[p] = now = contrib if before is None else before + contrib
                got = received.setdefault(p, [])
                got.append((names[n], contrib))
                total = ""
                if len(got) > 1:  # spell out the sum over this parent's children
                    total = f"{names[p]}.grad = " + " + ".join(f"{fmt(v)} (from {who})" for who, v in got)
                    total += f" = {fmt(now)}"
                step.parents.append(Edge(p, autograd.local(n, i), formula(n, i, names), contrib, names[p],
                                         total, now))
            yield step


class Steps:
    """The steps of one backward pass computed on the side: a lazy iterator (like a generator).

    ``.view`` is the ``GraphView`` they come from; ``.view.trace`` lists all of
    them without consuming this iterator.
    """

    def __init__(self, view: GraphView) -> None:
        self.view = view
        self._it = view.steps()

    def __iter__(self) -> "Steps":
        return self

    def __next__(self) -> Step:
        return next(self._it)

    def __repr__(self) -> str:
        return "\n".join(map(str, self.view.trace)) or "(no backward steps: the root has no graph)"

    def _repr_html_(self) -> str:
        """In a notebook: every step of the pass as one table (this iterator is not consumed)."""
        from .display import steps_html

        return steps_html(self.view.trace)


def backprop_steps(root: Value, grad: Any = None) -> Steps:
    """The steps of ``root.backward(grad)`` in order, each computed as it is asked for.

    The pass runs on the side, from zero: every ``.grad`` stays as it was
    (before or after ``backward()``); each step's parent entries carry
    ``.grad``, that parent's gradient so far in this pass.

    >>> import tinygrad_lite as tl
    >>> a, b = tl.Value(2.0, label="a"), tl.Value(-3.0, label="b")
    >>> c = (a * b).tanh(); c.label = "c"
    >>> for step in c.backward_steps(): print(step)
    [1] ∂/∂c (tanh) = 1: mul0.grad += 1−c² [2.458e−05] × 1 = 2.458e−05
    [2] ∂/∂mul0 (mul) = 2.458e−05: a.grad += b [−3] × 2.458e−05 = −7.373e−05; b.grad += a [2] × 2.458e−05 = 4.915e−05
    >>> a.grad  # looking changed nothing
    0.0
    """
    view = GraphView(root, grad)
    view.seed()  # a bad grad= fails here, not at the first step
    return Steps(view)


def _summed(c: Any, p: Value) -> Any:
    """The contribution as it lands in ``p.grad`` (summed over broadcast axes)."""
    if type(p.data) is float:
        return float(np.sum(c)) if type(c) is not float else c
    return autograd.unbroadcast(c, p.data)
