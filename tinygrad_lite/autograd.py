"""Reverse-mode backprop over a graph of Values, iteratively (no recursion limit)."""

from __future__ import annotations

import math
import warnings
from operator import attrgetter
from typing import Any

import numpy as np

from . import hooks
from ._state import modes, user_stacklevel
from .errors import AnomalyError, NonFiniteWarning
from .ops import ONE, unbroadcast
from .value import Value, _to_data

_creation = attrgetter("_id")


def topo_order(root: Value) -> list[Value]:
    """Nodes ``root`` depends on that need a gradient, each after all its parents.

    Sorting by creation number is a topological order because a node is always
    created after its parents.  The walk is depth first, with a list as its stack (so a
    chain of a million nodes needs no recursion); it goes on to a parent directly and
    stacks only a node's other parent.  It meets nodes mostly in reverse creation order:
    long runs, which make the sort cheap.  (It reads the node layout of ``Value``.)
    """
    if not root.requires_grad:
        return []
    nodes: list[Value] = []
    seen: set[Value] = set()
    stack = [root]
    while stack:
        n = stack.pop()
        while n not in seen:
            seen.add(n)
            nodes.append(n)
            x = n._x
            if x is None:
                break
            if type(x) is tuple:  # (linear with a bias, the scalar softmax): on to the first parent, as below
                first = None
                for p in x:
                    if p.requires_grad:
                        if first is None:
                            first = p
                        else:
                            stack.append(p)
                if first is None:
                    break
                n = first
                continue
            y = n._y
            if type(y) is Value and y.requires_grad:  # y first: in an MLP's graph the sort then meets longer runs
                if x.requires_grad:
                    stack.append(x)
                n = y
            elif x.requires_grad:
                n = x
            else:
                break
    nodes.sort(key=_creation)
    return nodes


def seed_of(root: Value, grad: Any) -> Any:
    """The gradient backward starts from, validated against the root's shape."""
    if grad is None:
        if type(root.data) is float:
            return 1.0
        if root.data.size != 1:
            raise ValueError(
                f"backward: the root has shape {root.shape}, so its gradient is not implied; "
                "pass grad= of that shape (e.g. np.ones(root.shape)) or reduce it first (.sum(), .mean())"
            )
        shape = root.data.shape
        return np.array(1.0, root.data.dtype) if shape == () else np.ones(shape, root.data.dtype)
    if isinstance(grad, Value):
        grad = grad.data
    g = _to_data(grad, "backward grad")
    if np.shape(g) != root.shape:
        raise ValueError(f"backward: grad has shape {np.shape(g)} but the root has shape {root.shape}; they must match")
    return float(g) if type(root.data) is float else np.array(g, dtype=root.data.dtype)  # a copy: never the caller's


def contributions(node: Value, g: Any) -> tuple[Any, ...]:
    """What ``node``'s backward sends to each parent, before summing over broadcasts."""
    op = node._op
    if op.uses_locals:
        return tuple(None if not p.requires_grad else (g if loc is ONE else g * loc)
                     for p, loc in zip(node._prev, node._saved))
    return op.backward(node._saved, g, node._prev)


def local(node: Value, i: int) -> Any:
    """∂node/∂parent_i: a number or array; for a tensor VJP op, the description of its VJP.

    A VJP op between scalars (a sum of one element, say) is evaluated with upstream 1.
    """
    op = node._op
    if op.uses_locals:
        return node._saved[i]
    if node.size == 1 and node._prev[i].size == 1:
        g = 1.0 if type(node.data) is float else np.ones_like(node.data)
        return float(np.sum(op.backward(node._saved, g, node._prev)[i]))
    return op.vjp(i)


def accumulate(parent: Value, c: Any) -> None:
    """Add one contribution into ``parent._grad`` (sum over broadcast axes first)."""
    data = parent.data
    if type(data) is float:
        if type(c) is not float:
            c = float(np.sum(c))
    elif type(c) is not np.ndarray or c.shape != data.shape or c.dtype is not data.dtype:
        c = unbroadcast(c, data)  # (dtypes are compared by identity first: equal ones are one object)
    pg = parent._grad
    parent._grad = c if pg is None else pg + c


