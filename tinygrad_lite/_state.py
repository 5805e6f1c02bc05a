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


class _Switch(contextlib.ContextDecorator):
    """Set one mode for the duration of a ``with`` block (or a decorated function)."""

    attr = ""
    value = False

    def __enter__(self) -> "_Switch":
        self._prev = getattr(modes, self.attr)
        setattr(modes, self.attr, self.value)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(modes, self.attr, self._prev)


class no_grad(_Switch):
    """Build no graph inside this block: results are detached leaves."""

    attr, value = "grad_enabled", False


class enable_grad(_Switch):
    """Record the graph again inside a ``no_grad`` block."""

    attr, value = "grad_enabled", True


class detect_anomaly(_Switch):
    """Raise ``AnomalyError`` at the first NaN/Inf in forward or backward.

    Each node made inside the block remembers the line of user code that
    created it, so the error can point there (like ``torch.autograd.detect_anomaly``).
    """

    attr, value = "anomaly", True


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
