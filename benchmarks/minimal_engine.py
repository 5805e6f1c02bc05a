"""The baseline of ``scalar_bench``: the least a scalar autograd with one Python object per op does.

No op objects, no checks, no labels, no constant nodes: a node keeps its (at most two)
parents and their local derivatives in slots, and ``backward`` walks the nodes in creation
order.  It has only what W1, W2 and W5 use, and it is what any engine built of one Python
object per scalar op, tinygrad_lite included, can at best approach.
"""

from __future__ import annotations

import itertools

_order = itertools.count().__next__
_new = object.__new__


def _node(data: float, a: Value, da: float, b: Value | None, db: float) -> Value:
    v = _new(Value)
    v.data, v.grad, v._a, v._da, v._b, v._db, v._order = data, 0.0, a, da, b, db, _order()
    return v


class Value:
    __slots__ = ("data", "grad", "_a", "_da", "_b", "_db", "_order")

    def __init__(self, data: float) -> None:
        self.data, self.grad, self._a, self._b, self._order = float(data), 0.0, None, None, _order()

    def __add__(self, other: Value | float) -> Value:
        if type(other) is Value:
            return _node(self.data + other.data, self, 1.0, other, 1.0)
        return _node(self.data + other, self, 1.0, None, 0.0)

    def __mul__(self, other: Value | float) -> Value:
        if type(other) is Value:
            return _node(self.data * other.data, self, other.data, other, self.data)
        return _node(self.data * other, self, other, None, 0.0)

    __radd__, __rmul__ = __add__, __mul__

    def __neg__(self) -> Value:
        return _node(-self.data, self, -1.0, None, 0.0)

    def relu(self) -> Value:
        on = self.data > 0.0
        return _node(self.data if on else 0.0, self, 1.0 if on else 0.0, None, 0.0)

    def backward(self) -> None:
        nodes, seen, stack = [], set(), [self]
        while stack:
            n = stack.pop()
            if n not in seen:
                seen.add(n)
                nodes.append(n)
                if n._a is not None:
                    stack.append(n._a)
                    if n._b is not None:
                        stack.append(n._b)
        nodes.sort(key=lambda n: n._order)  # parents are always created before their children
        for n in nodes:
            if n._a is not None:
                n.grad = 0.0  # interior grads are recomputed, leaf grads accumulate
        self.grad = 1.0
        for n in reversed(nodes):
            if n._a is not None:
                n._a.grad += n.grad * n._da
                if n._b is not None:
                    n._b.grad += n.grad * n._db
