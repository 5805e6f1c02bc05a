"""``unroll(root)``: a tensor graph rebuilt from scalar Values, one node per element and op.

Each op class has its own scalar rule (``RULES``); an op without one is refused
by name, never approximated.  Elementwise ops reuse the op itself on floats;
matmul and reductions become n-ary scalar sums (no ``0 +`` seeds); max is a
node of its own (never an existing element); softmax rows are the scalar
softmax groups of ``ops/softmax.py``, whose max shift stays inside the forward,
so no paths that cancel to 0 appear.  Before an ``Unrolled`` is handed out,
its gradients are checked against the tensor graph's, computed on the side.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import functional as F
from . import ops
from ._state import enable_grad
from .errors import NonFiniteWarning
from .naming import graph_nodes, node_names
from .ops.base import ONE, LocalOp
from .steps import GraphView
from .value import Value, _node

MAX_NODES = 5000


class UnrollError(ValueError):
    """A graph that cannot be unrolled: an op without a scalar rule, or too many nodes."""


# ---------------------------------------------------------------- n-ary scalar ops

class SumOf(LocalOp):
    """s = Σ_k x_k over any number of scalar parents (a matmul entry, a sum reduction)."""

    name, formulas = "sum", ("1",)

    def forward(self, *xs: float):
        return math.fsum(xs), (ONE,) * len(xs)


class MeanOf(LocalOp):
    """m = (1/n) Σ_k x_k; the 1/n appears in formulas as named sizes (1/N, 1/(N·K))."""

    name = "mean"

    def __init__(self, sizes: dict[str, int]):
        self.sizes = sizes
        self.n = math.prod(sizes.values())
        self.formulas = ("1/" + ("*".join(sizes) if len(sizes) == 1 else "(" + "*".join(sizes) + ")"),)

    @property
    def symbols(self) -> dict[str, Any]:
        """The size names as SymPy symbols (SymPy would read N as its numeric-evaluation function)."""
        import sympy

        return {k: sympy.Symbol(k, positive=True) for k in self.sizes}

    def forward(self, *xs: float):
        return math.fsum(xs) / self.n, (1.0 / self.n,) * len(xs)

    def graph_local(self, i: int, x: Any, y: Any, out: Any) -> float:
        """The local 1/n as a number, for create_graph (the template names the sizes)."""
        return 1.0 / self.n


class MaxOf(LocalOp):
    """The maximum as a node of its own; tied maxima share the gradient (as the tensor ``max``)."""

    name = "max"

    pick = staticmethod(max)

    def forward(self, *xs: float):
        m = self.pick(xs)
        ties = sum(1 for x in xs if x == m)
        self.shares = tuple((1.0 / ties if x == m else 0.0) for x in xs)
        return m, self.shares

    def formula(self, i: int) -> str:
        s = self.shares[i]
        return "1" if s == 1.0 else ("0" if s == 0.0 else f"1/{round(1 / s)}")


class MinOf(MaxOf):
    """The minimum, with tied minima sharing the gradient (as the tensor ``min``)."""

    name = "min"
    pick = staticmethod(min)


def _scalar(op: ops.Op, parents: tuple[Value, ...], number: float | None = None) -> Value:
    if number is not None:  # a number operand (x * 2.0) is part of its node, not a parent
        from .value import _with_number

        return _with_number(op, parents[0], number)
    out, locs = op.forward(*(p.data for p in parents))
    locs = tuple(loc if loc is ONE else float(loc) for loc in locs)
    return _node(op, float(out), locs, parents, any(p.requires_grad for p in parents))


# ---------------------------------------------------------------- rules: one per op class

Rule = Callable[[Value, list[np.ndarray], "_Builder"], np.ndarray]


def _elementwise(node: Value, args: list[np.ndarray], b: "_Builder") -> np.ndarray:
    """The same op on the matching (broadcast) elements of its parents (and its number operand)."""
    shape = node.shape
    number = getattr(node, "_number", None)
    spread = [np.broadcast_to(a, shape) for a in args]
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        out[idx] = _scalar(node._op, tuple(a[idx] for a in spread), number)
    return out


def _lanes(a: np.ndarray, axes: tuple[int, ...]) -> tuple[np.ndarray, tuple[int, ...]]:
    """``a`` with the given axes moved last and flattened into one: (kept…, lane)."""
    kept = tuple(i for i in range(a.ndim) if i not in axes)
    moved = np.transpose(a, kept + tuple(axes))
    keep_shape = moved.shape[:len(kept)]
    return moved.reshape(keep_shape + (-1,)), keep_shape


def _reduction(make: Callable[[Value, np.ndarray], ops.Op]) -> Rule:
    def rule(node: Value, args: list[np.ndarray], b: "_Builder") -> np.ndarray:
        (a,) = args
        lanes, keep_shape = _lanes(a, node._op.axes)
        out = np.empty(keep_shape, dtype=object)
        for idx in np.ndindex(*keep_shape):
            out[idx] = _scalar(make(node, a), tuple(lanes[idx]))
        return out.reshape(node.shape)

    return rule


_SUM = SumOf()


def _size_names(shape: tuple[int, ...], axes: tuple[int, ...]) -> dict[str, int]:
    """Names for the sizes a mean divides by: N for the batch axis, K for the last, D<i> between.

    Axes of size 1 divide by nothing and are left out.
    """
    def name(i: int) -> str:
        if i == 0:
            return "N"
        return "K" if i == len(shape) - 1 else f"D{i}"

    return {name(i): shape[i] for i in axes if shape[i] != 1} or {"1": 1}


def _matmul(node: Value, args: list[np.ndarray], b: "_Builder") -> np.ndarray:
    """Each entry Σ_k a[i,k]·b[k,j] as a sum node over its products (one product: no sum)."""
    a, w = args
    a2 = a[None, :] if a.ndim == 1 else a
    w2 = w[:, None] if w.ndim == 1 else w
    batch = np.broadcast_shapes(a2.shape[:-2], w2.shape[:-2])
    a3 = np.broadcast_to(a2, batch + a2.shape[-2:])
    w3 = np.broadcast_to(w2, batch + w2.shape[-2:])
    (m, k), n = a2.shape[-2:], w2.shape[-1]
    out = np.empty(batch + (m, n), dtype=object)
    for bi in np.ndindex(*batch):
        for i in range(m):
            for j in range(n):
                terms = tuple(_scalar(ops.MUL, (a3[bi + (i, q)], w3[bi + (q, j)])) for q in range(k))
                out[bi + (i, j)] = terms[0] if k == 1 else _scalar(_SUM, terms)
    if a.ndim == 1:
        out = out[..., 0, :]
    if w.ndim == 1:
        out = out[..., 0]
    return out.reshape(node.shape)


def _linear(node: Value, args: list[np.ndarray], b: "_Builder") -> np.ndarray:
    """``F.linear``: the matmul rule with the weight (out, in) read transposed; a bias is then an
    add of its element to each entry (every product sum first, then every add, as matmul + add)."""
    out = _matmul(node, [args[0], np.swapaxes(args[1], -1, -2)], b)
    if len(args) == 2:
        return out
    bias = np.broadcast_to(args[2], out.shape)
    summed = np.empty(out.shape, dtype=object)
    for idx in np.ndindex(*out.shape):
        summed[idx] = _scalar(ops.ADD, (out[idx], bias[idx]))
    return summed


def _fused_parts(nodes: list[Value], names: dict[Value, str]) -> dict[Value, str]:
    """Names for the x·Wᵀ part of each linear node with a bias: the node's own name, or for a
    labelled node the next free ``linear<k>``: what that part was called as a node of its own."""
    taken, parts, k = set(names.values()), {}, 0
    for n in nodes:
        if type(n._op) is ops.Linear and len(n._prev) == 3:
            if not n.label:
                parts[n] = names[n]
                continue
            while f"linear{k}" in taken:
                k += 1
            parts[n] = f"linear{k}"
            taken.add(parts[n])
    return parts


def _var(node: Value, args: list[np.ndarray], b: "_Builder") -> np.ndarray:
    """var (std) per lane as the book writes it: Σ (x − mean)² / (n − correction) (then its square root)."""
    (a,) = args
    op = node._op
    lanes, keep_shape = _lanes(a, op.axes)
    out = np.empty(keep_shape, dtype=object)
    for idx in np.ndindex(*keep_shape):
        xs = tuple(lanes[idx])
        mean = _scalar(MeanOf(_size_names(a.shape, op.axes)), xs)
        total = _scalar(_SUM, tuple(_scalar(ops.SQUARE, (_scalar(ops.SUB, (x, mean)),)) for x in xs))
        var = _scalar(ops.DIV.numbered[0], (total,), float(op.dof))
        out[idx] = _scalar(ops.SQRT, (var,)) if op.root else var
    return out.reshape(node.shape)


def _softmax_group(fn: Callable[[list[Value]], list[Value]]) -> Rule:
    def rule(node: Value, args: list[np.ndarray], b: "_Builder") -> np.ndarray:
        (a,) = args
        axis = node._op.axis if a.ndim else 0
        moved = np.moveaxis(a, axis, -1) if a.ndim else a.reshape(1)
        out = np.empty(moved.shape, dtype=object)
        for idx in np.ndindex(*moved.shape[:-1]):
            out[idx] = fn(list(moved[idx]))
        return np.moveaxis(out, -1, axis).reshape(node.shape) if a.ndim else out.reshape(())

    return rule


def _scalar_group(node: Value, args: list[np.ndarray], b: "_Builder") -> np.ndarray:
    """One output of a scalar softmax group: the whole group is rebuilt once, then shared."""
    group = node._op.group
    if group not in b.groups:
        fn = F.log_softmax if isinstance(node._op, ops.LogSoftmaxOut) else F.softmax
        b.groups[group] = fn([np.asarray(a).reshape(()).item() for a in args])
    return _obj(b.groups[group][node._op.i])


def _view(fn: Callable[[Value, np.ndarray], np.ndarray]) -> Rule:
    """Shape ops and indexing pick existing scalars: no new nodes."""
    def rule(node: Value, args: list[np.ndarray], b: "_Builder") -> np.ndarray:
        out = fn(node, args[0])
        return out if isinstance(out, np.ndarray) else _obj(out)

    rule.is_view = True  # type: ignore[attr-defined]
    return rule


def _obj(v: Value) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = v
    return out


def _max_op(node: Value, a: np.ndarray) -> ops.Op:
    return MaxOf()


def _min_op(node: Value, a: np.ndarray) -> ops.Op:
    return MinOf()


def _mean_op(node: Value, a: np.ndarray) -> ops.Op:
    return MeanOf(_size_names(a.shape, node._op.axes))


_ELEMENTWISE_MODULE = ops.elementwise.__name__
RULES: dict[type, Rule] = {
    ops.MatMul: _matmul,
    ops.Linear: _linear,
    ops.Sum: _reduction(lambda node, a: _SUM),
    ops.Mean: _reduction(_mean_op),
    ops.Max: _reduction(_max_op),
    ops.Min: _reduction(_min_op),
    ops.Var: _var,
    ops.Std: _var,
    ops.Reshape: _view(lambda node, a: a.reshape(node.shape)),
    ops.Transpose: _view(lambda node, a: np.transpose(a, node._op.perm)),
    ops.GetItem: _view(lambda node, a: a[node._op.index]),
    ops.Softmax: _softmax_group(F.softmax),
    ops.LogSoftmax: _softmax_group(F.log_softmax),
    ops.SoftmaxOut: _scalar_group,
    ops.LogSoftmaxOut: _scalar_group,
    SumOf: _elementwise, MeanOf: _elementwise, MaxOf: _elementwise, MinOf: _elementwise,
}


def _where(node: Value, args: list[np.ndarray], b: "_Builder") -> np.ndarray:
    """Each element is a where of one condition: its edges carry that element's 1 and 0."""
    cond = np.broadcast_to(node._op.cond, node.shape)
    spread = [np.broadcast_to(a, node.shape) for a in args]
    out = np.empty(node.shape, dtype=object)
    for idx in np.ndindex(*node.shape):
        out[idx] = _scalar(ops.Where(np.asarray(cond[idx])), tuple(a[idx] for a in spread))
    return out


