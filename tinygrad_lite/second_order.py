"""Gradients as graphs: ``backward(create_graph=True)``, ``tl.grad``, ``tl.hessian``, ``tl.gradgradcheck``.

The ordinary backward pass (``autograd``) multiplies numbers.  This one runs
the *same* backward of every op on Values instead, so each gradient is an
ordinary graph of ordinary ops: it can be differentiated again, drawn and
explained.  Nothing here is on the default path; ``create_graph=False`` costs
one ``if``.

How each kind of op builds its gradient as a graph:

* ``LocalOp`` (elementwise ops, the scalar softmax): the backward is
  ``g * local``.  The local derivative is rebuilt as a Value by *evaluating
  the op's own formula template* (``formulas``: SymPy syntax over ``x``,
  ``y``, ``c`` (a number operand), ``out`` and, for the scalar softmax, the
  sibling outputs ``s<j>``) with the parents and the node itself bound
  (``out`` is the node, so it is differentiated too), through a small whitelisted
  evaluator (numbers, ``+ - * / **``, the functions in ``_FUNCTIONS``, and
  the op's own number or array attributes as constants, e.g. a mask).
  So the formula a drawing shows *is* the derivative that is executed.
  Piecewise-constant factors (``Heaviside``, ``sign``) are constants: their
  derivative is 0 wherever it exists.  An op whose template is not safe to
  execute as written gives a method ``graph_local(i, x, y, out)`` instead.
* ``VjpOp`` (matmul, reductions, reshapes, indexing, tensor softmax): the
  backward is written once, in operations arrays and Values share (see
  ``ops.dual``), and the class attribute ``saved_as`` says what it receives
  as ``saved`` here: ``"inputs"`` (the parents), ``"output"`` (the node
  itself) or ``"fixed"`` (what forward saved, used as a constant: shapes,
  index masks).  Indexing's backward, a scatter-add, is itself an op
  (``ops.ScatterAdd``) whose backward is the indexing.

What an op must provide to support ``create_graph``: a LocalOp, formulas the
evaluator accepts (or ``graph_local``); a VjpOp, a backward in those shared
operations and ``saved_as``.  An op without them (``saved_as = None`` on a
VjpOp or a LocalOp, e.g. a custom ``tl.Function``, whose backward works on
NumPy data; or a formula the evaluator refuses) makes ``create_graph`` raise
an error naming it, never a wrong gradient.  ``gradgradcheck`` also checks
that the gradient built from the formulas equals the one backward computes.

After ``backward(create_graph=True)`` every ``.grad`` in the graph is a Value
(as in PyTorch) while the numbers every other reader sees (drawings, steps,
optimizers) stay in place; the graph and its gradients then refer to each
other, so they are freed by Python's cycle collector rather than at once.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from . import autograd, hooks
from ._state import enable_grad, modes, user_stacklevel
from .errors import AnomalyError, GradcheckError, NonFiniteWarning
from .gradcheck import _as_leaf, gradcheck
from .ops import LocalOp, unbroadcast
from .ops.dual import is_data, sum_to
from .value import Value

# tl.hessian runs one backward pass over the gradient graph per input element.
HESSIAN_MAX_SIZE = 100


# ---------------------------------------------------------------- the formula evaluator

def _piecewise_constant(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A factor with derivative 0 (where it has one): evaluated on the data, as a constant."""

    def f(*args: Any) -> Any:
        datas = [a.data if isinstance(a, Value) else a for a in args]
        out = fn(*datas)
        return float(out) if np.ndim(out) == 0 and all(type(d) is float for d in datas) else out

    return f


def _elementwise(method: str, np_fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def f(x: Any) -> Any:
        if isinstance(x, Value):
            return getattr(x, method)()
        with np.errstate(all="ignore"):
            return float(np_fn(x)) if np.ndim(x) == 0 else np_fn(x)

    return f


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "exp": _elementwise("exp", np.exp),
    "log": _elementwise("log", np.log),
    "sqrt": _elementwise("sqrt", np.sqrt),
    "tanh": _elementwise("tanh", np.tanh),
    "sin": _elementwise("sin", np.sin),
    "cos": _elementwise("cos", np.cos),
    "Abs": _elementwise("abs", np.abs),
    "Heaviside": _piecewise_constant(lambda x, h=0.5: np.heaviside(x, h)),
    "sign": _piecewise_constant(np.sign),
}


