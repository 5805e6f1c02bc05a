"""``Value``: one node type for scalars and tensors, and the graph it records.

Scalar Values hold a Python ``float`` (fast, like micrograd); tensor Values a
NumPy array.  An op's result remembers its parents, its op and what the op's
backward needs; ``backward()`` (in ``autograd``) walks that graph.
"""

from __future__ import annotations

import numbers
from typing import Any, Iterable

import numpy as np

from . import ops
from ._state import creation_counter, modes, user_frame_info
from .errors import AnomalyError, ShapeError
from .ops.base import broadcast_error

_next_id = creation_counter.__next__
_new = object.__new__


def _to_data(data: Any, who: str = "Value") -> Any:
    """Numbers become floats; float arrays keep their dtype; the rest becomes float64."""
    t = type(data)
    if t is float:
        return data
    if t is np.ndarray and data.dtype.kind == "f":  # checked first: the tensor path's common case
        return data
    if t is int or t is bool or isinstance(data, (numbers.Real, np.bool_)) and not isinstance(
        data, (np.floating, np.ndarray)
    ):
        return float(data)
    if isinstance(data, np.floating):
        return float(data) if data.dtype == np.float64 else np.asarray(data)
    if isinstance(data, Value):
        raise TypeError(f"{who}: got a Value; use value.detach() for a new leaf with its data")
    if isinstance(data, (list, tuple, np.ndarray)):
        try:
            arr = np.asarray(data)
        except ValueError as e:
            raise ValueError(f"{who}: nested lists of unequal lengths ({e})") from None
        if arr.dtype.kind == "f":
            return arr
        if arr.dtype.kind in "biu":
            return arr.astype(np.float64)
        raise TypeError(
            f"{who}: cannot make a Value from an array of dtype {arr.dtype} (shape {arr.shape}); "
            "use numbers, nested lists of numbers or a real-valued NumPy array"
        )
    raise TypeError(
        f"{who}: cannot make a Value from {t.__name__} {data!r}; "
        "use a number, a nested list of numbers or a NumPy array"
    )


def _lift(x: Any, op: str) -> "Value":
    """An operand that is not a Value becomes a constant (no gradient) leaf."""
    if isinstance(x, Value):
        return x
    if type(x) is float or type(x) is int:  # the common case, kept cheap
        c = _new(Value)
        c.data = float(x)
        c._grad = c._op = c._saved = c._trace = None
        c.label = ""
        c._prev = ()
        c.requires_grad = False
        c._id = _next_id()
        return c
    try:
        return Value(x, requires_grad=False)
    except (TypeError, ValueError):
        raise TypeError(
            f"{op}: cannot combine a Value with {type(x).__name__} {x!r}; "
            "use a number, a NumPy array or a Value"
        ) from None


def _node(op: ops.Op, out: Any, saved: Any, parents: tuple, requires_grad: bool) -> "Value":
    """Make the result node of ``op`` (a detached leaf under ``no_grad``)."""
    if type(out) is not float and type(out) is not np.ndarray:
        out = np.asarray(out)  # NumPy returns scalars for 0-d results; keep one array type
    # Plain attribute stores, not tuple unpacking: this runs once per op.
    v = _new(Value)
    v.data = out
    v._grad = None
    v.label = ""
    v._id = _next_id()
    v._trace = None
    if modes.grad_enabled:
        v._prev = parents
        v._op = op
        v._saved = saved
        v.requires_grad = requires_grad
    else:
        v._prev = ()
        v._op = v._saved = None
        v.requires_grad = False
    if modes.anomaly:
        _check_forward(v, op)
    return v


def _check_forward(v: "Value", op: ops.Op) -> None:
    v._trace = user_frame_info()
    if not np.all(np.isfinite(v.data)):
        raise AnomalyError(
            f"{op.name} produced NaN/Inf in forward (output shape {np.shape(v.data)}), "
            f"created at {v._trace}"
        )


def _unary(op: ops.LocalOp | ops.VjpOp, a: "Value") -> "Value":
    out, saved = op.forward(a.data)
    return _node(op, out, saved, (a,), a.requires_grad)


