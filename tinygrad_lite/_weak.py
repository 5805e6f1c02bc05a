"""Weak tables keyed by object identity.

``weakref.WeakSet``/``WeakKeyDictionary`` compare keys with ``==``, and a
Value's ``==`` is elementwise (it gives a boolean Value, as PyTorch's does),
so tables of Values are keyed by ``id`` here; an entry goes when its object does.
"""

from __future__ import annotations

import weakref
from typing import Any, Iterator


class WeakIdTable(dict):
    """object → item, holding the object weakly and comparing by identity only.

    A dict of ``id(obj) → (weak reference, item)`` underneath, so that ``if table:``
    (asked on every module call and every backward) is the dict's own test, not a Python call.
    Use ``get``/``set``/``pop`` with the objects themselves.
    """

    __slots__ = ()

    def _drop(self, key: int) -> Any:
        def drop(_ref: weakref.ref) -> None:
            entry = dict.get(self, key)
            if entry is not None and entry[0] is _ref:
                dict.__delitem__(self, key)

        return drop

    def get(self, obj: Any, default: Any = None) -> Any:  # type: ignore[override]
        entry = dict.get(self, id(obj))
        return entry[1] if entry is not None and entry[0]() is obj else default

    def set(self, obj: Any, item: Any) -> None:
        key = id(obj)
        dict.__setitem__(self, key, (weakref.ref(obj, self._drop(key)), item))

    def pop(self, obj: Any) -> None:  # type: ignore[override]
        if self.get(obj, self) is not self:
            dict.__delitem__(self, id(obj))

    def __iter__(self) -> Iterator[Any]:
        for ref, _ in list(dict.values(self)):
            obj = ref()
            if obj is not None:
                yield obj


class WeakIdSet:
    """A set of objects held weakly, by identity (``in`` never calls ``==``)."""

    __slots__ = ("_table",)

    def __init__(self) -> None:
        self._table = WeakIdTable()

    def add(self, obj: Any) -> None:
        self._table.set(obj, True)

    def discard(self, obj: Any) -> None:
        self._table.pop(obj)

    def __contains__(self, obj: Any) -> bool:
        return self._table.get(obj, False)

    def __len__(self) -> int:
        return len(self._table)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._table)