_CONSTANTS = {"pi": float(np.pi), "E": float(np.e)}


@functools.cache
def _parse(template: str) -> ast.expr:
    try:
        return ast.parse(template, mode="eval").body
    except SyntaxError:
        raise ValueError(f"create_graph: cannot read the formula {template!r}") from None


def _is_const(v: Any, c: float) -> bool:
    return type(v) is float and v == c


def _arith(op: ast.operator, a: Any, b: Any) -> Any:
    """``a op b``, dropping the multiplications by 1 and additions of 0 a template spells out."""
    if isinstance(op, ast.Add):
        return b if _is_const(a, 0.0) else a if _is_const(b, 0.0) else a + b
    if isinstance(op, ast.Sub):
        return a if _is_const(b, 0.0) else a - b
    if isinstance(op, ast.Mult):
        if _is_const(a, 0.0) or _is_const(b, 0.0):  # a factor of exactly 0 (x ** 0's "0·x⁻¹"): 0, as PyTorch
            return 0.0
        return b if _is_const(a, 1.0) else a if _is_const(b, 1.0) else a * b
    if isinstance(op, ast.Div):
        return a if _is_const(b, 1.0) else a / b
    if isinstance(op, ast.Pow):
        if _is_const(b, 1.0):
            return a
        if _is_const(b, 0.0):
            return 1.0
        return a**b
    raise ValueError(f"operator {type(op).__name__}")


def _constant_attribute(owner: Any, name: str) -> Any:
    """An op's own number or array attribute (a mask, a slope) named in its template, else None."""
    v = getattr(owner, name, None) if owner is not None and not name.startswith("_") else None
    if isinstance(v, (bool, int, float, np.number, np.bool_)):
        return float(v)
    return v if isinstance(v, np.ndarray) else None


def evaluate(template: str, env: dict[str, Any], owner: Any = None) -> Any:
    """A formula template (SymPy syntax) evaluated with Values or numbers bound to its names.

    Only numbers, the names in ``env`` (then ``owner``'s number or array
    attributes, as constants), ``+ - * / **`` and the functions in
    ``_FUNCTIONS`` are accepted; numbers are folded as float64.
    """

    def ev(node: ast.expr) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id in env:
            return env[node.id]
        if isinstance(node, ast.Name) and node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        if isinstance(node, ast.Name) and _constant_attribute(owner, node.id) is not None:
            return _constant_attribute(owner, node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            if type(a) is float and type(b) is float:
                with np.errstate(all="ignore"):
                    return float(_arith(node.op, np.float64(a), np.float64(b)))
            return _arith(node.op, a, b)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS
                and not node.keywords):
            return _FUNCTIONS[node.func.id](*[ev(a) for a in node.args])
        raise ValueError(f"create_graph: the formula {template!r} uses {ast.unparse(node)!r}, "
                         "which the formula evaluator does not accept")

    return ev(_parse(template))


# ---------------------------------------------------------------- one node's backward on Values

def _unsupported(n: Value, why: str) -> RuntimeError:
    return RuntimeError(
        f"create_graph: the op {n.op!r} (node {n.label or n.op}, shape {n.shape}) {why}, so its "
        "gradient cannot be built as a graph to differentiate again. Keep it out of the part you "
        "differentiate twice; see tinygrad_lite.second_order for what an op must provide."
    )


def _softmax_siblings(n: Value, cache: dict[int, list[Value]]) -> list[Value]:
    """The outputs of the scalar softmax ``n`` belongs to; rebuilt from its inputs if some were freed."""
    group = n._op.group
    outs = [ref() for ref in group.outputs]
    if all(o is not None for o in outs):
        return outs
    key = id(group)
    if key not in cache:
        from . import functional as F

        fn = F.log_softmax if n.op == "log_softmax" else F.softmax
        cache[key] = fn(list(n._prev))
    return cache[key]


