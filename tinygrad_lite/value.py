"""``Value``: one node type for scalars and tensors, and the graph it records.

Scalar Values hold a Python ``float`` (fast, like micrograd); tensor Values a
NumPy array.  An op's result remembers its parents, its op and what the op's
backward needs; ``backward()`` (in ``autograd``) walks that graph.
"""

from __future__ import annotations

import numbers
from typing import Any, Callable, Iterable, Union

import numpy as np

from . import hooks, interop, ops
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


def _constant(data: Any) -> "Value":
    """A constant (no gradient) leaf holding ``data`` as it is (also booleans, from comparisons)."""
    c = Value(0.0, requires_grad=False)
    c.data = data  # set after construction: kept as it is, not converted to float
    return c


def _lift(x: Any, op: str) -> "Value":
    """An operand that is not a Value becomes a constant (no gradient) leaf."""
    if isinstance(x, Value):
        return x
    try:
        return Value(x, requires_grad=False)
    except (TypeError, ValueError):
        raise TypeError(
            f"{op}: cannot combine a Value with {type(x).__name__} {x!r}; "
            "use a number, a NumPy array or a Value"
        ) from None


def _is_number(x: Any) -> bool:
    """A real Python or NumPy scalar (bools count, as in arithmetic); not an array."""
    return isinstance(x, numbers.Real) and not isinstance(x, np.ndarray)


def _make(op: ops.Op, out: Any, x: Any, y: Any, dx: Any, dy: Any, requires_grad: bool) -> "Value":
    """The result node of ``op``, in the layout ``Value`` describes (a detached leaf under ``no_grad``)."""
    if type(out) is not float and type(out) is not np.ndarray:
        out = np.asarray(out)  # NumPy returns scalars for 0-d results; keep one array type
    # Plain attribute stores, not tuple unpacking: this runs once per op.
    v = _new(Value)
    v.data = out
    v._grad = None
    v._id = _next_id()
    plain = modes.plain
    if plain or modes.grad_enabled:
        v._op = op
        v._x = x
        v._y = y
        v._dx = dx
        v._dy = dy
        v.requires_grad = requires_grad
        if not plain and modes.anomaly:
            _check_forward(v, op)
    else:
        v._op = v._x = v._y = v._dx = v._dy = None
        v.requires_grad = False
    return v


def _node(op: ops.Op, out: Any, saved: Any, parents: tuple, requires_grad: bool) -> "Value":
    """The result node of any op: ``saved`` as its forward returned it, ``parents`` a tuple."""
    if len(parents) > 2 or not parents:
        return _make(op, out, tuple(parents), None, saved, None, requires_grad)
    x, y = parents if len(parents) == 2 else (parents[0], None)
    if op.uses_locals:
        return _make(op, out, x, y, saved[0], saved[1] if y is not None else None, requires_grad)
    return _make(op, out, x, y, saved, None, requires_grad)


def _check_forward(v: "Value", op: ops.Op) -> None:
    v._trace = user_frame_info()
    if not np.all(np.isfinite(v.data)):
        raise AnomalyError(
            f"{op.name} produced NaN/Inf in forward (output shape {np.shape(v.data)}), "
            f"created at {v._trace}"
        )


def _unary(op: ops.LocalOp | ops.VjpOp, a: "Value") -> "Value":
    out, saved = op.forward(a.data)
    return _make(op, out, a, None, saved[0] if op.uses_locals else saved, None, a.requires_grad)


def _elementwise(op: ops.LocalOp):
    """``Value.exp`` and friends for a one-parent LocalOp: ``_unary`` bound to it (one call fewer)."""
    def method(self: "Value") -> "Value":
        out, (dx,) = op.forward(self.data)
        return _make(op, out, self, None, dx, None, self.requires_grad)

    method.__name__ = method.__qualname__ = op.name
    method.__doc__ = f"Elementwise {op.name}; its local derivative is {op.formula(0)} (x: the input, out: the result)."
    return method


