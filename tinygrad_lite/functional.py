"""Functions on Values, and losses built only from primitive ops.

No loss here has a backward of its own: their gradients come out of backprop
through softmax, log, square, … — which is what ``explain`` then shows.
Each function takes a tensor Value or, where that makes sense, a list of
scalar Values (to build graphs small enough to draw).
"""

from __future__ import annotations

import functools
import operator
import warnings
import weakref
from typing import Any, Sequence, Union

import numpy as np

from . import ops
from ._state import user_stacklevel
from .errors import NonFiniteWarning
from .value import Value, _binary, _lift, _make, _node, _unary

Tensorish = Union[Value, Sequence[Value]]
REDUCTIONS = ("mean", "sum", "none")


def _is_list(x: Any) -> bool:
    return isinstance(x, (list, tuple))


def _scalars(fn: str, xs: Sequence[Any]) -> list[Value]:
    vals = [_lift(x, fn) for x in xs]
    if not vals:
        raise ValueError(f"{fn}: got an empty list; pass at least one scalar Value")
    for v in vals:
        if v.size != 1:
            raise ValueError(f"{fn}: a list must hold scalar Values, got one of shape {v.shape}; pass a tensor Value instead")
    return vals


def _elementwise(method: str):
    def f(x: Tensorish) -> Any:
        if _is_list(x):
            return [getattr(v, method)() for v in _scalars(method, x)]
        return getattr(_lift(x, method), method)()

    f.__name__ = method
    f.__doc__ = f"``x.{method}()`` for a Value, or for each scalar Value of a list."
    return f


exp, log, sigmoid, tanh, relu = (_elementwise(m) for m in ("exp", "log", "sigmoid", "tanh", "relu"))
square, sqrt, softplus = (_elementwise(m) for m in ("square", "sqrt", "softplus"))


def _activation(fn: str, x: Tensorish, op: ops.LocalOp) -> Any:
    if _is_list(x):
        return [_unary(op, v) for v in _scalars(fn, x)]
    return _unary(op, _lift(x, fn))


