"""Explaining one element of a tensor: the scalar paths behind a tensor graph, and the formula they share.

``explain_element(root, wrt, index)`` unrolls the graph (``tinygrad_lite.unrolling``,
whose gradients are checked against the tensor graph's first), explains the
scalar ``wrt[index]`` path by path, and then generalises: the element's formula
in index notation (∂ℓ/∂Z[i,j] = (ŷ[i,j] − y[i,j])/N) and, where one formula
holds at every element, the matrix form (∂ℓ/∂Z = (Ŷ − Y)/N).  Both are checked
numerically against the tensor backward before they are stated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy
from sympy.printing.str import StrPrinter

from . import ops
from .explanation import Explanation, _show
from .explanation import explain as explain_scalar
from .naming import graph_nodes, node_names
from .unrolling import RULES, Unrolled, element_name, unroll
from .value import Value

LETTERS = "ijklmn"
FACTOR_PATHS = 4  # totals over more paths are not factored (see total_expression)


@dataclass
class Formula:
    """A formula for every element of ``wrt``, checked against the tensor backward at each one."""

    element: str  # ∂L/∂Z[i,j] = (ŷ[i,j] − y[i,j])/N
    matrix: str  # ∂L/∂Z = (Ŷ − Y)/N
    expression: sympy.Expr  # the element formula, over symbols such as ŷ[i,j]
    indicator: str = ""  # what y means, when two cases were joined into one formula


@dataclass
class TensorExplanation(Explanation):
    """An ``Explanation`` of element ``index`` of the tensor ``tensor_wrt``, with what generalises.

    ``paths``, ``total`` and the rest are those of the scalar graph (``unrolled``);
    ``rows[k]`` is the batch row path k goes through, ``sizes`` the sizes named in the
    formulas (N, K), ``general`` the element and matrix forms where one holds everywhere.
    """

    tensor_root: Value | None = None
    tensor_wrt: Value | None = None
    index: tuple[int, ...] = ()
    unrolled: Unrolled | None = None
    rows: list[int | None] = field(default_factory=list)
    reaching_rows: list[int] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    element_formula: str = ""
    general: Formula | None = None  # the formula that holds at every element, if one does
    note: str = ""

    @property
    def total_expression(self) -> sympy.Expr:
        """The sum of the paths' simplified forms; factored only for a few paths.

        Factoring a sum over many samples' paths is a multivariate polynomial
        factorisation (seconds for 16 paths); pulling out common factors is enough there.
        """
        return _total_expression(self)

    @property
    def expected(self) -> float:
        """The tensor graph's ``wrt.grad[index]`` from one backward pass (computed on the side)."""
        return float(self.unrolled.grad(self.tensor_wrt)[self.index])

    def summary(self) -> str:
        """The batch-level lines: which rows the paths go through, named sizes, the formulas."""
        lines = []
        if self.note:
            lines.append(self.note)
        if self.paths and any(r is not None for r in self.rows):
            rows = sorted({r for r in self.rows if r is not None})
            lines.append(f"the paths go through sample row(s) {', '.join(map(str, rows))}")
        if self.sizes:
            lines.append("sizes: " + ", ".join(f"{k} = {v}" for k, v in self.sizes.items()))
        if self.element_formula:
            lines.append(self.element_formula)
        if self.general is not None:
            lines.append(f"at every element: {self.general.element}")
            lines.append(f"matrix form: {self.general.matrix}" + (f"   ({self.general.indicator})"
                                                                  if self.general.indicator else ""))
            lines.append("(checked numerically against the tensor backward at every element)")
        return "\n".join(lines)

    def __str__(self) -> str:
        head = super().__str__() if self.paths else (
            f"∂{self.names[self.root]}/∂{self.names[self.wrt]} = 0: no path")
        return head + "\n" + self.summary()


def _total_expression(e: Explanation) -> sympy.Expr:
    if len(e.paths) <= FACTOR_PATHS:
        return Explanation.total_expression.fget(e)
    return sympy.factor_terms(sympy.Add(*(p.simplified for p in e.paths)))


class _Printer(StrPrinter):
    """Positive terms first, so a formula reads ŷ − y, not −y + ŷ."""

    def _as_ordered_terms(self, expr: Any, order: Any = None) -> list:
        return sorted(super()._as_ordered_terms(expr, order), key=lambda t: t.could_extract_minus_sign())


