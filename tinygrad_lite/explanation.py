"""``explain(root, wrt)``: every path from ``wrt`` to ``root``, its chain-rule product, and what cancels.

The local derivative on each edge comes from the op's formula template
(``tinygrad_lite.ops``) with node symbols substituted; SymPy multiplies,
simplifies and finds the factors that cancel.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from .autograd import local
from .display import join_terms
from .naming import fmt, formula, graph_nodes, node_names
from .ops import number_literal
from .value import Value

MAX_PATHS = 2000


@dataclass
class PathEdge:
    """The edge parent → child with its local derivative ∂child/∂parent."""

    parent: Value
    child: Value
    local: float
    formula: str
    symbolic: sympy.Expr


@dataclass
class Cancellation:
    """``factor`` is multiplied in on edge ``numerator`` and divided out on edge ``denominator``."""

    factor: sympy.Expr
    numerator: int
    denominator: int


@dataclass
class Path:
    edges: list[PathEdge]
    product: float
    expression: sympy.Expr
    simplified: sympy.Expr
    cancellations: list[Cancellation] = field(default_factory=list)

    @property
    def cancelled(self) -> list[sympy.Expr]:
        """The factors that cancel along this path."""
        return [c.factor for c in self.cancellations]

    @property
    def formula(self) -> str:
        """The simplified product in the book's notation: ``ŷ0 − 1``, ``−2·ŷ0·(ŷ0 − 1)²``."""
        return _show(self.simplified)

    @property
    def nodes(self) -> list[Value]:
        return [self.edges[0].parent] + [e.child for e in self.edges]


@dataclass
class Explanation:
    root: Value
    wrt: Value
    paths: list[Path]
    names: dict[Value, str]

    @property
    def total(self) -> float:
        """Σ over paths of the products: ∂root/∂wrt (equal to ``wrt.grad`` after one backward)."""
        return float(sum(p.product for p in self.paths))

    @property
    def total_expression(self) -> sympy.Expr:
        """Σ over paths of the simplified forms, kept as that sum (as the seed writes MSE's total)."""
        if len(self.paths) == 1:
            return self.paths[0].simplified
        return sympy.Add(*(p.simplified for p in self.paths), evaluate=False)

    @property
    def formula(self) -> str:
        """The total in the book's notation, as the sum of the per-path forms: ``−2·ŷ0·(ŷ0 − 1)² − 2·ŷ0·ŷ1²…``."""
        return join_terms((_show(p.simplified) for p in self.paths), "−")  # each path's form, in path order

    def latex(self) -> str:
        r"""The explanation as LaTeX (an ``aligned`` block; ``\hat{y}_{0}``, cancelled factors in ``\cancel``)."""
        from .display import explanation_latex

        return explanation_latex(self)

    def __repr__(self) -> str:
        r, w = self.names[self.root], self.names[self.wrt]
        return f"<Explanation ∂{r}/∂{w} = {fmt(self.total, 6)} over {len(self.paths)} path(s); print() it for the steps>"

    def _repr_latex_(self) -> str:
        return f"$$\n{self.latex()}\n$$"

    def __str__(self) -> str:
        r, w = self.names[self.root], self.names[self.wrt]
        lines = [f"∂{r}/∂{w} = {fmt(self.total, 6)} over {len(self.paths)} path(s)"]
        for k, path in enumerate(self.paths, 1):
            chain = " → ".join(self.names[n] for n in path.nodes)
            lines.append(f"path {k}: {chain}")
            for e in path.edges:
                lines.append(f"    ∂{self.names[e.child]}/∂{self.names[e.parent]} = {e.formula} = {fmt(e.local, 6)}")
            factors = " × ".join(e.formula for e in path.edges)
            lines.append(f"    product: {factors} = {_show(path.simplified)} = {fmt(path.product, 6)}")
            if path.cancellations:
                lines.append("    cancels: " + ", ".join(_show(c.factor) for c in path.cancellations))
            else:
                lines.append("    nothing cancels")
        if len(self.paths) > 1:
            lines.append(f"total: {self.formula} = {fmt(self.total, 6)}")
        return "\n".join(lines)