def backward(root: Value, grad: Any = None, create_graph: bool = False) -> None:
    """Backpropagate from ``root``: leaf grads accumulate, interior grads are recomputed.

    ``create_graph=True`` builds the gradients as Values instead (``second_order``).
    """
    if create_graph:
        from . import second_order

        return second_order.backward(root, grad)
    data = root.data
    seed = 1.0 if grad is None and type(data) is float else seed_of(root, grad)
    if not root.requires_grad:
        raise RuntimeError(
            "backward: the root does not require grad (it was built from constants, "
            "inside no_grad(), or from detached Values)"
        )
    if not (math.isfinite(data) if type(data) is float else _finite(data)):
        _warn_forward_nonfinite(root)
    nodes = topo_order(root)
    leaves, interior = [], []
    for n in nodes:
        if n._op is None:
            leaves.append((n, n._grad))
        else:
            n._grad = None
            interior.append(n)
    anomaly = not modes.plain and modes.anomaly
    if hooks.grad_hooks:  # a separate pass only while some hook is registered: no cost otherwise
        _hooked_pass(root, seed, nodes, leaves, anomaly)
    else:
        if type(seed) is float and root._op is not None:
            root._grad = seed  # (reset just above: the one contribution, without a call)
        else:
            accumulate(root, seed)
        if anomaly:
            _backward_checked(interior)
        else:
            _backward(interior)
    _check_leaves(leaves, nodes)


def _backward(interior: list[Value]) -> None:
    """The chain rule over the nodes made by ops (parents first), from the last one back."""
    for n in reversed(interior):
        g = n._grad
        op = n._op
        x = n._x
        if type(g) is float and op.uses_locals and type(x) is not tuple:
            # A scalar op of one or two parents, grad * local (every scalar op): the hot path.
            if x.requires_grad:
                c = g * n._dx
                pg = x._grad
                x._grad = c if pg is None else pg + c
            y = n._y
            if type(y) is Value and y.requires_grad:
                c = g * n._dy
                pg = y._grad
                y._grad = c if pg is None else pg + c
            continue
        if g is None:
            continue
        if type(x) is tuple:  # an op of more than two parents (linear with a bias, the scalar softmax)
            cs = contributions(n, g) if op.uses_locals else op.backward(n._dx, g, x)
            for p, c in zip(x, cs):
                if c is not None and p.requires_grad:
                    accumulate(p, c)
            continue
        y = n._y
        if type(y) is not Value:
            y = None  # one parent (or a NumberOp's number)
        if not op.uses_locals:  # a VJP: matmul, reductions, shapes, indexing, tensor softmax
            cs = op.backward(n._dx, g, (x,) if y is None else (x, y))
            if x.requires_grad and cs[0] is not None:
                accumulate(x, cs[0])
            if y is not None and y.requires_grad and cs[1] is not None:
                accumulate(y, cs[1])
            continue
        if x.requires_grad:  # grad * local on arrays: accumulate sums over broadcast axes
            loc = n._dx
            accumulate(x, g if loc is ONE else g * loc)
        if y is not None and y.requires_grad:
            loc = n._dy
            accumulate(y, g if loc is ONE else g * loc)


def _backward_checked(interior: list[Value]) -> None:
    """``_backward`` under ``detect_anomaly``: the first NaN/Inf raises, naming the op and its line."""
    for n in reversed(interior):
        g = n._grad
        if g is not None:
            _propagate(n, g, True)


def _propagate(n: Value, g: Any, anomaly: bool) -> None:
    """Send ``n``'s gradient ``g`` to its parents (checked for NaN/Inf under detect_anomaly)."""
    op = n._op
    for p, c in zip(n._prev, contributions(n, g)):
        if c is None or not p.requires_grad:
            continue
        if anomaly and not _finite(c):
            raise AnomalyError(
                f"{op.name}'s backward produced NaN/Inf for its input {p.label or p.op or 'leaf'!s} "
                f"(shape {p.shape}) from a finite upstream gradient; the {op.name} node was "
                f"created at {n._trace}" if _finite(g) else
                f"{op.name} received a NaN/Inf gradient (created at {n._trace})"
            )
        accumulate(p, c)