def local_value(n: Value, i: int, cache: dict[int, list[Value]] | None = None) -> Any:
    """∂n/∂parent_i as a Value (or a number where it is constant), from the op's formula."""
    op = n._op
    prev = n._prev
    x, y = prev[0], (prev[1] if len(prev) > 1 else None)
    custom = getattr(op, "graph_local", None)
    if custom is not None:
        return custom(i, x, y, n)
    try:
        template = op.formula(i)
    except IndexError:
        raise _unsupported(n, "has no formula for its local derivative") from None
    env: dict[str, Any] = {"x": x, "y": y, "out": n}
    number = getattr(n, "_number", None)  # a number operand (x * 2.0) kept by its node
    if number is not None:
        env["c"] = number
    if getattr(op, "group", None) is not None:
        for j, s in enumerate(_softmax_siblings(n, {} if cache is None else cache)):
            env[f"s{j}"] = s
    try:
        return evaluate(template, env, owner=op)
    except ValueError as e:
        raise _unsupported(n, f"has a formula the evaluator cannot run ({e})") from None


def _contributions(n: Value, g: Any, wanted: Sequence[bool], cache: dict) -> tuple[Any, ...]:
    """What ``n``'s backward sends to each parent, as Values (numbers where constant)."""
    op = n._op
    prev = n._prev
    if isinstance(op, LocalOp) and getattr(op, "saved_as", "locals") is not None:
        out = []
        for i, want in enumerate(wanted):
            if not want:
                out.append(None)
                continue
            loc = local_value(n, i, cache)
            out.append(loc if type(g) is float and g == 1.0 else g if _is_const(loc, 1.0) else g * loc)
        return tuple(out)
    kind = getattr(op, "saved_as", None)
    if kind == "inputs":
        saved = prev
    elif kind == "output":
        saved = n
    elif kind == "fixed":
        saved = n._saved
    else:
        raise _unsupported(n, "has a backward that works on NumPy data only")
    return tuple(c if want else None for c, want in zip(op.backward(saved, g, prev), wanted))


def _add(acc: Any, c: Any) -> Any:
    return c if acc is None else acc + c


def _constant(g: Any) -> Value:
    return g if isinstance(g, Value) else Value(g, requires_grad=False)


# ---------------------------------------------------------------- the pass

def _graph(roots: Sequence[Value]) -> list[Value]:
    """Every node the roots depend on that needs a gradient, parents first."""
    nodes: dict[Value, None] = {}
    for r in roots:
        nodes.update(dict.fromkeys(autograd.topo_order(r)))
    return sorted(nodes, key=lambda v: v._id)


def backprop(roots: Sequence[Value], seeds: Sequence[Any], create_graph: bool,
             targets: set[Value] | None = None) -> tuple[dict[Value, Any], list[Value]]:
    """Gradients of Σ ⟨seed, root⟩ for every node (only those leading to ``targets`` if given).

    With ``create_graph`` they are built from ops on Values; otherwise they
    are numbers and arrays, exactly as ``backward()`` computes them.
    """
    nodes = _graph(roots)
    relevant: set[Value] | None = None
    if targets is not None:
        relevant = set()
        for n in nodes:  # creation order: a node leads to a target if a parent does
            if n in targets or any(p in relevant for p in n._prev):
                relevant.add(n)
    grads: dict[Value, Any] = {}
    for r, s in zip(roots, seeds):
        if r.requires_grad:
            grads[r] = _add(grads.get(r), s)
    cache: dict[int, list[Value]] = {}
    hooked = hooks.grad_hooks if hooks.grad_hooks else None
    with enable_grad() if create_graph else contextlib.nullcontext():
        for n in reversed(nodes):
            g = grads.get(n)
            if hooked is not None and g is not None and hooked.get(n):
                # Reverse creation order: every path into n has been added, so its gradient is complete.
                if create_graph:
                    raise RuntimeError(
                        f"register_hook: a gradient hook is registered on {n.label or n.op or 'a leaf'}, and hooks "
                        "are not run when gradients are built as a graph (create_graph=True); remove it with "
                        "handle.remove(), or differentiate without create_graph")
                g = grads[n] = hooks.run_grad_hooks(n, hooked.get(n), g)
            prev = n._prev
            if g is None or not prev:
                continue
            wanted = [p.requires_grad and (relevant is None or p in relevant) for p in prev]
            if not any(wanted):
                continue
            if create_graph:
                cs = _contributions(n, g, wanted, cache)
            else:
                cs = autograd.contributions(n, g if is_data(g) else g.data)
            for p, c, want in zip(prev, cs, wanted):
                if c is None or not want:
                    continue
                c = sum_to(c, p) if create_graph else unbroadcast(c, p.data)
                if modes.anomaly and not create_graph and _nonfinite(c) and not _nonfinite(g):
                    raise AnomalyError(f"{n.op}'s backward produced NaN/Inf for its input "
                                       f"{p.label or p.op or 'leaf'} (shape {p.shape}); the {n.op} node "
                                       f"was created at {n._trace}")
                grads[p] = _add(grads.get(p), c)
    return grads, nodes