def _with_number(op: ops.NumberOp, a: "Value", c: Any) -> "Value":
    """``a ∘ c`` (or ``c ∘ a``) for a number c: one parent; the number is kept in ``_y``."""
    c = float(c)
    out, local = op.op.forward_number(a.data, c, op.first)
    return _make(op, out, a, c, local, None, a.requires_grad)


def _binary(op: ops.Op, a: "Value", b: Any) -> "Value":
    """``a ∘ b`` for a Value ``a``; a number ``b`` goes into the op (see ``NumberOp``)."""
    if type(b) is not Value:
        if op.numbered is not None and (type(b) is float or _is_number(b)):
            return _with_number(op.numbered[0], a, b)
        b = _lift(b, op.name)
    try:
        out, saved = op.forward(a.data, b.data)
    except ShapeError:
        raise
    except ValueError as e:
        if "broadcast" in str(e):
            raise broadcast_error(op.name, a.data, b.data) from None
        raise
    if op.uses_locals:
        dx, dy = saved
        return _make(op, out, a, b, dx, dy, a.requires_grad or b.requires_grad)
    return _make(op, out, a, b, saved, None, a.requires_grad or b.requires_grad)


def _rbinary(op: ops.Op, b: "Value", a: Any) -> "Value":
    """``a ∘ b`` for a Value ``b`` and an ``a`` that is not one (Python's reflected operators)."""
    if op.numbered is not None and _is_number(a):
        return _with_number(op.numbered[1], b, a)
    return _binary(op, _lift(a, op.name), b)


def _operator(op: ops.Op, reflected: bool = False):
    """``Value.__mul__`` (or, reflected, ``__rmul__``) for a binary op.

    The common cases (two Values of a LocalOp; a Value and a Python number) run here inline,
    ``_make`` included for a scalar, without the calls of the general path (``_binary``):
    these are the scalar path's hottest lines, and each Python call saved is ~10% of an op.
    """
    number_op = op.numbered[reflected] if op.numbered is not None else None
    local = op.uses_locals
    general = _rbinary if reflected else _binary

    def method(self: "Value", b: Any) -> "Value":
        t = type(b)
        try:
            if t is Value:  # (never reflected: b's own operator would have run)
                out, dx = op.forward(self.data, b.data)
                dx, dy = dx if local else (dx, None)  # a LocalOp's two locals, or a VjpOp's saved
                node_op, rg = op, self.requires_grad or b.requires_grad
            elif (t is float or t is int) and number_op is not None:
                if t is int:
                    b = float(b)  # kept in _y (see Value), always as a float
                out, dx = op.forward_number(self.data, b, reflected)
                node_op, dy, rg = number_op, None, self.requires_grad
            else:
                return general(op, self, b)
        except ValueError:  # e.g. shapes that do not broadcast: the general path explains them
            return general(op, self, b)
        if type(out) is not float or not modes.plain:
            return _make(node_op, out, self, b, dx, dy, rg)
        v = _new(Value)  # _make's stores for a float recorded without checks
        v.data = out
        v._grad = None
        v._id = _next_id()
        v._op = node_op
        v._x = self
        v._y = b
        v._dx = dx
        v._dy = dy
        v.requires_grad = rg
        return v
    return method


Axis = Union[int, tuple[int, ...], None]
_REPR_THRESHOLD = 64  # more elements than this: repr summarises the array (and gives its shape)


def _array_text(a: Any, prefix: str) -> str:
    return np.array2string(np.asarray(a), separator=", ", prefix=prefix, threshold=_REPR_THRESHOLD,
                           edgeitems=3, precision=4)


