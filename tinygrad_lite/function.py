"""``tl.Function``: custom ops written on NumPy data, as ``torch.autograd.Function``.

>>> import numpy as np
>>> class Cube(Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, grad):
...         (x,) = ctx.saved_values
...         return grad * 3 * x ** 2
>>> x = Value(2.0)
>>> y = Cube.apply(x); y.backward()
>>> y.data, x.grad, y.op
(8.0, 12.0, 'Cube')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._state import modes
from .errors import ShapeError
from .ops.base import VjpOp
from .value import Value, _node, _to_data


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: ``save_for_backward(...)`` and any attributes set on it."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self.saved_values: tuple[Any, ...] = ()

    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays (or numbers) for ``backward``; they come back as ``ctx.saved_values``."""
        self.saved_values = tuple(v.data if isinstance(v, Value) else v for v in values)

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """PyTorch's name for ``saved_values``."""
        return self.saved_values


class FunctionOp(VjpOp):
    """The op of one ``Function.apply`` call: it holds the ctx and calls the user's backward."""

    # Its backward works on NumPy data, so create_graph (second order) refuses it by name.
    saved_as = None

    def __init__(self, fn: type[Function], ctx: FunctionCtx, positions: tuple[int, ...], n_inputs: int,
                 in_shapes: tuple[tuple[int, ...], ...], out_shape: tuple[int, ...]) -> None:
        self.fn, self.ctx, self.positions, self.n_inputs = fn, ctx, positions, n_inputs
        self.in_shapes, self.out_shape = in_shapes, out_shape
        self.name = fn.__name__
        self.expr = getattr(fn, "expr", None)
        self.vjps = (f"{self.name}.backward(ctx, g)",)
        self._numbers: tuple[Any, ...] | None = None

    def formula(self, i: int) -> str:
        """The class's ``formulas`` template if given; else the number itself (a one-element edge)."""
        templates = getattr(self.fn, "formulas", None)
        if templates:
            return templates[i] if i < len(templates) else templates[-1]
        if int(np.prod(self.out_shape)) != 1 or int(np.prod(self.in_shapes[i])) != 1:
            return self.vjp(i)
        if self._numbers is None:  # the local derivative is backward with upstream 1
            g = 1.0 if not self.out_shape else np.ones(self.out_shape)
            self._numbers = self.backward(None, g, ())
        c = self._numbers[i]
        return "0" if c is None else f"{float(np.sum(c)):.4g}"

    def backward(self, saved: Any, g: Any, parents: tuple) -> tuple[Any, ...]:
        name = self.name
        grads = self.fn.backward(self.ctx, g)
        if not isinstance(grads, (tuple, list)):
            grads = (grads,)
        if len(grads) != self.n_inputs:
            raise RuntimeError(
                f"{name}.backward returned {len(grads)} gradient(s), but {name}.forward took {self.n_inputs} "
                f"input(s); return one per input, in order (None for an input without a gradient)"
            )
        out = []
        value_pos = set(self.positions)
        for k, gk in enumerate(grads):
            if k not in value_pos and gk is not None:
                raise TypeError(f"{name}.backward returned a gradient for input {k}, which is not a Value; "
                                "return None there")
        for pos, shape in zip(self.positions, self.in_shapes):
            gk = grads[pos]
            if gk is None:
                out.append(None)
                continue
            if isinstance(gk, Value):
                raise TypeError(f"{name}.backward returned a Value for input {pos}; backward works on NumPy "
                                "data: return an array (or a number)")
            gk = _to_data(gk, f"{name}.backward")
            got = np.shape(gk)
            if got != shape and _broadcast(shape, got) != got:
                raise ShapeError(
                    f"{name}.backward returned a gradient of shape {got} for input {pos}, which has shape "
                    f"{shape}; a gradient has its input's shape"
                )
            out.append(gk)
        return tuple(out)


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return None


class Function:
    """Subclass with static ``forward(ctx, *inputs)`` and ``backward(ctx, grad_output)``; call ``.apply``.

    ``forward`` gets each Value input's data (a float or an array; other
    arguments as they are) and returns the output's data; ``backward`` gets
    the output's gradient and returns one gradient per input (None for
    none).  Optional class attributes: ``formulas`` (per input, the local
    derivative as a template over ``x``, ``y``, ``out``, as the built-in ops
    have) and ``expr`` (the output as a template), so drawings, steps and
    ``explain`` show the op like a built-in one; without them they show its
    name and the numbers.
    """

    formulas: tuple[str, ...] | None = None

    @staticmethod
    def forward(ctx: FunctionCtx, *inputs: Any) -> Any:
        raise NotImplementedError("a tl.Function subclass must define forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx: FunctionCtx, grad_output: Any) -> Any:
        raise NotImplementedError("a tl.Function subclass must define backward(ctx, grad_output)")

    @classmethod
    def apply(cls, *inputs: Any) -> Value:
        """Run ``forward`` on the inputs' data and record one node whose backward is ``backward``."""
        values = tuple(x for x in inputs if isinstance(x, Value))
        ctx = FunctionCtx(tuple(isinstance(x, Value) and x.requires_grad and modes.grad_enabled for x in inputs))
        out = cls.forward(ctx, *(x.data if isinstance(x, Value) else x for x in inputs))
        if isinstance(out, Value):
            raise TypeError(f"{cls.__name__}.forward returned a Value; forward works on NumPy data: "
                            "return an array or a number (e.g. the result of np.exp(x))")
        if isinstance(out, (tuple, list)):
            raise TypeError(f"{cls.__name__}.forward returned a {type(out).__name__}; a tl.Function has one output "
                            "(return one array; make a second Function for a second output)")
        out = _to_data(out, f"{cls.__name__}.forward")
        positions = tuple(k for k, x in enumerate(inputs) if isinstance(x, Value))
        op = FunctionOp(cls, ctx, positions, len(inputs), tuple(v.shape for v in values), np.shape(out))
        return _node(op, out, None, values, any(v.requires_grad for v in values))