def _display(expr: sympy.Expr) -> str:
    """``expr`` in the book's notation: −(y − ŷ)/N reads (ŷ − y)/N, −2σ(σ − 1) reads 2σ(1 − σ)."""
    if isinstance(expr, sympy.Mul):
        coeff, factors = expr.as_coeff_mul()
        adds = [a for a in factors if isinstance(a, sympy.Add)]
        negative_constant = [a for a in adds if any(t.is_Number and t < 0 for t in a.args)]
        if coeff < 0 and adds:
            flips = (negative_constant or adds)[:1]
        elif negative_constant and len(adds) > 1:  # two sign flips: (y − σ)(σ − 1) → (σ − y)(1 − σ)
            flips = [negative_constant[0], next(a for a in adds if a is not negative_constant[0])]
        else:
            flips = []
        if flips:
            coeff = -coeff if len(flips) == 1 else coeff
            rest = [-a if a in flips else a for a in factors]
            expr = sympy.Mul(*([coeff] if coeff != 1 else []), *rest, evaluate=False)
    return _show(_Printer().doprint(expr))


# ---------------------------------------------------------------- entry point

def explain_element(root: Value, wrt: Value, index: Any = None) -> TensorExplanation:
    """Explain ∂root/∂wrt[index] through the scalar graph behind a tensor graph."""
    tnames = node_names(graph_nodes(root))
    wname = tnames.get(wrt, wrt.label or "wrt")
    index = _index(wrt, index, wname)
    if root.size != 1:
        raise ValueError(
            f"explain: the root {tnames[root]} has shape {root.shape}; a gradient needs a one-element "
            "root: explain one element (e.g. losses[0]) or a reduction (losses.mean())"
        )
    if wrt._prev and getattr(RULES.get(type(wrt._op)), "is_view", False):
        raise ValueError(
            f"explain: {wname} is a {wrt.op} of another tensor and shares its elements; "
            f"explain that tensor ({tnames[wrt._prev[0]]}) instead"
        )
    u = unroll(root)
    scalar_root = u.scalars[root].reshape(-1)[0]
    ws = u.element(wrt, index)
    reaching = _reaching(u, scalar_root, wrt)
    rows = sorted({i[0] for i in reaching if i})
    if ws not in _ancestors(scalar_root):
        names = node_names(graph_nodes(scalar_root))
        names[ws] = ws.label or element_name(wname, index)
        where = (f"only the elements in row(s) {', '.join(map(str, rows))} of {wname} reach it"
                 if rows else f"no element of {wname} reaches it")
        note = f"{names[ws]} has no path to {names[scalar_root]}: {where}"
        return TensorExplanation(scalar_root, ws, [], names, root, wrt, index, u,
                                 reaching_rows=rows, note=note)
    e = explain_scalar(scalar_root, ws)
    out = TensorExplanation(e.root, e.wrt, e.paths, e.names, root, wrt, index, u,
                            rows=[_row(u, p) for p in e.paths], reaching_rows=rows, sizes=_sizes(e))
    total = out.total_expression
    general = _generalise(total, out, u, wrt, index)
    r, w = out.names[out.root], out.names[out.wrt]
    letters = tuple(LETTERS[:len(index)])
    generic = element_name(wname, letters)
    if general is None:
        out.element_formula = f"∂{r}/∂{w} = {_display(total)}"
        out.note = (f"the formula of {w} involves other elements, so no formula of {generic} "
                    "alone holds at every element") if wrt.size > 1 else ""
    else:
        at = f" at ({', '.join(letters)}) = {index if len(index) > 1 else index[0]}" if index else ""
        out.element_formula = f"∂{r}/∂{generic} = {_display(general[0])}{at}"
        out.general = _matrix_form(general, out, root, wrt, letters)
    return out


def _index(wrt: Value, index: Any, name: str) -> tuple[int, ...]:
    shape = wrt.shape
    if index is None:
        if wrt.size == 1:
            return (0,) * len(shape)
        example = ", ".join("0" for _ in shape)
        raise ValueError(
            f"explain: {name} has shape {shape}, so say which element to explain: pass index=, "
            f"e.g. tl.explain(root, {name}, index=({example}{',' if len(shape) == 1 else ''}))"
        )
    if isinstance(index, (int, np.integer)):
        index = (index,)
    try:
        items = tuple(index)
    except TypeError:
        raise _bad_index(index, shape, name) from None
    if not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in items):
        raise _bad_index(index, shape, name)
    index = tuple(int(i) for i in items)
    if len(index) != len(shape) or any(not -n <= i < n for i, n in zip(index, shape)):
        raise _bad_index(index, shape, name)
    return tuple(i % n for i, n in zip(index, shape))