def _show(expr: sympy.Expr) -> str:
    return str(expr).replace("**2", "²").replace("**", "^").replace("*", "·").replace("-", "−")


@functools.lru_cache(maxsize=4096)
def _parsed(template: str, names: tuple[str, ...]) -> sympy.Expr:
    """A formula template parsed once, over placeholder symbols for ``names``."""
    return sympy.sympify(template, locals={k: sympy.Symbol(f"_{k}_") for k in names})


def _instantiate(template: str, values: dict[str, sympy.Expr]) -> sympy.Expr:
    """The template with its names replaced by expressions (parsing dominates explain's time otherwise)."""
    expr = _parsed(template, tuple(sorted(values)))
    return expr.xreplace({sympy.Symbol(f"_{k}_"): v for k, v in values.items()})


def _symbols(nodes: list[Value], names: dict[Value, str]) -> dict[Value, sympy.Expr]:
    """A SymPy expression per node: a symbol for named/leaf nodes, else the op's expr of its parents."""
    syms: dict[Value, sympy.Expr] = {}
    for n in nodes:
        if not n._prev and not n.requires_grad and n.size == 1 and not n.label:
            syms[n] = sympy.sympify(number_literal(n.item()))
        elif n._prev and not n.label and n._op.expr is not None and n.size == 1:
            syms[n] = _instantiate(n._op.expr, _operands(n, syms))
        else:
            syms[n] = sympy.Symbol(names[n])
    return syms


def _operands(n: Value, syms: dict[Value, sympy.Expr]) -> dict[str, sympy.Expr]:
    """What x, y and c (a NumberOp's number, exact where it is simple) stand for in n's templates."""
    local = {k: syms[p] for k, p in zip(("x", "y"), n._prev)}
    if n._number is not None:
        local["c"] = _exact(n._number)
    return local


@functools.lru_cache(maxsize=1024)
def _exact(c: float) -> sympy.Expr:
    return sympy.sympify(number_literal(c))


def _edge_symbolic(child: Value, i: int, syms: dict[Value, sympy.Expr]) -> sympy.Expr:
    op = child._op
    local = {"out": syms[child], **getattr(op, "symbols", {}), **_operands(child, syms)}
    group = getattr(op, "group", None)
    if group is not None:
        for j, ref in enumerate(group.outputs):
            sib = ref()
            local[f"s{j}"] = syms.get(sib, sympy.Symbol(f"ŷ{j}")) if sib is not None else sympy.Symbol(f"ŷ{j}")
    template = op.formula(i) if op.uses_locals or child.size == 1 else "1"
    return _instantiate(template, local)


def _factor_list(expr: sympy.Expr) -> list[tuple[sympy.Expr, Any]]:
    """(base, multiplicity) of each factor; powers with a symbolic exponent defeat factor_list."""
    try:
        return sympy.factor_list(expr)[1]
    except (TypeError, sympy.PolynomialError):  # e.g. a Float factor (x + 1e-5): no polynomial over it
        return [a.as_base_exp() for a in sympy.Mul.make_args(expr) if not a.is_Number]


def _factors(expr: sympy.Expr) -> tuple[Counter, Counter]:
    """Non-constant factors of the numerator and of the denominator, with multiplicity."""
    num, den = sympy.fraction(sympy.together(expr))
    out = []
    for part in (num, den):
        counts: Counter = Counter()
        for base, mult in _factor_list(part):
            counts[base] += int(mult) if isinstance(mult, (int, sympy.Integer)) else 1  # x**e: the base once
        out.append(counts)
    return out[0], out[1]


def _cancellations(edges: list[PathEdge]) -> list[Cancellation]:
    per_edge = [_factors(e.symbolic) for e in edges]
    found = []
    for i, (num_i, _) in enumerate(per_edge):
        for base in num_i:
            for j, (_, den_j) in enumerate(per_edge):
                if j != i and base in den_j and all(c.factor != base for c in found):
                    found.append(Cancellation(base, i, j))
    return found