def _cat(node: Value, args: list[np.ndarray], b: "_Builder") -> np.ndarray:
    join = np.stack if node._op.stack else np.concatenate
    return join([np.asarray(a) for a in args], axis=node._op.axis)


_cat.is_view = True  # type: ignore[attr-defined]

# The ops of ops/pointwise.py and ops/shape.py: elementwise ones by the same rule, the rest as views.
RULES.update({cls: _elementwise for cls in (
    ops.pointwise.Sin, ops.pointwise.Cos, ops.pointwise.Log1p, ops.pointwise.Erf, ops.Clamp, ops.pointwise.Maximum,
    ops.pointwise.Minimum, ops.LeakyRelu, ops.Elu, ops.pointwise.Silu, ops.Gelu)})
RULES.update({
    ops.Squeeze: RULES[ops.Reshape], ops.Unsqueeze: RULES[ops.Reshape], ops.Flatten: RULES[ops.Reshape],
    ops.Permute: RULES[ops.Transpose], ops.Expand: _view(lambda node, a: np.broadcast_to(a, node.shape)),
    ops.Cat: _cat, ops.Where: _where,
})


def register(op_class: type, rule: Rule) -> None:
    """Give an op class its scalar rule (for ops defined outside ``tinygrad_lite.ops``)."""
    RULES[op_class] = rule