def _number(fn: str, name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{fn}: {name} must be a number, got {v!r}")
    return float(v)


def leaky_relu(x: Tensorish, negative_slope: float = 0.01) -> Any:
    """x for x > 0, negative_slope·x otherwise (as ``torch.nn.functional.leaky_relu``)."""
    return _activation("leaky_relu", x, ops.LeakyRelu(_number("leaky_relu", "negative_slope", negative_slope)))


def elu(x: Tensorish, alpha: float = 1.0) -> Any:
    """x for x > 0, α(eˣ − 1) otherwise."""
    return _activation("elu", x, ops.Elu(_number("elu", "alpha", alpha)))


def silu(x: Tensorish) -> Any:
    """x·σ(x), also called swish."""
    return _activation("silu", x, ops.SILU)


def gelu(x: Tensorish, approximate: str = "none") -> Any:
    """x·Φ(x), Φ the standard normal CDF; ``approximate="tanh"`` uses PyTorch's tanh form."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate={approximate!r} is not 'none' or 'tanh'")
    return _activation("gelu", x, ops.Gelu(approximate))


def _group(kind: type[ops.SoftmaxOut], fn: str, xs: Sequence[Any]) -> list[Value]:
    zs = _scalars(fn, xs)
    group, outs = ops.scalar_group(kind, [z.item() for z in zs])
    parents = tuple(zs)
    req = any(z.requires_grad for z in zs)
    nodes = [_node(op, out, local, parents, req) for op, out, local in outs]
    group.outputs.extend(weakref.ref(n) for n in nodes)
    return nodes


def softmax(x: Tensorish, axis: int = -1, *, dim: int | None = None) -> Any:
    """Softmax along ``axis`` (or ``dim=``); a list of K scalars gives K scalars, each depending on all K."""
    if _is_list(x):
        return _group(ops.SoftmaxOut, "softmax", x)
    return _lift(x, "softmax").softmax(axis, dim=dim)


def log_softmax(x: Tensorish, axis: int = -1, *, dim: int | None = None) -> Any:
    """log(softmax(x)) computed stably; a list of K scalars gives K scalars."""
    if _is_list(x):
        return _group(ops.LogSoftmaxOut, "log_softmax", x)
    return _lift(x, "log_softmax").log_softmax(axis, dim=dim)


def linear(x: Any, weight: Value, bias: Value | None = None) -> Value:
    """x @ weightᵀ + bias, with ``weight`` of shape (out_features, in_features) as ``torch.nn.functional.linear``.

    One ``linear`` node, as PyTorch's addmm: parents (x, weight, bias), or (x, weight) without a bias.
    """
    x = _lift(x, "linear")
    if bias is None:
        return _binary(ops.LINEAR, x, weight)
    if type(weight) is not Value or type(bias) is not Value:
        weight, bias = _lift(weight, "linear"), _lift(bias, "linear")
    out, saved = ops.LINEAR.forward(x.data, weight.data, bias.data)
    # (_make, not _node: the three-parent layout of Value written out, in every layer's forward)
    return _make(ops.LINEAR, out, (x, weight, bias), None, saved, None,
                 x.requires_grad or weight.requires_grad or bias.requires_grad)


# ---------------------------------------------------------------- reductions

def _check_reduction(fn: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{fn}: reduction={reduction!r} is not one of {', '.join(map(repr, REDUCTIONS))}")


def _reduce(losses: Any, reduction: str) -> Any:
    """Reduce per-element losses: a tensor Value, or a list of scalar Values."""
    if _is_list(losses):
        if reduction == "none":
            return list(losses)
        total = functools.reduce(operator.add, losses)
        return total if reduction == "sum" or len(losses) == 1 else total / len(losses)
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


def _target_array(fn: str, target: Any) -> np.ndarray:
    if isinstance(target, Value):
        target = target.data
    try:
        return np.asarray(target)
    except ValueError:
        raise ValueError(f"{fn}: target {target!r} is not a number or a rectangular array") from None


# ---------------------------------------------------------------- cross-entropy

def cross_entropy(logits: Tensorish, target: Any, reduction: str = "mean", fused: bool = False) -> Any:
    """Softmax cross-entropy, built as softmax → log → pick → neg → reduce.

    ``logits``: an (N, K) or (K,) tensor Value, or a list of K scalar Values
    (one sample).  ``target``: class indices (int or int array) or
    probabilities of the logits' shape (e.g. one-hot).  ``fused=True`` goes
    through ``log_softmax`` instead (``nll_loss(log_softmax(x))``): finite even for logits of ±1e4.
    """
    _check_reduction("cross_entropy", reduction)
    if _is_list(logits):
        zs = _scalars("cross_entropy", logits)
        t = _target_array("cross_entropy", target)
        k = len(zs)
        weights = _class_weights(t, (k,), k)
        probs = log_softmax(zs) if fused else softmax(zs)
        # Classes of weight 0 add nothing: leaving them out draws the seed graph −log ŷ_p.
        terms = []
        for pk, w in zip(probs, weights):
            if w != 0.0:
                lp = pk if fused else _safe_log(pk)
                terms.append(-(lp if w == 1.0 else lp * w))
        return _reduce(terms, "sum")
    x = _lift(logits, "cross_entropy")
    if x.ndim not in (1, 2):
        raise ValueError(
            f"cross_entropy: logits must have shape (N, K) or (K,), got {x.shape}; reshape them first"
        )
    k = x.shape[-1]
    t = _target_array("cross_entropy", target)
    # A target of the logits' own shape can only be probabilities (indices have one axis fewer).
    probs = t.shape == x.shape
    if probs:
        _check_probs("cross_entropy", t)
    else:
        idx = _class_indices(t, x.shape, k)
    logp = x.log_softmax(-1) if fused else _safe_log(x.softmax(-1))
    if probs:
        return _reduce(-((logp * t.astype(x.dtype)).sum(axis=-1)), reduction)
    return _picked_nll(logp, idx, reduction)


def nll_loss(input: Value, target: Any, reduction: str = "mean") -> Value:
    """Negative log-likelihood −input[i, tᵢ], reduced, as ``torch.nn.functional.nll_loss``.

    ``input``: log-probabilities, an (N, K) or (K,) tensor Value (e.g. ``x.log_softmax(-1)``);
    ``target``: N class indices (one for a (K,) input).  Built as pick → neg → reduce, the
    last steps of ``cross_entropy``, so its gradient emerges as theirs does.
    """
    _check_reduction("nll_loss", reduction)
    if _is_list(input):
        raise TypeError("nll_loss: input must be a tensor Value of log-probabilities; for a list of K scalar "
                        "Values use cross_entropy(logits, target, fused=True), or -log_probs[target]")
    x = _lift(input, "nll_loss")
    if x.ndim not in (1, 2):
        raise ValueError(f"nll_loss: input must have shape (N, K) or (K,), got {x.shape}; reshape it first")
    t = _target_array("nll_loss", target)
    idx = _class_indices(t, x.shape, x.shape[-1], fn="nll_loss", what="input", probs=False)
    return _picked_nll(x, idx, reduction)


def _picked_nll(logp: Value, idx: Any, reduction: str) -> Any:
    """−logp at each row's class (pick → neg), reduced: where cross_entropy and nll_loss end."""
    if logp.ndim == 1:
        return _reduce(-logp[idx], reduction)
    # One class per row: positions never repeat, so the pick's backward assigns (ops.GetItem).
    return _reduce(-_unary(ops.GetItem((np.arange(logp.shape[0]), idx), unique=True), logp), reduction)


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}  # by itemsize