def _needed(raw: list[list[tuple[Value, Value, int]]]) -> list[Value]:
    """The nodes whose symbols the paths' edges use (in creation order), not the whole graph."""
    need = set()
    for edges in raw:
        for p, c, _ in edges:
            need.update((p, c), c._prev)
            group = getattr(c._op, "group", None)
            if group is not None:
                need.update(s for s in (ref() for ref in group.outputs) if s is not None)
    stack = list(need)
    while stack:  # an unlabelled node's symbol is its op's expression of its parents
        n = stack.pop()
        for p in n._prev if n._prev and not n.label and n._op.expr is not None else ():
            if p not in need:
                need.add(p)
                stack.append(p)
    return sorted(need, key=lambda n: n._id)


def explain(root: Value, wrt: Value, index: Any = None) -> Explanation:
    """Every path from ``wrt`` to ``root`` with local derivatives, products and cancellations.

    In a tensor graph, ``index`` picks the element of ``wrt`` to explain (required when
    ``wrt`` has more than one element); the paths are those of the scalar graph behind it
    (``tinygrad_lite.unrolling``), see ``tensor_explanation.explain_element``.

    >>> import tinygrad_lite as tl, tinygrad_lite.functional as F
    >>> z = [tl.Value(v, label=f"z{i}") for i, v in enumerate([2.0, 1.0, 0.1])]
    >>> L = F.cross_entropy(z, 0)
    >>> e = tl.explain(L, z[0])
    >>> e.paths[0].simplified, e.paths[0].cancelled
    (ŷ0 - 1, [ŷ0])
    """
    if not isinstance(root, Value) or not isinstance(wrt, Value):
        raise TypeError("explain: root and wrt must be Values")
    if not root._prev or not root.requires_grad:
        what = "a leaf" if not root._prev else "built without gradients (under no_grad(), or from constants only)"
        raise ValueError(
            f"explain: the root {root.label or repr(root)} is {what}, so it has no graph to explain; "
            "build it from Values that require gradients, outside no_grad()"
        )
    nodes = graph_nodes(root)
    names = node_names(nodes)
    if wrt is root:
        raise ValueError(f"explain: wrt is the root {names[root]} itself, and ∂{names[root]}/∂{names[root]} = 1 "
                         "has no path to explain; pass a Value the root was computed from")
    if wrt not in names:
        raise ValueError(
            f"explain: {root.label or 'the root'} does not depend on {wrt.label or 'wrt'}: "
            "no path leads from it to the root, so its gradient is 0"
        )
    depends = {wrt}
    for n in nodes:  # creation order: parents first
        if any(p in depends for p in n._prev):
            depends.add(n)
    if index is not None or any(n.size != 1 or type(n.data) is not float for n in depends):
        from .tensor_explanation import explain_element

        return explain_element(root, wrt, index)
    raw: list[list[tuple[Value, Value, int]]] = []
    stack: list[tuple[Value, list[tuple[Value, Value, int]]]] = [(root, [])]
    while stack:
        n, suffix = stack.pop()
        if n is wrt:
            raw.append(suffix)
            if len(raw) > MAX_PATHS:
                raise ValueError(f"explain: more than {MAX_PATHS} paths from {names[wrt]} to {names[root]}; explain a smaller graph")
            continue
        for i in reversed(range(len(n._prev))):
            p = n._prev[i]
            if p in depends:
                stack.append((p, [(p, n, i)] + suffix))
    needed = _needed(raw)
    for n in needed:  # softmax siblings off every path to the root are still named in formulas
        if n not in names:
            names[n] = n.label or f"ŷ{n._op.i}"
    syms = _symbols(needed, names)
    paths = []
    for edges_raw in raw:
        edges = [PathEdge(p, c, float(np.asarray(local(c, i))), formula(c, i, names), _edge_symbolic(c, i, syms))
                 for p, c, i in edges_raw]
        expression = sympy.Mul(*[e.symbolic for e in edges], evaluate=False)
        simplified = sympy.factor(sympy.cancel(sympy.Mul(*[e.symbolic for e in edges])))
        product = float(np.prod([e.local for e in edges])) if edges else 1.0
        paths.append(Path(edges, product, expression, simplified, _cancellations(edges)))
    return Explanation(root, wrt, paths, names)
