"""Process-wide autograd switches: grad recording and anomaly detection."""

from __future__ import annotations

import contextlib
import itertools
import os
import sys

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class _Modes:
    """Process-wide (not per-thread: a thread-local costs ~10% of every scalar op)."""

    __slots__ = ("grad_enabled", "anomaly")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False


modes = _Modes()

# Creation order of nodes: parents are always created before their children,
# so sorting a graph by this number is a valid topological order.
creation_counter = itertools.count()


class no_grad(contextlib.ContextDecorator):
    """Build no graph inside this block: results are detached leaves."""

    def __enter__(self) -> "no_grad":
        self._prev = modes.grad_enabled
        modes.grad_enabled = False
        return self

    def __exit__(self, *exc: object) -> None:
        modes.grad_enabled = self._prev


class enable_grad(contextlib.ContextDecorator):
    """Record the graph again inside a ``no_grad`` block."""

    def __enter__(self) -> "enable_grad":
        self._prev = modes.grad_enabled
        modes.grad_enabled = True
        return self

    def __exit__(self, *exc: object) -> None:
        modes.grad_enabled = self._prev


class detect_anomaly(contextlib.ContextDecorator):
    """Raise ``AnomalyError`` at the first NaN/Inf in forward or backward.

    Each node made inside the block remembers the line of user code that
    created it, so the error can point there (like ``torch.autograd.detect_anomaly``).
    """

    def __enter__(self) -> "detect_anomaly":
        self._prev = modes.anomaly
        modes.anomaly = True
        return self

    def __exit__(self, *exc: object) -> None:
        modes.anomaly = self._prev


def user_frame_info() -> str:
    """``file:line: source`` of the innermost caller outside this package."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    import linecache

    fname, line = frame.f_code.co_filename, frame.f_lineno
    src = linecache.getline(fname, line).strip()
    return f"{fname}:{line}: {src}" if src else f"{fname}:{line}"


def user_stacklevel() -> int:
    """``warnings.warn`` stacklevel that points at the caller outside this package."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level
