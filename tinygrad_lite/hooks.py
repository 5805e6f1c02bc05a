"""Hooks, as PyTorch's: on a Value's gradient (``register_hook``) and on a module's output.

A gradient hook ``fn(grad)`` runs once per backward pass, when the Value's
gradient for that pass is complete (every path into it has been added); a
returned value replaces that gradient: it is what flows on to the parents,
what an interior node keeps as ``.grad``, and what a leaf adds into its
``.grad``.  Backward looks at hooks only while at least one is registered.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

import numpy as np

from ._weak import WeakIdTable
from .errors import ShapeError

# Value → its gradient hooks; module → its forward hooks.
grad_hooks = WeakIdTable()
forward_hooks = WeakIdTable()


class RemovableHandle:
    """What ``register_hook`` returns: ``.remove()`` takes the hook off (also as a ``with`` block)."""

    __slots__ = ("_table", "_ref", "_fn")

    def __init__(self, table: WeakIdTable, obj: Any, fn: Callable) -> None:
        self._table, self._ref, self._fn = table, weakref.ref(obj), fn

    def remove(self) -> None:
        obj = self._ref()
        fns = self._table.get(obj) if obj is not None else None
        if fns is None:
            return
        for k, f in enumerate(fns):
            if f is self._fn:
                del fns[k]
                break
        if not fns:
            self._table.pop(obj)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register(table: WeakIdTable, obj: Any, fn: Callable, what: str) -> RemovableHandle:
    if not callable(fn):
        raise TypeError(f"{what}: the hook must be callable, got {type(fn).__name__} {fn!r}")
    fns = table.get(obj)
    if fns is None:
        fns = []
        table.set(obj, fns)
    fns.append(fn)
    return RemovableHandle(table, obj, fn)


def run_grad_hooks(node: Any, fns: list[Callable], g: Any) -> Any:
    """``g`` passed through each hook in registration order; a hook's non-None result replaces it."""
    for fn in list(fns):
        out = fn(g)
        if out is None:
            continue
        from .value import Value, _to_data

        new = _to_data(out.data if isinstance(out, Value) else out, "hook")
        if np.shape(new) != np.shape(g):
            who = f"{node.op} node" if node.op else "leaf"
            name = f" {node.label!r}" if node.label else ""
            raise ShapeError(
                f"register_hook: a hook on the {who}{name} (shape {node.shape}) returned a gradient of shape "
                f"{np.shape(new)}; it must return one of the gradient's shape {np.shape(g)}, or None to keep it"
            )
        g = float(new) if type(g) is float else np.asarray(new, dtype=np.asarray(g).dtype)
    return g


def run_forward_hooks(module: Any, inputs: tuple, output: Any) -> Any:
    for fn in list(forward_hooks.get(module, ())):
        result = fn(module, inputs, output)
        if result is not None:
            output = result
    return output