def _bad_index(index: Any, shape: tuple[int, ...], name: str) -> IndexError:
    return IndexError(
        f"explain: index {index!r} is out of range for {name} of shape {shape}; "
        f"give one integer per axis ({len(shape)}), each within its size"
    )


# ---------------------------------------------------------------- batch structure

def _ancestors(v: Value) -> set[Value]:
    seen, stack = {v}, [v]
    while stack:
        for p in stack.pop()._prev:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return seen


def _reaching(u: Unrolled, scalar_root: Value, wrt: Value) -> list[tuple[int, ...]]:
    """The indices of ``wrt``'s elements that have a path to the root."""
    up = _ancestors(scalar_root)
    arr = u.scalars[wrt]
    return [idx for idx in np.ndindex(*arr.shape) if arr[idx] in up]


def _row(u: Unrolled, path: Any) -> int | None:
    """The batch row a path goes through: the index of the reduced element it passes (per-sample loss)."""
    root = u.tensor_root
    per_sample = root._prev[0] if root._prev and isinstance(root._op, (ops.Mean, ops.Sum)) else None
    for n in path.nodes:
        t, idx = u.origin.get(n, (None, ()))
        if t is per_sample and idx:
            return idx[0]
    return None


def _sizes(e: Explanation) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for p in e.paths:
        for edge in p.edges:
            sizes.update(getattr(edge.child._op, "sizes", {}))
    sizes.pop("1", None)
    return sizes


# ---------------------------------------------------------------- generalising a formula

def _generalise(expr: sympy.Expr, e: Explanation, u: Unrolled, wrt: Value,
                index: tuple[int, ...]) -> tuple[sympy.Expr, dict[sympy.Symbol, Value]] | None:
    """``expr`` with wrt's own index made generic (ŷ[0,2] → ŷ[i,j]); None if it uses other elements."""
    by_name = {name: v for v, name in e.names.items()}
    letters = tuple(LETTERS[:len(index)])
    subs, tensors = {}, {}
    for s in expr.free_symbols:
        v = by_name.get(s.name)
        where = u.inner.get(v) or u.origin.get(v)  # (linear's x·Wᵀ before its bias is a part of its own)
        if where is None:  # a size such as N
            continue
        t, idx = where
        if idx != index or t.shape != wrt.shape:
            return None
        g = sympy.Symbol(element_name(u.names[t], letters))
        subs[s], tensors[g] = g, t
    return expr.xreplace(subs), tensors


def _evaluate(expr: sympy.Expr, tensors: dict[sympy.Symbol, Any], sizes: dict[str, int],
              shape: tuple[int, ...]) -> np.ndarray:
    """``expr`` at every element: tensor symbols by their data, sizes by their values."""
    values = {s: np.asarray(t.data if isinstance(t, Value) else t, dtype=np.float64) for s, t in tensors.items()}
    values.update({s: float(sizes[s.name]) for s in expr.free_symbols if s.name in sizes})
    missing = expr.free_symbols - set(values)
    if missing:
        return np.full(shape, np.nan)
    fn = sympy.lambdify(list(values), expr, "numpy")
    return np.broadcast_to(np.asarray(fn(*values.values()), dtype=np.float64), shape)


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) <= 1e-9 * np.maximum(1.0, np.abs(b))


def _matrix_form(general: tuple[sympy.Expr, dict], e: TensorExplanation, root: Value, wrt: Value,
                 letters: tuple[str, ...]) -> Formula | None:
    """The formula at every element, as elements and as matrices; None unless it checks everywhere.

    When the requested element's formula fails elsewhere, the formula of a failing element is
    derived too; two cases that differ by a term D join into F + D·y with y the indicator of the
    second case (for cross-entropy: the one-hot targets, giving (ŷ − y)/N).
    """
    u, sizes = e.unrolled, e.sizes
    wname = u.names[wrt]
    want = u.grad(wrt)
    expr, tensors = general
    ok = _close(_evaluate(expr, tensors, sizes, wrt.shape), want)
    indicator = ""
    if not ok.all():
        other = tuple(int(i) for i in np.argwhere(~ok)[0])
        e2 = _formula_of(root, wrt, other, u)
        if e2 is None:
            return None
        expr2, tensors2 = e2
        tensors = {**tensors, **tensors2}
        ok2 = _close(_evaluate(expr2, tensors, sizes, wrt.shape), want)
        if not (ok | ok2).all():
            return None
        # Two cases: F + D·y, with y the indicator of the case where D lowers the gradient
        # (for cross-entropy the targets: ŷ/N − y/N).
        diff = expr2 - expr
        d = _evaluate(diff, tensors, sizes, wrt.shape)
        base, mask = (expr, ~ok) if np.nanmean(d) <= 0 else (expr2, ~ok2)
        y = sympy.Symbol(element_name("y", letters))
        expr = sympy.factor(base + (diff if base is expr else -diff) * y)
        tensors[y] = mask.astype(np.float64)
        if not _close(_evaluate(expr, tensors, sizes, wrt.shape), want).all():
            return None
        indicator = _describe(mask, u, wname)
    r = e.names[e.root]
    matrix = expr.xreplace({s: sympy.Symbol(_matrix_name(s.name)) for s in tensors})
    return Formula(f"∂{r}/∂{element_name(wname, letters)} = {_display(expr)}",
                   f"∂{r}/∂{wname} = {_matrix_text(matrix, sizes)}", expr, indicator)