def _class_indices(t: np.ndarray, shape: tuple[int, ...], k: int, fn: str = "cross_entropy",
                   what: str = "logits", probs: bool = True) -> Any:
    """Validate class-index targets: ints in [0, K), one per sample (``fn`` names the loss in errors)."""
    want = () if len(shape) == 1 else (shape[0],)
    if t.dtype.kind not in "iu" and not (t.dtype.kind == "f" and np.all(t == np.round(t))):
        kinds = (f"neither class indices of shape {want} nor probabilities of the {what}' shape {shape}" if probs
                 else f"not class indices of shape {want} (for {what} of shape {shape})")
        raise ValueError(f"{fn}: target of dtype {t.dtype} and shape {t.shape} is {kinds}")
    if t.shape != want:
        raise ValueError(
            f"{fn}: {what} of shape {shape} {'need' if what == 'logits' else 'needs'} {want or 'one'} "
            f"class index(es), got target of shape {t.shape}"
        )
    # Seen as unsigned, a negative class is huge: for ints one maximum finds both kinds of error.
    u = t.view(_UNSIGNED[t.itemsize]) if t.dtype.kind == "i" else t
    if t.size and (np.maximum.reduce(u, axis=None) >= k or u.dtype.kind == "f" and np.minimum.reduce(u, axis=None) < 0):
        lo, hi = np.minimum.reduce(t, axis=None), np.maximum.reduce(t, axis=None)
        bad = lo if lo < 0 else hi
        raise ValueError(
            f"{fn}: target class {int(bad)} is out of range for {k} classes "
            f"({what} shape {shape}); classes are 0..{k - 1}"
        )
    return t.astype(np.intp) if t.ndim else int(t)


def _class_weights(t: np.ndarray, shape: tuple[int, ...], k: int) -> list[float]:
    """A list form's target as K weights: one-hot for an index, else the probabilities."""
    if t.ndim == 0:
        w = [0.0] * k
        w[_class_indices(t, shape, k)] = 1.0
        return w
    if t.shape != (k,):
        raise ValueError(f"cross_entropy: {k} logits need a class index or {k} probabilities, got target of shape {t.shape}")
    _check_probs("cross_entropy", t)
    return [float(v) for v in t]


def _check_probs(fn: str, t: np.ndarray) -> None:
    if np.any(t < 0) or np.any(t > 1) or not np.all(np.isfinite(t)):
        raise ValueError(f"{fn}: probability targets must lie in [0, 1], got values from {t.min():g} to {t.max():g}")


