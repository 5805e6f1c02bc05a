"""What drawings need for tensor graphs: the scalar graph behind one, an element's paths, a slide-sized layout.

``viz.draw_graph`` calls these for ``unroll=True``, for ``explain=wrt, index=…``
and for the default layout of a long tensor graph (wrapped into rows instead
of one long strip).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import sympy

from .explanation import Cancellation, Explanation, Path, PathEdge
from .naming import node_names
from .steps import GraphView
from .tensor_explanation import TensorExplanation, _display
from .unrolling import RULES, unroll
from .value import Value

WRAP_OVER = 4  # tensor graphs deeper than this many ranks are wrapped into rows
SHORT = 40  # characters of a formula a drawing shows in full


def scalar_graph(root: Value, max_nodes: int) -> tuple[Value, Any]:
    """The scalar root behind ``root`` (one node per element) and the ``Unrolled`` it belongs to.

    Each scalar shows its tensor's ``.grad`` entry as it is (0 off every path, "not computed
    yet" before any backward), so the drawing says what the tensor graph's does.
    """
    u = unroll(root, max_nodes=max_nodes)
    top = u.scalars[root]
    if top.size != 1:
        raise ValueError(f"draw_graph: unroll=True needs a one-element root, got shape {root.shape}; "
                         "draw a reduction of it (e.g. .sum())")
    done = root._grad is not None  # a backward pass has run
    for v in all_nodes(u):
        t, idx = u.origin.get(v, (None, ()))
        if t is None and v._prev:  # inside an op's rule (var's mean): the scalar pass's own gradient
            v._grad = v._grad if done and v.requires_grad else None
            continue
        g = None if t is None else t._grad
        v._grad = None if g is None or not v.requires_grad else float(np.asarray(g)[idx])
    return top.reshape(-1)[0], u


def scalar_view(scalar_root: Value, u: Any) -> GraphView:
    """A ``GraphView`` of the scalar graph that also holds the softmax outputs off every path."""
    view = GraphView(scalar_root)
    view.nodes = all_nodes(u)
    view.names = node_names(view.nodes)
    return view


def all_nodes(u: Any) -> list[Value]:
    """Every scalar node of an unrolled graph, parents first: also the softmax outputs that no
    path to the root passes (a cross-entropy picks one per row), so each row's K×K edges show."""
    seen: set[Value] = set()
    stack = [v for arr in u.scalars.values() for v in arr.reshape(-1)]
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(n._prev)
    return sorted(seen, key=lambda n: n._id)


def _is_view(n: Value) -> bool:
    return bool(n._prev) and getattr(RULES.get(type(n._op)), "is_view", False)


def _tensor_edges(parent: Value, child: Value) -> list[tuple[Value, Value]]:
    """The tensor edges a scalar edge parent → child stands for (through views such as indexing)."""
    if any(p is parent for p in child._prev):  # by identity: a Value's == is elementwise
        return [(parent, child)]
    for p in child._prev:
        if _is_view(p):
            chain = _tensor_edges(parent, p)
            if chain:
                return chain + [(p, child)]
    return []


def _owners(origin: dict[Value, Any], nodes: list[Value]) -> list[Value]:
    """The tensor each scalar of a path stands for; one inside an op's rule (var's mean), which
    has no tensor of its own, belongs to the next tensor along the path: the op's output."""
    owners: list[Value] = []
    for n in reversed(nodes):
        owners.append(origin[n][0] if n in origin else owners[-1])
    return owners[::-1]


def tensor_paths(e: TensorExplanation) -> Explanation:
    """The element's paths as paths of the tensor graph, for highlighting it (one per distinct route)."""
    paths, seen = [], set()
    for p in e.paths:
        edges: list[PathEdge] = []
        last: list[int] = []  # index of the tensor edge that ends each scalar edge
        nodes = ([p.edges[0].parent] + [se.child for se in p.edges]) if p.edges else []
        owners = _owners(e.unrolled.origin, nodes)
        for k, se in enumerate(p.edges):
            tp, tc = owners[k], owners[k + 1]
            for a, b in _tensor_edges(tp, tc):
                edges.append(PathEdge(a, b, se.local, se.formula, se.symbolic))
            last.append(len(edges) - 1)
        key = tuple((id(x.parent), id(x.child)) for x in edges)
        if key in seen or not edges:
            continue
        seen.add(key)
        cancels = [Cancellation(c.factor, last[c.numerator], last[c.denominator]) for c in p.cancellations]
        # The drawing notes "ŷ cancels → <path>" on the edges: a long path form would widen them.
        short = p.simplified if len(str(p.simplified)) <= SHORT else sympy.Symbol("…")
        paths.append(Path(edges, p.product, p.expression, short, cancels))
    return Explanation(e.tensor_root, e.tensor_wrt, paths, e.unrolled.names)


def title(e: TensorExplanation) -> str:
    """∂ℓ/∂Z[0,0] = (ŷ[0,0] − 1)/N = −0.2251, and the matrix form where one was checked."""
    r, w = e.names[e.root], e.names[e.wrt]
    total = _display(e.total_expression)
    if len(total) > 2 * SHORT:  # many samples' paths: the number, and where they go
        rows = sorted({row for row in e.rows if row is not None})
        total = f"Σ of {len(e.paths)} paths" + (f" (rows {', '.join(map(str, rows))})" if rows else "")
    text = f"∂{r}/∂{w} = {total} = {e.total:.4g}" if e.paths else e.note
    if e.general is not None:
        text += f"\nat every element: {e.general.matrix}"
    return text.replace("-", "−")


def rows(nodes: list[Value], scalars_too: bool = False) -> list[list[Value]]:
    """A long tensor graph's nodes in rows of ranks (left to right, row under row); [] to keep one row.

    A graph of scalars only keeps one row unless ``scalars_too``.

    A node's rank is its longest distance from the inputs; an input sits just before
    its first use, so weights join the row where they are used.
    """
    if not scalars_too and all(n.size == 1 and type(n.data) is float for n in nodes):
        return []
    depth: dict[Value, int] = {}
    for n in nodes:  # creation order: parents first
        if n._prev:
            depth[n] = 1 + max(depth.get(p, 0) for p in n._prev)
    users: dict[Value, list[int]] = {}
    for n in nodes:
        for p in n._prev:
            if not p._prev:
                users.setdefault(p, []).append(depth[n])
    for n in nodes:
        if not n._prev:
            depth[n] = min(users.get(n, [1])) - 1
    ranks = max(depth.values(), default=0) + 1
    if ranks <= WRAP_OVER:
        return []
    # k rows of about ranks/k boxes (~200 pt wide, ~150 pt tall) are near 16:9 when k² ≈ 0.75·ranks.
    per_row = math.ceil(ranks / max(1, round(math.sqrt(0.75 * ranks))))
    out: list[list[Value]] = [[] for _ in range(math.ceil(ranks / per_row))]
    for n in nodes:  # inputs stay free: dot puts each just above the row that uses it
        if n._prev:
            out[depth[n] // per_row].append(n)
    return [r for r in out if r]


__all__ = ["scalar_graph", "scalar_view", "all_nodes", "tensor_paths", "title", "rows"]
