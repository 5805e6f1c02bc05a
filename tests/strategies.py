"""Hypothesis strategies shared by the tests: shapes, broadcastable pairs, float64 data."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def arrays(shape, lo=-3.0, hi=3.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False, width=64))


@st.composite
def broadcast_pair(draw, lo=-3.0, hi=3.0):
    """Two float64 arrays whose shapes broadcast: scalar⊕tensor, (3,1)⊕(1,4), missing dims…"""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4))
    a, b = (draw(arrays(s, lo, hi)) for s in shapes.input_shapes)
    return a, b


@st.composite
def tensor_and_axis(draw):
    """An array and an axis argument valid for it (None, an int, or a tuple of ints)."""
    x = draw(arrays(draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))))
    nd = x.ndim
    axis = draw(
        st.one_of(
            st.none(),
            st.integers(-nd, nd - 1),
            st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple),
        )
    )
    return x, axis, draw(st.booleans())


def as_input(a):
    """Scalars as Python floats (the scalar path), arrays as arrays (the tensor path)."""
    return float(a) if np.ndim(a) == 0 else a