def rule_for(op: ops.Op) -> Rule:
    """The scalar rule of ``op``'s own class (a subclass may compute something else: min is not max);
    every op of ``ops/elementwise.py`` is elementwise."""
    cls = type(op)
    if cls in RULES:
        return RULES[cls]
    if cls.__module__ == _ELEMENTWISE_MODULE:
        return _elementwise
    raise UnrollError(
        f"unroll: no scalar rule for the op {op.name!r} ({cls.__name__}); it cannot be unrolled or "
        "explained element by element. Explain a graph without it"
        + (" (a custom tl.Function has no scalar rule)." if cls.__name__ == "FunctionOp" else
           ", or give it a rule with tinygrad_lite.unrolling.register(op_class, rule).")
    )


def _cost(n: Value) -> int:
    """Scalar nodes the rule of ``n`` creates (checked against ``max_nodes`` before building)."""
    if not n._prev:
        return n.size
    rule = rule_for(n._op)
    if getattr(rule, "is_view", False):
        return 0
    if rule is _matmul or rule is _linear:
        k = n._prev[0].shape[-1]
        return n.size * (k + (k > 1) + (len(n._prev) == 3))  # (a bias: one add per entry)
    if rule is _scalar_group:
        return 1
    return n.size


# ---------------------------------------------------------------- building and checking