def _safe_log(probs: Value) -> Value:
    """log of softmax probabilities, warning in words when one underflowed to 0."""
    zero = bool(np.any(probs.data == 0))
    if not zero:
        return probs.log()
    warnings.warn(
        "cross_entropy: a softmax probability underflowed to 0 (logits too far apart), "
        "so the loss or its gradient is inf/NaN; use cross_entropy(..., fused=True), which goes through log_softmax",
        NonFiniteWarning, stacklevel=user_stacklevel(),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonFiniteWarning)
        return probs.log()


# ---------------------------------------------------------------- regression / binary

def _paired(fn: str, pred: Tensorish, target: Any) -> tuple[Any, Any]:
    """Pred and target as (list, list) or (Value, array), shapes checked."""
    if _is_list(pred):
        ps = _scalars(fn, pred)
        t = _target_array(fn, target)
        if t.shape != (len(ps),):
            raise ValueError(f"{fn}: {len(ps)} predictions need {len(ps)} targets, got target of shape {t.shape}")
        return ps, [float(v) for v in t]
    p = _lift(pred, fn)
    t = target if isinstance(target, Value) else _lift(_target_array(fn, target).astype(p.dtype), fn)
    if t.shape != p.shape:
        raise ValueError(
            f"{fn}: prediction of shape {p.shape} and target of shape {t.shape} differ; "
            "they must match (broadcasting here usually hides a bug)"
        )
    return p, t


def mse_loss(pred: Tensorish, target: Any, reduction: str = "mean") -> Any:
    """Squared error (pred − target)²; ``"mean"`` averages over all elements, as PyTorch.

    With ``reduction="sum"`` on one sample's K probabilities this is the seed
    formula L = Σ_k (y_k − ŷ_k)².
    """
    _check_reduction("mse_loss", reduction)
    p, t = _paired("mse_loss", pred, target)
    if _is_list(p):
        return _reduce([(pi - ti).square() for pi, ti in zip(p, t)], reduction)
    return _reduce((p - t).square(), reduction)


def binary_cross_entropy(prob: Tensorish, target: Any, reduction: str = "mean") -> Any:
    """−[y log p + (1 − y) log(1 − p)] for probabilities p in [0, 1]."""
    _check_reduction("binary_cross_entropy", reduction)
    p, t = _paired("binary_cross_entropy", prob, target)
    probs = np.asarray([v.data for v in p]) if _is_list(p) else p.data
    targets = np.asarray(t) if _is_list(p) else t.data
    if np.any(probs < 0) or np.any(probs > 1):
        raise ValueError(
            f"binary_cross_entropy: probabilities must lie in [0, 1], got {np.min(probs):g}..{np.max(probs):g}; "
            "apply .sigmoid() first or use binary_cross_entropy_with_logits"
        )
    _check_probs("binary_cross_entropy", targets)

    def term(pi: Value, ti: Any) -> Value:
        # Terms whose weight is a constant 0 are left out, so a hard label draws one log.
        if _is_list(p) and ti == 1.0:
            return -pi.log()
        if _is_list(p) and ti == 0.0:
            return -(1.0 - pi).log()
        return -(ti * pi.log() + (1.0 - ti) * (1.0 - pi).log())

    if _is_list(p):
        return _reduce([term(pi, ti) for pi, ti in zip(p, t)], reduction)
    return _reduce(term(p, t), reduction)


def binary_cross_entropy_with_logits(logits: Tensorish, target: Any, reduction: str = "mean") -> Any:
    """BCE on logits x: softplus(x) − x·y, which equals BCE(σ(x), y) without overflow."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    x, t = _paired("binary_cross_entropy_with_logits", logits, target)
    _check_probs("binary_cross_entropy_with_logits", np.asarray(t if _is_list(x) else t.data))
    if _is_list(x):
        return _reduce([xi.softplus() - xi * ti for xi, ti in zip(x, t)], reduction)
    return _reduce(x.softplus() - x * t, reduction)


__all__ = [
    "exp", "log", "sigmoid", "tanh", "relu", "square", "sqrt", "softplus", "softmax", "log_softmax",
    "leaky_relu", "elu", "silu", "gelu",
    "linear", "cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
]