def _nonfinite(g: Any) -> bool:
    data = g.data if isinstance(g, Value) else g
    return not bool(np.all(np.isfinite(data)))


def _warn_nonfinite(who: str, what: str) -> None:
    warnings.warn(f"{who}: the gradient for {what} is NaN/Inf; run under tl.detect_anomaly() to see "
                  "the line that built it", NonFiniteWarning, stacklevel=user_stacklevel())


def backward(root: Value, grad: Any = None) -> None:
    """``root.backward(grad, create_graph=True)``: every ``.grad`` becomes a Value (a graph)."""
    seed = grad if isinstance(grad, Value) and grad.requires_grad else autograd.seed_of(root, grad)
    if isinstance(seed, Value) and seed.shape != root.shape:
        raise ValueError(f"backward: grad has shape {seed.shape} but the root has shape {root.shape}; they must match")
    if not root.requires_grad:
        raise RuntimeError(
            "backward: the root does not require grad (it was built from constants, "
            "inside no_grad(), or from detached Values)"
        )
    if type(seed) is float:
        seed = float(np.float64(seed))  # a float object of its own: .grad tells passes apart by identity
    grads, nodes = backprop([root], [seed], create_graph=True)
    for n in nodes:
        g = grads.get(n)
        if g is None:
            if n._prev:
                n._grad = None
            continue
        g = _constant(g)
        if not n._prev:
            before = n.grad if n._grad is not None else None
            if before is not None:
                g = g + before
            if _nonfinite(g):
                _warn_nonfinite("backward(create_graph=True)", n.label or "a leaf")
        n._grad, n._grad_graph = g.data, g


# ---------------------------------------------------------------- tl.grad

def _as_values(x: Any, what: str) -> tuple[list[Value], bool]:
    """A Value or a sequence of Values as a list, and whether it was a single Value."""
    single = isinstance(x, Value)
    items = [x] if single else list(x) if isinstance(x, (list, tuple)) else [x]
    for k, v in enumerate(items):
        if not isinstance(v, Value):
            hint = (" It is a plain number or array: a gradient is a graph you can differentiate "
                    "again only when it was computed with create_graph=True; pass that to the "
                    "backward() or tl.grad() that made it.") if isinstance(v, (float, int, np.ndarray)) else ""
            raise TypeError(f"tl.grad: {what}[{k}] is a {type(v).__name__}, not a Value.{hint}")
    if not items:
        raise ValueError(f"tl.grad: {what} is empty")
    return items, single