def _axis_args(op: str, axis: Any, keepdims: bool, dim: Any, keepdim: bool | None, default: Any = None) -> tuple:
    """(axis, keepdims) from NumPy's or PyTorch's spelling; both at once is an error."""
    if dim is not None:
        if axis is not default:
            raise TypeError(f"{op}: got axis={axis!r} and dim={dim!r}; they are the same argument, pass one")
        axis = dim
    return axis, keepdims if keepdim is None else bool(keepdim)


def _index_data(i: Any) -> Any:
    """A Value used as an index gives its integers (or booleans); a non-integer one is refused."""
    if not isinstance(i, Value):
        return i
    d = i.data
    if type(d) is float:
        if not d.is_integer():
            raise IndexError(f"index: a Value holding {d!r} is not an integer index")
        return int(d)
    return d


def _compare(a: "Value", b: Any, fn: Any, name: str) -> Any:
    """A boolean constant Value (no gradient) from an elementwise comparison."""
    if isinstance(b, Value):
        b = b.data
    elif not isinstance(b, (numbers.Number, np.ndarray, np.generic, list, tuple)):
        return NotImplemented
    try:
        return _constant(np.asarray(fn(a.data, b)))
    except ValueError:
        raise broadcast_error(name, a.data, np.asarray(b)) from None


def _logical(a: "Value", b: Any, fn: Any, name: str) -> "Value":
    """&, |, ^ and ~ of boolean Values (as from comparisons), elementwise."""
    datas = [x.data if isinstance(x, Value) else np.asarray(x) for x in (a, b) if x is not None]
    for d in datas:
        if np.asarray(d).dtype != np.bool_:
            raise TypeError(f"{name}: needs boolean Values (from comparisons such as x > 0), got dtype "
                            f"{np.asarray(d).dtype}; compare first, e.g. (x > 0) {name} (x < 1)")
    try:
        return _constant(np.asarray(fn(*datas)))
    except ValueError:
        raise broadcast_error(name, *datas) from None