def element_name(name: str, index: tuple[int, ...]) -> str:
    """``Z`` and (0, 1) → ``Z[0,1]``; a 0-d tensor keeps its name."""
    return name if not index else f"{name}[{','.join(map(str, index))}]"


class _Builder:
    def __init__(self) -> None:
        self.groups: dict[Any, list[Value]] = {}


@dataclass
class Unrolled:
    """The scalar graph behind ``tensor_root``: ``scalars[t]`` holds tensor ``t``'s elements."""

    tensor_root: Value
    root: Any  # a scalar Value, or an object array of them for a tensor root
    scalars: dict[Value, np.ndarray]
    origin: dict[Value, tuple[Value, tuple[int, ...]]]  # scalar → (tensor, index) it stands for
    names: dict[Value, str]  # display names of the tensor nodes
    tensor_grads: dict[Value, Any]  # the tensor graph's gradients, computed on the side
    count: int
    # A scalar inside an op that stands for an element of a part of it with data and a name of its
    # own (linear's x·Wᵀ before the bias) → (that part, as a constant Value, index); not in origin.
    inner: dict[Value, tuple[Value, tuple[int, ...]]] = field(default_factory=dict)

    def element(self, t: Value, index: tuple[int, ...] = ()) -> Value:
        """The scalar Value of element ``index`` of tensor ``t``."""
        return self.scalars[t][index]

    def grad(self, t: Value) -> Any:
        """The tensor graph's gradient of ``t`` (zeros where ``t`` does not reach the root)."""
        g = self.tensor_grads.get(t)
        return np.zeros(t.shape) if g is None else np.asarray(g)


# Piecewise ops stay symbols (relu0[i,j]): SymPy's Max and Abs are slow and cancel nothing.
_PIECEWISE = (ops.elementwise.Relu, ops.elementwise.Abs)


def _labelled(n: Value) -> bool:
    """Elements named after their tensor: leaves, user-labelled nodes, and ops SymPy keeps as symbols."""
    if not n._prev:
        return n.requires_grad or bool(n.label)
    return bool(n.label) or n._op.expr is None or isinstance(n._op, _PIECEWISE)