def _binary(op: ops.Op, a: Any, b: Any) -> "Value":
    if type(a) is not Value:
        a = _lift(a, op.name)
    if type(b) is not Value:
        b = _lift(b, op.name)
    try:
        out, saved = op.forward(a.data, b.data)
    except ShapeError:
        raise
    except ValueError as e:
        if "broadcast" in str(e):
            raise broadcast_error(op.name, a.data, b.data) from None
        raise
    return _node(op, out, saved, (a, b), a.requires_grad or b.requires_grad)


class Value:
    """A scalar or tensor in a computation graph, with the gradient backprop gives it.

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b + a.exp(); c.backward()
    >>> round(a.grad, 6), b.grad
    (4.389056, 2.0)
    """

    # _grad_graph (never set on the hot path): the gradient as a Value, from backward(create_graph=True).
    __slots__ = ("data", "_grad", "_prev", "_op", "_saved", "label", "requires_grad", "_id",
                 "_trace", "_role", "_grad_graph", "__weakref__")
    # Make NumPy hand `array * value` to Value.__rmul__ instead of looping over the array.
    __array_ufunc__ = None

    def __init__(self, data: Any, label: str = "", requires_grad: bool = True) -> None:
        self.data = _to_data(data)
        self._grad = None
        self.label = str(label)
        self.requires_grad = bool(requires_grad)
        self._prev: tuple[Value, ...] = ()
        self._op: ops.Op | None = None
        self._saved = None
        self._id = _next_id()
        self._trace = user_frame_info() if modes.anomaly else None

    # ------------------------------------------------------------ attributes
    @property
    def grad(self) -> Any:
        """d(root)/d(self) from the latest backward; zeros before any.

        After ``backward(create_graph=True)`` it is a Value (a graph), as long
        as no later pass has changed it.
        """
        g = self._grad
        if g is None:
            return 0.0 if type(self.data) is float else np.zeros_like(self.data)
        graph = getattr(self, "_grad_graph", None)
        if graph is not None and graph.data is g:
            return graph
        return g

    @grad.setter
    def grad(self, value: Any) -> None:
        self._grad = None if value is None else ops.unbroadcast(_to_data(value, "grad"), self.data)

    @property
    def shape(self) -> tuple[int, ...]:
        return () if type(self.data) is float else self.data.shape

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return 1 if type(self.data) is float else self.data.size

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64) if type(self.data) is float else self.data.dtype

    @property
    def op(self) -> str:
        """Name of the op that produced this Value; ``""`` for a leaf."""
        return self._op.name if self._op is not None else ""

    @property
    def parents(self) -> tuple["Value", ...]:
        return self._prev

    @property
    def role(self) -> str:
        """What a leaf is for: ``"parameter"`` for a layer's weights (set by ``nn``), else ``""``."""
        try:
            return self._role
        except AttributeError:  # set only where needed, so making a Value costs nothing more
            return ""

    @role.setter
    def role(self, value: str) -> None:
        self._role = str(value)

    @property
    def is_leaf(self) -> bool:
        return not self._prev

    def item(self) -> float:
        if self.size != 1:
            raise ValueError(f"item: only a one-element Value converts to a number, not shape {self.shape}")
        return float(np.asarray(self.data).reshape(()))

    def __float__(self) -> float:
        return self.item()

    def numpy(self) -> np.ndarray:
        return np.asarray(self.data)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d Value")
        return self.shape[0]

    def __repr__(self) -> str:
        lab = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op!r}" if self._op is not None else ""
        if type(self.data) is float:
            grad = "" if self._grad is None else f", grad={self._grad:.6g}"
            return f"Value({self.data:.6g}{lab}{op}{grad})"
        return f"Value(shape={self.shape}, dtype={self.dtype}{lab}{op})"

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other: Any) -> "Value":
        return _binary(ops.ADD, self, other)

    def __radd__(self, other: Any) -> "Value":
        return _binary(ops.ADD, other, self)

    def __sub__(self, other: Any) -> "Value":
        return _binary(ops.SUB, self, other)

    def __rsub__(self, other: Any) -> "Value":
        return _binary(ops.SUB, other, self)

    def __mul__(self, other: Any) -> "Value":
        return _binary(ops.MUL, self, other)

    def __rmul__(self, other: Any) -> "Value":
        return _binary(ops.MUL, other, self)

    def __truediv__(self, other: Any) -> "Value":
        return _binary(ops.DIV, self, other)

    def __rtruediv__(self, other: Any) -> "Value":
        return _binary(ops.DIV, other, self)

    def __matmul__(self, other: Any) -> "Value":
        return _binary(ops.MATMUL, self, other)

    def __rmatmul__(self, other: Any) -> "Value":
        return _binary(ops.MATMUL, other, self)

    def __pow__(self, exponent: Any) -> "Value":
        if isinstance(exponent, numbers.Real) and not isinstance(exponent, np.ndarray):
            return _unary(ops.PowConst(float(exponent)), self)
        return _binary(ops.POW, self, exponent)

    def __rpow__(self, base: Any) -> "Value":
        return _binary(ops.POW, base, self)

    def __neg__(self) -> "Value":
        return _unary(ops.NEG, self)

    # ------------------------------------------------------------ elementwise
    def exp(self) -> "Value":
        return _unary(ops.EXP, self)

    def log(self) -> "Value":
        return _unary(ops.LOG, self)

    def sigmoid(self) -> "Value":
        return _unary(ops.SIGMOID, self)

    def tanh(self) -> "Value":
        return _unary(ops.TANH, self)

    def relu(self) -> "Value":
        return _unary(ops.RELU, self)

    def square(self) -> "Value":
        return _unary(ops.SQUARE, self)

    def sqrt(self) -> "Value":
        return _unary(ops.SQRT, self)

    def abs(self) -> "Value":
        return _unary(ops.ABS, self)

    def softplus(self) -> "Value":
        return _unary(ops.SOFTPLUS, self)

    # ------------------------------------------------------------ reductions
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> "Value":
        return _unary(ops.Sum(axis, keepdims), self)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> "Value":
        return _unary(ops.Mean(axis, keepdims), self)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> "Value":
        return _unary(ops.Max(axis, keepdims), self)

    # ------------------------------------------------------------ shapes
    def reshape(self, *shape: Any) -> "Value":
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _unary(ops.Reshape(shape), self)

    def transpose(self, *axes: Any) -> "Value":
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _unary(ops.Transpose(axes or None), self)

    @property
    def T(self) -> "Value":
        return self.transpose()

    def __getitem__(self, index: Any) -> "Value":
        if isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Value) else i for i in index)
        elif isinstance(index, Value):
            index = index.data
        return _unary(ops.GetItem(index), self)

    def softmax(self, axis: int = -1) -> "Value":
        return _unary(ops.Softmax(axis), self)

    def log_softmax(self, axis: int = -1) -> "Value":
        return _unary(ops.LogSoftmax(axis), self)

    # ------------------------------------------------------------ autograd
    def backward(self, grad: Any = None, create_graph: bool = False) -> None:
        """Add d(self)/d(leaf) into every leaf's ``.grad``; recompute interior grads.

        ``grad`` seeds the pass and is required unless self has one element.
        ``create_graph=True`` makes every ``.grad`` a Value built from ops, to
        differentiate again (see ``tl.grad``).
        """
        autograd.backward(self, grad, create_graph)

    def zero_grad(self) -> None:
        """Reset this Value's gradient (to "not computed yet", read as zeros)."""
        self._grad = None

    def detach(self) -> "Value":
        """A new leaf sharing this Value's data (no copy, as ``torch.detach``); no gradient flows through."""
        v = Value(0.0, label=self.label, requires_grad=False)
        v.data = self.data  # set after construction: the data is already valid, and shared
        return v

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Jupyter shows the graph as SVG; without Graphviz's ``dot``, as text."""
        from . import viz

        bundle = {"text/plain": repr(self)}
        try:
            bundle["image/svg+xml"] = viz.to_svg(self)
        except (RuntimeError, viz.GraphTooLargeError) as e:
            bundle["text/plain"] += f"\n(graph not drawn: {str(e).splitlines()[0]})"
        return bundle

    def backward_steps(self) -> Iterable[Any]:
        """Backprop one chain-rule application at a time (see ``tl.backprop_steps``)."""
        from .steps import backprop_steps

        return backprop_steps(self)

    def stepper(self, **options: Any) -> Any:
        """An inline stepper through backprop of this Value (see ``viz.stepper``)."""
        from . import viz

        return viz.stepper(self, **options)


# Imported last: autograd works on Values, and Value.backward delegates to it.
from . import autograd  # noqa: E402