class Value:
    """A scalar or tensor in a computation graph, with the gradient backprop gives it.

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b + a.exp(); c.backward()
    >>> round(a.grad, 6), b.grad
    (4.389056, 2.0)
    """

    # A node is one object (no tuples of parents or locals: a scalar op makes nothing else
    # for the allocator and the garbage collector).  Its op, parents and locals:
    #   _op        the op that made it; None for a leaf (then _x, _y, _dx, _dy are None too)
    #   _x, _y     its parents; _y is None for an op of one parent, and for a NumberOp
    #              (x * 2.0, 1 - x) it is the number, a float
    #   _dx, _dy   what backward needs: for a LocalOp ∂out/∂x and ∂out/∂y (the edges' locals);
    #              for a VjpOp _dx is whatever its forward saved
    #   an op of more than two parents (the scalar softmax, linear with a bias) keeps them as a tuple in _x, and
    #   its locals (or what it saved) in _dx.
    # ``parents``/``_prev`` and ``_saved`` give the same as tuples, for code that is not hot.
    # Slots an op's result never sets (so a node is smaller and the garbage collector visits
    # less; readers go through properties that give the default):
    #   _label     the label, when one is given ("" otherwise)
    #   _more      what few nodes have, once one is set: a dict of "trace" (where detect_anomaly
    #              saw it made), "role" (see ``role``), "grad_graph" (the gradient as a Value, from
    #              backward(create_graph=True)); None on a fresh leaf, so a parameter's .grad reads fast
    __slots__ = ("data", "_grad", "_op", "_x", "_y", "_dx", "_dy", "requires_grad", "_id", "_label", "_more",
                 "__weakref__")

    def __init__(self, data: Any, label: str = "", requires_grad: bool = True) -> None:
        self.data = _to_data(data)
        self._grad = None
        if label or type(label) is not str:  # an empty label stays unset (see the slots)
            self.label = label
        self.requires_grad = bool(requires_grad)
        self._op = self._x = self._y = self._dx = self._dy = None
        self._id = _next_id()
        self._more = None
        if not modes.plain and modes.anomaly:
            self._trace = user_frame_info()

    # ------------------------------------------------------------ rarely set (see the slots)
    @property
    def label(self) -> str:
        """The name drawings, steps and explanations use for this Value ("" for none)."""
        return getattr(self, "_label", "")

    @label.setter
    def label(self, value: str) -> None:
        self._label = str(value)

    def _get_more(self, key: str) -> Any:
        more = getattr(self, "_more", None)
        return None if more is None else more.get(key)

    def _set_more(self, key: str, value: Any) -> None:
        more = getattr(self, "_more", None)
        if more is None:
            more = self._more = {}
        more[key] = value

    _trace = property(lambda self: self._get_more("trace"), lambda self, v: self._set_more("trace", v),
                      doc="``file:line: source`` where the node was made under detect_anomaly, else None.")
    _grad_graph = property(lambda self: self._get_more("grad_graph"),
                           lambda self, v: self._set_more("grad_graph", v),
                           doc="The gradient as a Value, from backward(create_graph=True), else None.")

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
        graph = self._get_more("grad_graph")
        return graph if graph is not None and graph.data is g else g

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None:
            self._grad = None
            return
        g = _to_data(value.data if isinstance(value, Value) else value, "grad")
        if np.shape(g) != self.shape:
            raise ShapeError(
                f"grad: cannot assign a gradient of shape {np.shape(g)} to a Value of shape {self.shape}; "
                "a gradient has its Value's shape (None resets it)"
            )
        self._grad = float(g) if type(self.data) is float else np.array(g, dtype=self.dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        return () if type(self.data) is float else self.data.shape

    @property
    def ndim(self) -> int:
        return 0 if type(self.data) is float else self.data.ndim

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
        """The Values this one was computed from, in argument order (numbers are not among them)."""
        x = self._x
        if x is None:
            return ()
        if type(x) is tuple:
            return x
        y = self._y
        return (x, y) if type(y) is Value else (x,)

    _prev = parents

    @property
    def _saved(self) -> Any:
        """What backward uses: a LocalOp's locals as a tuple (one per parent), or a VjpOp's saved data."""
        op = self._op
        if op is None:
            return None
        if not op.uses_locals or type(self._x) is tuple:
            return self._dx
        return (self._dx, self._dy) if type(self._y) is Value else (self._dx,)

    @property
    def _number(self) -> float | None:
        """The number a NumberOp keeps (2.0 in ``x * 2.0``), else None."""
        return self._y if type(self._y) is float else None

    @property
    def role(self) -> str:
        """What a leaf is for: ``"parameter"`` for a layer's weights (set by ``nn``), else ``""``."""
        return self._get_more("role") or ""

    @role.setter
    def role(self, value: str) -> None:
        self._set_more("role", str(value))

    @property
    def is_leaf(self) -> bool:
        return not self.parents

    def item(self) -> Any:
        if type(self.data) is float:
            return self.data
        if self.size != 1:
            raise ValueError(f"item: only a one-element Value converts to a number, not shape {self.shape}")
        return self.data.reshape(()).item()  # a float (int, bool for argmax, comparisons)

    def __float__(self) -> float:
        return float(self.item())

    def numpy(self) -> np.ndarray:
        return np.asarray(self.data)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d Value")
        return self.shape[0]

    def __repr__(self) -> str:
        """The value (and grad once computed), tensors too, as PyTorch's ``tensor(...)``."""
        lab = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op!r}" if self._op is not None else ""
        if type(self.data) is float:
            grad = "" if self._grad is None else f", grad={self._grad:.6g}"
            return f"Value({self.data:.6g}{lab}{op}{grad})"
        extra = f", shape={self.shape}" if self.size > _REPR_THRESHOLD else ""
        if self.dtype != np.float64:
            extra += f", dtype={self.dtype}"
        grad = "" if self._grad is None else ",\n      grad=" + _array_text(self._grad, "      grad=")
        return f"Value({_array_text(self.data, 'Value(')}{extra}{lab}{op}{grad})"

    def __format__(self, spec: str) -> str:
        if not spec:
            return repr(self)
        if self.size != 1:
            raise TypeError(
                f"format: the spec {spec!r} needs a one-element Value, this one has shape {self.shape}; "
                "format an element (v[0]) or v.data with np.array2string"
            )
        return format(self.item(), spec)

    # ------------------------------------------------------------ arithmetic
    __add__, __radd__ = _operator(ops.ADD), _operator(ops.ADD, reflected=True)
    __sub__, __rsub__ = _operator(ops.SUB), _operator(ops.SUB, reflected=True)
    __mul__, __rmul__ = _operator(ops.MUL), _operator(ops.MUL, reflected=True)
    __truediv__, __rtruediv__ = _operator(ops.DIV), _operator(ops.DIV, reflected=True)
    __pow__, __rpow__ = _operator(ops.POW), _operator(ops.POW, reflected=True)
    __matmul__, __rmatmul__ = _operator(ops.MATMUL), _operator(ops.MATMUL, reflected=True)

    __neg__ = _elementwise(ops.NEG)

    # ------------------------------------------------------------ elementwise
    exp, log, sigmoid, tanh = (_elementwise(op) for op in (ops.EXP, ops.LOG, ops.SIGMOID, ops.TANH))
    relu, square, sqrt, abs = (_elementwise(op) for op in (ops.RELU, ops.SQUARE, ops.SQRT, ops.ABS))
    softplus = _elementwise(ops.SOFTPLUS)

    # ------------------------------------------------------------ reductions
    # ``dim=``/``keepdim=`` are PyTorch's spellings of ``axis=``/``keepdims=``.
    def sum(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> "Value":
        return _unary(ops.Sum(*_axis_args("sum", axis, keepdims, dim, keepdim)), self)

    def mean(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> "Value":
        return _unary(ops.Mean(*_axis_args("mean", axis, keepdims, dim, keepdim)), self)

    def max(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> "Value":
        """Maximum (as ``torch.amax``: tied maxima share the gradient equally)."""
        return _unary(ops.Max(*_axis_args("max", axis, keepdims, dim, keepdim)), self)

    # ------------------------------------------------------------ shapes
    def reshape(self, *shape: Any) -> "Value":
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _unary(ops.Reshape(shape), self)

    def transpose(self, *dims: Any) -> "Value":
        """Swap two axes, as PyTorch: ``x.transpose(0, 1)``; with no dims, reverse them all (``.T``)."""
        if not dims:
            return _unary(ops.Transpose(None), self)
        if len(dims) != 2 or isinstance(dims[0], (tuple, list)):
            raise TypeError(
                f"transpose: takes the two dims to swap (as PyTorch), e.g. x.transpose(0, 1), got {dims!r}; "
                "for a full permutation of the axes use x.permute(...)"
            )
        nd = self.ndim
        i, j = (ops.shape.axis_index("transpose", d, nd) for d in dims)
        perm = list(range(nd))
        perm[i], perm[j] = j, i
        return _unary(ops.Transpose(tuple(perm)), self)

    @property
    def T(self) -> "Value":
        return _unary(ops.Transpose(None), self)

    def __getitem__(self, index: Any) -> "Value":
        if isinstance(index, tuple):
            index = tuple(_index_data(i) for i in index)
        else:
            index = _index_data(index)
        return _unary(ops.GetItem(index), self)

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> "Value":
        return _unary(ops.Softmax(_axis_args("softmax", axis, False, dim, None, -1)[0]), self)

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> "Value":
        return _unary(ops.LogSoftmax(_axis_args("log_softmax", axis, False, dim, None, -1)[0]), self)

    # ------------------------------------------------------------ everyday ops (PyTorch names)
    log1p, sin, cos, erf = (_elementwise(op) for op in (ops.LOG1P, ops.SIN, ops.COS, ops.ERF))

    def min(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> "Value":
        """Minimum (as ``torch.amin``: tied minima share the gradient equally)."""
        return _unary(ops.Min(*_axis_args("min", axis, keepdims, dim, keepdim)), self)

    def var(self, axis: Axis = None, correction: float = 1, keepdims: bool = False, *, dim: Axis = None,
            keepdim: bool | None = None) -> "Value":
        """Variance, dividing by n − correction (1: the unbiased estimate, as PyTorch's default)."""
        axis, keepdims = _axis_args("var", axis, keepdims, dim, keepdim)
        return _unary(ops.Var(axis, correction, keepdims), self)

    def std(self, axis: Axis = None, correction: float = 1, keepdims: bool = False, *, dim: Axis = None,
            keepdim: bool | None = None) -> "Value":
        """Standard deviation √var (its gradient is 0 where it is 0, as PyTorch)."""
        axis, keepdims = _axis_args("std", axis, keepdims, dim, keepdim)
        return _unary(ops.Std(axis, correction, keepdims), self)

    def clamp(self, min: Any = None, max: Any = None) -> "Value":
        """Limit to [min, max] (either may be None); the gradient passes only where x was kept."""
        if min is None and max is None:
            raise ValueError("clamp: give min=, max= or both (e.g. x.clamp(min=0))")
        if isinstance(min, Value) or isinstance(max, Value):
            # Value bounds get the gradient where they were taken; at a bound x keeps it (as PyTorch).
            from .combine import where

            out = self if min is None else where(self >= min, self, min)
            return out if max is None else where(out <= max, out, max)
        for name, b in (("min", min), ("max", max)):
            if b is not None and (isinstance(b, bool) or not isinstance(b, numbers.Real)):
                raise TypeError(f"clamp: {name} must be a number, a Value or None, got {type(b).__name__} {b!r}")
        return _unary(ops.Clamp(None if min is None else float(min), None if max is None else float(max)), self)

    clip = clamp

    def squeeze(self, dim: Axis = None) -> "Value":
        """Drop axes of size 1 (all, or only ``dim``; a ``dim`` of another size stays, as PyTorch)."""
        return _unary(ops.Squeeze(ops.shape.squeezed(self.shape, dim)), self)

    def unsqueeze(self, dim: int) -> "Value":
        """Insert an axis of size 1 at ``dim``."""
        return _unary(ops.Unsqueeze(ops.shape.unsqueezed(self.shape, dim)), self)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Value":
        """Merge the axes start_dim..end_dim into one (all of them by default)."""
        return _unary(ops.Flatten(ops.shape.flattened(self.shape, start_dim, end_dim)), self)

    def expand(self, *shape: Any) -> "Value":
        """Repeat along axes of size 1 to ``shape`` (-1 keeps a size); the gradient is summed back."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _unary(ops.Expand(tuple(shape)), self)

    def permute(self, *dims: Any) -> "Value":
        """Reorder the axes: axis k of the result is axis ``dims[k]`` of this Value."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        if len(dims) != self.ndim:
            raise ShapeError(f"permute: {len(dims)} dims {dims} given for a Value of shape {self.shape}; "
                             f"give all {self.ndim}, e.g. x.permute({', '.join(map(str, reversed(range(self.ndim))))})")
        return _unary(ops.Permute(dims), self)

    def argmax(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None,
               keepdim: bool | None = None) -> "Value":
        """Index of the largest entry (of the flattened Value when axis is None); no gradient."""
        return self._arg(np.argmax, "argmax", *_axis_args("argmax", axis, keepdims, dim, keepdim))

    def argmin(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None,
               keepdim: bool | None = None) -> "Value":
        """Index of the smallest entry (of the flattened Value when axis is None); no gradient."""
        return self._arg(np.argmin, "argmin", *_axis_args("argmin", axis, keepdims, dim, keepdim))

    def _arg(self, fn: Callable, name: str, axis: Any, keepdims: bool) -> "Value":
        if axis is not None:
            axis = ops.shape.axis_index(name, axis, self.ndim)
        if self.size == 0:
            raise ShapeError(f"{name}: a Value of shape {self.shape} is empty")
        return _constant(np.asarray(fn(self.data, axis=axis, keepdims=keepdims)))

    # Comparisons give boolean Values with no gradient; hashing stays by identity (nodes are dict keys).
    __hash__ = object.__hash__

    def __lt__(self, other: Any) -> Any:
        return _compare(self, other, np.less, "<")

    def __le__(self, other: Any) -> Any:
        return _compare(self, other, np.less_equal, "<=")

    def __gt__(self, other: Any) -> Any:
        return _compare(self, other, np.greater, ">")

    def __ge__(self, other: Any) -> Any:
        return _compare(self, other, np.greater_equal, ">=")

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return _compare(self, other, np.equal, "==")

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return _compare(self, other, np.not_equal, "!=")

    def __and__(self, other: Any) -> "Value":
        return _logical(self, other, np.logical_and, "&")

    def __or__(self, other: Any) -> "Value":
        return _logical(self, other, np.logical_or, "|")

    def __xor__(self, other: Any) -> "Value":
        return _logical(self, other, np.logical_xor, "^")

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def __invert__(self) -> "Value":
        return _logical(self, None, np.logical_not, "~")

    def __bool__(self) -> bool:
        if type(self.data) is float:
            return self.data != 0.0
        if self.size != 1:
            raise ValueError(
                f"the truth value of a Value of shape {self.shape} is ambiguous (as for a PyTorch tensor); "
                "reduce it first, e.g. bool((x > 0).sum()) for any, or compare one element"
            )
        return bool(self.data.reshape(()))

    # NumPy: np.asarray(v) gives the numbers; NumPy functions (np.concatenate, ...) are refused.
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        a = np.asarray(self.data, dtype=dtype)
        return a.copy() if copy else a

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        return interop.array_function(func, args, kwargs)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        # `array * value` arrives here and goes to Value.__rmul__ (never an array of Values).
        return interop.array_ufunc(self, ufunc, method, inputs, kwargs)

    # ------------------------------------------------------------ hooks
    def register_hook(self, fn: Callable[[Any], Any]) -> hooks.RemovableHandle:
        """Call ``fn(grad)`` when this Value's gradient is complete in a backward pass; a returned
        value replaces the gradient.  Returns a handle whose ``.remove()`` takes the hook off."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: this Value does not require grad, so no gradient reaches it")
        return hooks.register(hooks.grad_hooks, self, fn, "register_hook")

    def retain_grad(self) -> None:
        """Accepted for PyTorch code; nothing to do, as every node keeps its ``.grad``."""


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


def maximum(a: Any, b: Any) -> Value:
    """Elementwise larger of ``a`` and ``b``; a tie sends half the gradient to each (as PyTorch)."""
    return _binary(ops.MAXIMUM, *_value_first(a, b, "maximum"))


def minimum(a: Any, b: Any) -> Value:
    """Elementwise smaller of ``a`` and ``b``; a tie sends half the gradient to each (as PyTorch)."""
    return _binary(ops.MINIMUM, *_value_first(a, b, "minimum"))


def _value_first(a: Any, b: Any, who: str) -> tuple[Value, Any]:
    """maximum/minimum are symmetric: put the Value first (a number or array may come first)."""
    if isinstance(a, Value):
        return a, b
    if isinstance(b, Value):
        return b, a
    raise TypeError(f"{who}: one of the operands must be a Value, got {type(a).__name__} and {type(b).__name__}; "
                    f"for plain numbers use np.{who}")


# Imported last: autograd works on Values, and Value.backward delegates to it.
from . import autograd  # noqa: E402