def _hooked_pass(root: Value, seed: Any, nodes: list[Value], leaves: list[tuple[Value, Any]], anomaly: bool) -> None:
    """Backward with gradient hooks: each node's complete gradient goes through its hooks first.

    Reverse creation order reaches a node only after all its children, so its
    gradient for this pass is complete there.  Leaves collect this pass's
    gradient on its own, so that their hooks see it rather than the running total.
    """
    before = {id(leaf): g for leaf, g in leaves}
    for leaf, _ in leaves:
        leaf._grad = None
    accumulate(root, seed)
    table = hooks.grad_hooks
    for n in reversed(nodes):
        g = n._grad
        leaf = n._op is None
        if g is not None:
            fns = table.get(n)
            if fns:
                g = n._grad = hooks.run_grad_hooks(n, fns, g)
            if not leaf:
                _propagate(n, g, anomaly)
                continue
        if leaf:
            old = before[id(n)]
            n._grad = g if old is None else (old if g is None else old + g)


def _finite(x: Any) -> bool:
    if type(x) is float or x.ndim == 0:
        return math.isfinite(x)
    return math.isfinite(_sum_of_squares(x)) or bool(np.isfinite(x).all())


def _sum_of_squares(x: np.ndarray) -> Any:
    """NaN/Inf when any element is (or, rarely, on overflow: callers then test exactly).

    One BLAS dot product: a cheaper pass over the data than a sum or ``np.isfinite``
    (``np.vdot``: ``ndarray.dot`` would warn on an overflow, which is no error here).
    """
    return np.vdot(x, x)


def _check_leaves(leaves: list[tuple[Value, Any]], nodes: list[Value]) -> None:
    """No silent NaN: warn, naming the op, if backward made a leaf's gradient non-finite."""
    # One running total over all new leaf gradients is NaN/Inf if any element is: a single
    # cheap test in the common case, the per-leaf search only when it fails.
    total = 0.0
    owned: set[int] = set()
    for leaf, before in leaves:
        g = leaf._grad
        if g is not before:  # backward never sets a gradient back to None
            if type(g) is not float:
                # Each leaf owns its gradient: a pass-through (add, a reshape's view, a broadcast) can
                # hand several nodes one array, or a read-only view; a copy keeps in-place edits local.
                if g.base is not None or id(g) in owned or not g.flags.writeable:
                    g = leaf._grad = g.copy()
                owned.add(id(g))
                total += _sum_of_squares(g)
            else:
                total += g
    if math.isfinite(total):
        return
    for leaf, before in leaves:
        g = leaf._grad
        if g is None or g is before or _finite(g):
            continue
        if before is not None and not _finite(before):
            continue
        culprit = _first_nonfinite_backward(nodes)
        warnings.warn(
            f"backward produced a NaN/Inf gradient for {leaf.label or 'a leaf'} (shape {leaf.shape})"
            + (f", first in the backward of {culprit}" if culprit else "")
            + "; run under tl.detect_anomaly() to see the line that built it",
            NonFiniteWarning,
            stacklevel=user_stacklevel(),
        )
        return


def _first_nonfinite_backward(nodes: list[Value]) -> str:
    """Name the first op (in backward order) that turned a finite gradient non-finite."""
    for n in reversed(nodes):
        if n._op is None or n._grad is None or not _finite(n._grad):
            continue
        for p, c in zip(n._prev, contributions(n, n._grad)):
            if c is not None and not _finite(c):
                return f"{n._op.name} (node {n.label or n._op.name}, into {p.label or p.op or 'a leaf'})"
    return ""


def _warn_forward_nonfinite(root: Value) -> None:
    """Name the first node (in creation order) whose value is NaN/Inf."""
    culprit = ""
    for n in topo_order(root):
        if not _finite(n.data):
            name = n.label or "unlabelled"
            culprit = (f"; it first appears in the output of {n._op.name} ({name})" if n._op is not None
                       else f"; the input {name} is already NaN/Inf")
            break
    warnings.warn(
        f"backward: the root's value is NaN/Inf{culprit}; gradients will not be meaningful",
        NonFiniteWarning,
        stacklevel=user_stacklevel(),
    )
