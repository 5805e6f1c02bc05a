"""Stable display names for the nodes of a graph, and formula templates rendered with them."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from .ops import Softmax, number_text
from .value import Value


def graph_nodes(root: Value) -> list[Value]:
    """Every node ``root`` depends on (constants too), parents before children."""
    seen: set[Value] = set()
    nodes: list[Value] = []
    stack = [root]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        nodes.append(n)
        stack.extend(n._prev)
    nodes.sort(key=lambda n: n._id)
    return nodes


SMALL = 16  # tensors of at most this many elements are shown entry by entry


def fmt(x: Any, digits: int = 4, multiline: bool = False) -> str:
    """A number in few characters; a tensor of ≤ 16 elements as its entries, a larger one as a summary.

    Entries nest as the tensor does (``[[1, 2], [3, 4]]``); ``multiline`` puts each row
    of a 2-D or 3-D tensor on its own line with aligned columns (for drawings).  A larger
    tensor shows its shape, mean and range.
    """
    if type(x) is float or np.ndim(x) == 0:
        v = float(x) + 0.0  # + 0.0 turns −0 into 0
        return f"{v:.{digits}g}".replace("-", "−")
    a = np.asarray(x)
    if a.size > SMALL or a.size == 0:
        return f"{a.shape} mean {fmt(a.mean(), 3)} [{fmt(a.min(), 3)}, {fmt(a.max(), 3)}]" if a.size else f"{a.shape} empty"
    entries = np.vectorize(lambda v: fmt(v, min(digits, 3) if a.size > 4 else digits), otypes=[object])(a)
    if multiline and a.ndim >= 2:
        width = max(len(t) for t in entries.ravel())
        entries = np.vectorize(lambda t: t.rjust(width), otypes=[object])(entries)
    return _nest(entries, multiline and a.ndim >= 2, 1)


def _nest(entries: np.ndarray, multiline: bool, depth: int) -> str:
    if entries.ndim == 1:
        return "[" + ", ".join(entries) + "]"
    joiner = ",\n" + " " * depth if multiline else ", "
    return "[" + joiner.join(_nest(row, multiline, depth + 1) for row in entries) + "]"


def node_names(nodes: list[Value]) -> dict[Value, str]:
    """Labels where given (made unique), else op name + a counter in creation order.

    Unlabelled softmax outputs are named ŷ0, ŷ1, … (a tensor softmax ŷ) and constants by their value.
    """
    names: dict[Value, str] = {}
    used: dict[str, int] = {}
    taken: set[str] = set()
    counters: dict[str, int] = {}
    for n in nodes:
        if n.label:
            base = n.label
        elif not n._prev and not n.requires_grad and n.size == 1:
            base = fmt(n.data)
        elif n._op is not None and n._op.name == "softmax" and hasattr(n._op, "i"):
            base = f"ŷ{n._op.i}"
        elif isinstance(n._op, Softmax):  # a tensor of probabilities: ŷ as in the seed (ŷ1, … for more)
            k = counters.get("ŷ", 0)
            base = "ŷ" if k == 0 else f"ŷ{k}"
            counters["ŷ"] = k + 1
        else:
            key = n.op or "x"
            k = counters.get(key, 0)
            base = f"σ{k or ''}" if key == "sigmoid" else f"{key}{k}"
            counters[key] = k + 1
        if not n._prev and not n.requires_grad:  # constants: equal values may share their name
            names[n] = base
            used.setdefault(base, 1)
            continue
        k = used.get(base, 0)
        name = base if k == 0 else f"{base}_{k}"
        while name in taken:  # a user label may already be "a_1": never two nodes, one symbol
            k += 1
            name = f"{base}_{k}"
        used[base] = k + 1
        taken.add(name)
        names[n] = name
    return names


_TOKEN = re.compile(r"\b(out|x|y|c|s\d+)\b")


def template_names(node: Value, names: dict[Value, str]) -> dict[str, str]:
    """What x, y, c, out and s<j> stand for in ``node``'s formula templates."""
    m = {"out": names.get(node, "out")}
    for key, p in zip(("x", "y"), node._prev):
        m[key] = names.get(p, key)
    c = node._number  # the number a NumberOp keeps (x * 2.0)
    if c is not None:
        m["c"] = number_text(c) if c >= 0 else f"({number_text(c)})"
    group = getattr(node._op, "group", None)
    if group is not None:
        for j, ref in enumerate(group.outputs):
            sib = ref()
            m[f"s{j}"] = names.get(sib, f"ŷ{j}") if sib is not None else f"ŷ{j}"
    return m


def pretty(template: str, mapping: dict[str, str]) -> str:
    """``out*(1 - out)`` with out=ŷ0 → ``ŷ0(1−ŷ0)``: a template in the book's notation."""
    s = _TOKEN.sub(lambda m: mapping.get(m.group(1), m.group(1)), template)
    s = s.replace("Heaviside(", "H(").replace("**2", "²").replace("**", "^")
    s = re.sub(r"\*\(", "(", s)
    s = s.replace(" - ", "−").replace("-", "−").replace(" + ", "+").replace("*", "·")
    return s


def formula(node: Value, i: int, names: dict[Value, str]) -> str:
    """Local derivative ∂node/∂parent_i as text (tensor VJPs as their description)."""
    op = node._op
    if not op.uses_locals and node.size != 1:
        return op.vjp(i)
    return pretty(op.formula(i), template_names(node, names))


__all__ = ["graph_nodes", "node_names", "formula", "fmt", "pretty"]