def unroll(root: Value, max_nodes: int = MAX_NODES) -> Unrolled:
    """``root``'s computation rebuilt from scalar Values, leaves labelled by element (``Z[0,1]``).

    Refused (``UnrollError``) over ``max_nodes`` scalar nodes or for an op without a
    scalar rule; a gradient that differs from the tensor graph's is a ``RuntimeError``.

    >>> import numpy as np, tinygrad_lite as tl
    >>> Z = tl.Value(np.array([[1.0, 2.0], [0.5, -1.0]]), label="Z")
    >>> u = tl.unroll(Z.softmax(-1).sum())
    >>> u.element(Z, (0, 1)).label, u.count
    ('Z[0,1]', 9)
    """
    if not isinstance(root, Value):
        raise TypeError(f"unroll: root must be a Value, got {type(root).__name__}")
    nodes = graph_nodes(root)
    count = sum(_cost(n) for n in nodes)
    if count > max_nodes:
        raise UnrollError(
            f"unroll: the graph would have {count} scalar nodes, more than max_nodes={max_nodes}. "
            "Explain a smaller batch (e.g. the first rows: X[:2], y[:2]) or fewer classes, "
            "or raise max_nodes= if you really want all of it."
        )
    names = node_names(nodes)
    parts = _fused_parts(nodes, names)
    inner: dict[Value, tuple[Value, tuple[int, ...]]] = {}
    scalars: dict[Value, np.ndarray] = {}
    origin: dict[Value, tuple[Value, tuple[int, ...]]] = {}
    b = _Builder()
    with enable_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", NonFiniteWarning)  # the tensor graph has warned already
        for n in nodes:
            if n._prev:
                rule = rule_for(n._op)
                arr = rule(n, [scalars[p] for p in n._prev], b)
                owned = not getattr(rule, "is_view", False)
            else:
                arr = np.empty(n.shape, dtype=object)
                data = np.asarray(n.data, dtype=np.float64)
                for idx in np.ndindex(*n.shape):
                    arr[idx] = Value(float(data[idx]), requires_grad=n.requires_grad)
                owned = True
            if owned:
                part = _part(n, parts, names) if n in parts else None
                label = bool(n.label) if part is not None else _labelled(n)
                for idx in np.ndindex(*n.shape):
                    v = arr[idx]
                    origin.setdefault(v, (n, idx))
                    s = v
                    if part is not None:  # linear + bias: the entry is an add; its sum is the part's element
                        s = v._prev[0]
                        inner.setdefault(s, (part, idx))
                        s.label = element_name(names[part], idx)
                    for p in s._prev:  # a matmul's products belong to the entry they sum into
                        if p not in origin and p._op is ops.MUL and n._op in (ops.MATMUL, ops.LINEAR):
                            origin[p] = (n, idx)
                    if label:
                        v.label = element_name(names[n], idx)
            scalars[n] = arr
    top = scalars[root]
    if top.size == 1:
        top.reshape(-1)[0].label = names[root]
    u = Unrolled(root, top[()] if top.ndim == 0 else top, scalars, origin, names, {}, count, inner)
    u.tensor_grads = _check(u, nodes)
    return u


def _part(n: Value, parts: dict[Value, str], names: dict[Value, str]) -> Value:
    """The x·Wᵀ part of linear node ``n`` (which has a bias) as a constant Value, named in ``names``."""
    x, w = n._prev[0].data, n._prev[1].data
    part = Value(np.asarray(x @ np.asarray(w).T, dtype=np.float64), requires_grad=False)
    names[part] = parts[n]
    return part


def _check(u: Unrolled, nodes: list[Value]) -> dict[Value, Any]:
    """Back-propagate the scalar graph and compare it, node by node, with the tensor graph's."""
    root = u.tensor_root
    if not root.requires_grad:
        return {}
    top = u.scalars[root]
    if top.size == 1:
        scalar_root = top.reshape(-1)[0]
    else:  # a tensor root is checked with a seed of ones: both sides sum its elements
        with enable_grad():
            scalar_root = _scalar(_SUM, tuple(top.reshape(-1)))
    scalar_root.backward()
    seed = 1.0 if type(root.data) is float else np.ones(root.shape, dtype=root.dtype)
    grads = GraphView(root, seed).grads  # the tensor graph's pass, on the side: no .grad is written
    for n in nodes:
        if not n.requires_grad or (n._prev and getattr(rule_for(n._op), "is_view", False)):
            continue
        want = np.asarray(grads.get(n, 0.0), dtype=np.float64)
        got = np.vectorize(lambda v: v.grad, otypes=[float])(u.scalars[n]) if n.size else np.zeros(n.shape)
        tol = (1e-12 if n.dtype == np.float64 else 1e-5) * max(1.0, float(np.max(np.abs(want), initial=0.0)))
        if not np.all(np.abs(got - want) <= tol):
            worst = float(np.max(np.abs(got - want)))
            raise RuntimeError(
                f"unroll: the scalar graph's gradient of {u.names[n]} ({n.op or 'leaf'}, shape {n.shape}) "
                f"differs from the tensor graph's by {worst:.3g}; this is a bug in a scalar rule, "
                "so nothing is explained. Please report it with the graph that shows it."
            )
    return grads


__all__ = ["unroll", "Unrolled", "UnrollError", "register", "element_name", "MAX_NODES"]
