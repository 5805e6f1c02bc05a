"""Autograd switches (grad recording, anomaly detection), per thread as in PyTorch.

Each thread starts with grad recording on and anomaly detection off; ``no_grad``,
``enable_grad`` and ``detect_anomaly`` change only the thread that enters them.
Reading a per-thread setting on every op would cost ~10% of a scalar op, so ops
read one process-wide flag, ``modes.plain``: True while no thread is inside any
switch (every thread then records, without anomaly checks).  Only while some
thread is inside one do ops look at their own thread's settings.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import threading

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class _ThreadModes(threading.local):
    """One thread's settings; a new thread starts from the defaults."""

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        # What each switch entered in this thread replaced, one stack per setting: switches of
        # different settings may exit out of order (a generator paused inside no_grad()).
        self.saved: dict[str, list[bool]] = {"grad_enabled": [], "anomaly": []}


_thread = _ThreadModes()


class _Modes:
    """What ops read: the fast-path flag, and the calling thread's settings."""

    __slots__ = ("plain", "_active", "_lock")

    def __init__(self) -> None:
        self.plain = True  # no switch is active in any thread
        self._active = 0  # switches currently entered, over all threads
        self._lock = threading.Lock()

    @property
    def grad_enabled(self) -> bool:
        """Whether the calling thread records the graph."""
        return self.plain or _thread.grad_enabled

    @property
    def anomaly(self) -> bool:
        """Whether the calling thread checks for NaN/Inf (``detect_anomaly``)."""
        return not self.plain and _thread.anomaly

    def _enter(self, attr: str, value: bool) -> None:
        t = _thread
        with self._lock:
            self._active += 1
            self.plain = False
        t.saved[attr].append(getattr(t, attr))
        setattr(t, attr, value)

    def _exit(self, attr: str) -> None:
        t = _thread
        setattr(t, attr, t.saved[attr].pop())
        with self._lock:
            self._active -= 1
            self.plain = self._active == 0


modes = _Modes()

# Creation order of nodes: parents are always created before their children,
# so sorting a graph by this number is a valid topological order.
creation_counter = itertools.count()


class _Switch(contextlib.ContextDecorator):
    """Set one mode of the current thread for a ``with`` block (or a decorated function).

    The replaced setting is kept per thread, so one instance may be entered by
    several threads at once, or recursively (as a decorator).
    """

    attr = ""
    value = False

    def __enter__(self) -> "_Switch":
        modes._enter(self.attr, self.value)
        return self

    def __exit__(self, *exc: object) -> None:
        modes._exit(self.attr)


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