def grad(
    outputs: Value | Sequence[Value],
    inputs: Value | Sequence[Value],
    grad_outputs: Any = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Any, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, as ``torch.autograd.grad``.

    Returns one gradient per input, in a tuple, and touches no ``.grad``.
    With ``create_graph=True`` each is a Value built from ops (differentiate
    it again, draw it, explain it); otherwise a number or array, like
    ``.grad``.  ``grad_outputs`` weighs each output (required for outputs of
    more than one element).  An input the outputs do not depend on raises,
    unless ``allow_unused=True``: then its gradient is ``None``.
    """
    outs, single = _as_values(outputs, "outputs")
    ins, _ = _as_values(inputs, "inputs")
    # As in PyTorch: one output takes one grad_output; a sequence of outputs, a sequence as long.
    if grad_outputs is None:
        gouts = [None] * len(outs)
    elif single:
        gouts = [grad_outputs]
    elif isinstance(grad_outputs, (list, tuple)) and len(grad_outputs) == len(outs):
        gouts = list(grad_outputs)
    else:
        raise ValueError(f"tl.grad: {len(outs)} outputs need a list of {len(outs)} grad_outputs "
                         "(None for a one-element output)")
    seeds = []
    for o, go in zip(outs, gouts):
        if create_graph and isinstance(go, Value) and go.requires_grad:
            if go.shape != o.shape:
                raise ValueError(f"tl.grad: grad_outputs of shape {go.shape} for an output of shape {o.shape}")
            seeds.append(go)
        else:
            seeds.append(autograd.seed_of(o, go))
    grads, _ = backprop(outs, seeds, create_graph, targets=set(ins))
    result: list[Any] = []
    for k, x in enumerate(ins):
        g = grads.get(x)
        if g is None:
            if not allow_unused:
                raise RuntimeError(_unused_message(k, x, outs))
            result.append(None)
            continue
        if _nonfinite(g):
            _warn_nonfinite("tl.grad", f"input {k} ({x.label or 'unlabelled'})")
        if create_graph:
            result.append(_constant(g))
        else:
            result.append(unbroadcast(g, x.data) if not isinstance(g, Value) else g.data)
    return tuple(result)


def _unused_message(k: int, x: Value, outs: list[Value]) -> str:
    name = f"input {k}" + (f" ({x.label})" if x.label else "") + f" of shape {x.shape}"
    if not x.requires_grad:
        why = "does not require grad"
    elif not any(o.requires_grad for o in outs):
        why = ("is not in the graph: the outputs do not require grad (built from constants, "
               "under no_grad(), or a gradient computed without create_graph=True)")
    else:
        why = "is not in the graph of the outputs: they do not depend on it"
    return (f"tl.grad: {name} {why}. If an output is a gradient, compute it with create_graph=True "
            "so it depends on the inputs; if the derivative is truly zero, pass allow_unused=True "
            "(its gradient is then None).")


# ---------------------------------------------------------------- tl.hessian

def hessian(fn: Callable[[Any], Value], x: Any) -> np.ndarray:
    """The n×n matrix of second derivatives of a scalar ``fn`` at ``x``, by backprop twice.

    ``x``: a list of scalar Values (or numbers), given to ``fn`` as a list of
    new leaves, or a 1-D tensor (Value or array), given as one new leaf; at
    most ``HESSIAN_MAX_SIZE`` (100) elements, since each row is one backward
    pass over the gradient graph.  ``x`` itself and its ``.grad`` are untouched.
    """
    if isinstance(x, (list, tuple)):
        leaves = [Value(float(v.item() if isinstance(v, Value) else v),
                        label=v.label if isinstance(v, Value) else "") for v in x]
        arg: Any = leaves
        n = len(leaves)
    else:
        data = x.data if isinstance(x, Value) else np.asarray(x, dtype=np.float64)
        if np.ndim(data) != 1:
            raise ValueError(f"hessian: x must be a list of scalar Values or a 1-D tensor, got shape {np.shape(data)}; "
                             "flatten it (x.reshape(-1)) inside fn")
        leaves = [Value(np.array(data), label=x.label if isinstance(x, Value) else "")]
        arg = leaves[0]
        n = int(np.size(data))
    if n > HESSIAN_MAX_SIZE:
        raise ValueError(f"hessian: x has {n} elements, more than HESSIAN_MAX_SIZE = {HESSIAN_MAX_SIZE} "
                         "(one backward pass per row); take a smaller x, or Hessian-vector products "
                         "with tl.grad(..., create_graph=True)")
    if n == 0:
        raise ValueError("hessian: x is empty")
    with enable_grad():
        out = fn(arg)
    if not isinstance(out, Value) or out.size != 1:
        shape = out.shape if isinstance(out, Value) else type(out).__name__
        raise ValueError(f"hessian: fn must return a scalar (one-element) Value, got {shape}; "
                         "reduce it first (.sum(), .mean()) or take the Hessian of each element")
    first = grad(out, leaves, create_graph=True, allow_unused=True)
    gs = list(first) if isinstance(x, (list, tuple)) else (
        [None] * n if first[0] is None else [first[0][i] for i in range(n)])
    H = np.zeros((n, n))
    for i, gi in enumerate(gs):
        if gi is None:
            continue
        row = grad(gi, leaves, allow_unused=True)
        H[i] = np.concatenate([np.zeros(np.size(leaf.data)) if r is None else np.ravel(r)
                               for r, leaf in zip(row, leaves)])
    return H


# ---------------------------------------------------------------- tl.gradgradcheck

def _same_as_backward(graphs: tuple[Any, ...], plain: tuple[Any, ...], atol: float, rtol: float) -> None:
    """The gradient built as a graph has the values the ordinary backward (checked by gradcheck) gives."""
    for k, (g, p) in enumerate(zip(graphs, plain)):
        if g is None and p is None:
            continue
        got = np.zeros_like(np.asarray(p, dtype=np.float64)) if g is None else np.asarray(g.data, dtype=np.float64)
        want = np.zeros_like(got) if p is None else np.asarray(p, dtype=np.float64)
        if not np.allclose(got, want, atol=atol, rtol=rtol, equal_nan=True):
            worst = float(np.max(np.abs(got - want)))
            raise GradcheckError(
                f"gradgradcheck: the gradient for input {k} built with create_graph=True differs from "
                f"backward()'s by up to {worst:.3g}: an op's formula does not match its backward"
            )


def gradgradcheck(
    fn: Callable[..., Value],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check ``fn``'s second derivatives (backprop through the gradient graph) against central differences.

    The first-order gradients, built with ``create_graph=True`` from a fixed
    random output weight, are contracted with fixed random weights to one
    scalar s(x); ``gradcheck`` then compares ∂s/∂x by backprop with central
    differences of s, for every input element.  Returns True, or raises
    ``GradcheckError`` with gradcheck's table of the worst elements.
    """
    rng = np.random.default_rng(seed)
    probe = fn(*[_as_leaf(x) for x in inputs])  # the same float64 leaves gradcheck makes
    if not isinstance(probe, Value):
        raise TypeError(f"gradgradcheck: fn must return a Value, got {type(probe).__name__}")
    v = rng.standard_normal(probe.shape) if probe.size != 1 else None
    ws = [rng.standard_normal(np.shape(getattr(x, "data", x))) for x in inputs]

    def first_order(*xs: Value) -> Value:
        with enable_grad():
            out = fn(*xs)
            gs = grad(out, list(xs), grad_outputs=v, create_graph=True, allow_unused=True)
            _same_as_backward(gs, grad(out, list(xs), grad_outputs=v, allow_unused=True), atol, rtol)
            s: Any = 0.0
            for g, w, x in zip(gs, ws, xs):
                s = s + (g * (float(w) if w.ndim == 0 else w)).sum()
                s = s + (x * 0.0).sum()  # keeps s in the graph of every input when a second derivative is 0
        return s

    try:
        return gradcheck(first_order, *inputs, eps=eps, atol=atol, rtol=rtol, seed=seed)
    except GradcheckError as e:
        raise GradcheckError(
            "gradgradcheck: second derivatives (of a random contraction of the gradients) disagree; "
            + str(e).removeprefix("gradcheck: ")
        ) from None


__all__ = ["grad", "hessian", "gradgradcheck", "backward", "backprop", "evaluate", "local_value",
           "HESSIAN_MAX_SIZE"]