def _matrix_text(matrix: sympy.Expr, sizes: dict[str, int]) -> str:
    """A matrix formula with ⊙ for elementwise products, sizes kept as a factor: (Ŷ − Y)/N."""
    size_syms = {s for s in matrix.free_symbols if s.name in sizes}
    coeff, rest = matrix.as_independent(*(matrix.free_symbols - size_syms), as_Add=False)
    if coeff.could_extract_minus_sign() and isinstance(rest, sympy.Add):
        coeff, rest = -coeff, -rest
    body = _display(rest).replace("·", " ⊙ ")
    if coeff == 1:
        return body
    if isinstance(rest, sympy.Add):
        body = f"({body})"
    num, den = sympy.fraction(coeff)
    head = "" if num == 1 else ("−" if num == -1 else f"{_display(num)} · ")
    tail = "" if den == 1 else f"/({_display(den)})" if isinstance(den, sympy.Mul) else f"/{_display(den)}"
    return head + body + tail


def _formula_of(root: Value, wrt: Value, index: tuple[int, ...],
                u: Unrolled) -> tuple[sympy.Expr, dict] | None:
    """The generalised formula of another element (0 where it has no path), or None."""
    scalar_root = u.scalars[root].reshape(-1)[0]
    ws = u.element(wrt, index)
    if ws not in _ancestors(scalar_root):
        return sympy.Integer(0), {}
    e = explain_scalar(scalar_root, ws)
    return _generalise(_total_expression(e), e, u, wrt, index)


def _matrix_name(element: str) -> str:
    """ŷ[i,j] → Ŷ, y[i,j] → Y; Greek and upper-case names stay (σ, Z)."""
    base = element.split("[", 1)[0]
    return base.upper() if base.isalpha() and base.isascii() or base == "ŷ" else base


def _describe(mask: np.ndarray, u: Unrolled, wname: str) -> str:
    """What the indicator y is: a target tensor of the graph equal to it, or where it is 1 (and
    whether those are the elements an integer index picks, as cross-entropy picks its targets)."""
    for t in u.scalars:
        if not t._prev and not t.requires_grad and t.shape == mask.shape and np.array_equal(t.data, mask):
            return f"Y = {t.label}, the targets" if t.label else "Y = the targets"
    where = [element_name(wname, tuple(int(i) for i in idx)) for idx in np.argwhere(mask)]
    shown = ", ".join(where[:6]) + (", …" if len(where) > 6 else "")
    return f"y = 1 at {shown}{' (the targets)' if _picked(u, mask) else ''}, 0 elsewhere"


def _picked(u: Unrolled, mask: np.ndarray) -> bool:
    """True when an integer-array index in the graph picks exactly the elements of ``mask``."""
    for t in u.scalars:
        if isinstance(t._op, ops.GetItem) and t._op.advanced and t._prev[0].shape == mask.shape:
            picked = np.zeros(mask.shape, dtype=bool)
            picked[t._op.index] = True
            if np.array_equal(picked, mask):
                return True
    return False


def demo_text() -> str:
    """What ``tinygrad-lite demo`` prints for a batch: sample 0's target and a non-target logit."""
    from .seed import batch_example

    Z, y, L = batch_example("ce")
    p, k = int(y[0]), Z.shape[1]
    lines = [f"In a batch: ℓ = (1/N) Σ_i CE_i over N = {Z.shape[0]} samples, logits Z of shape {Z.shape}, "
             f"targets y = {y.tolist()} (row 0 is the example above)"]
    for j, what in ((p, "target"), ((p + 1) % k, "non-target")):
        lines.append(f"\nThe {what} logit Z[0,{j}]:")
        lines.append("  " + str(explain_element(L, Z, (0, j))).replace("\n", "\n  "))
    return "\n".join(lines)


__all__ = ["explain_element", "TensorExplanation", "Formula", "demo_text"]
