"""no_grad, enable_grad and detect_anomaly apply to the thread that entered them, as in PyTorch."""

import math
import threading

import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value


def run_in_thread(fn):
    """Start ``fn`` in a thread; returns (thread, errors) where errors collects what it raised."""
    errors = []

    def target():
        try:
            fn()
        except BaseException as e:  # reported to the main thread
            errors.append(e)

    t = threading.Thread(target=target)
    t.start()
    return t, errors


def test_no_grad_in_another_thread_does_not_stop_this_threads_graph():
    inside, done = threading.Event(), threading.Event()
    seen = {}

    def background():
        with tl.no_grad():
            inside.set()
            a = Value(2.0)
            seen["in no_grad"] = (a * 3.0).requires_grad
            assert done.wait(10)
            seen["still in no_grad"] = (a * a).requires_grad

    t, errors = run_in_thread(background)
    assert inside.wait(10)
    x = Value(2.0, label="x")
    y = x * x + 1.0  # built while the other thread is inside no_grad
    done.set()
    t.join(10)
    assert not errors and seen == {"in no_grad": False, "still in no_grad": False}
    assert y.parents[0].parents == (x, x)
    y.backward()
    assert x.grad == 4.0


def test_this_threads_no_grad_does_not_reach_another_thread():
    entered, built = threading.Event(), threading.Event()
    seen = {}

    def background():
        assert entered.wait(10)
        a = Value(3.0)
        b = a * a
        b.backward()
        seen["grad"] = a.grad
        built.set()

    t, errors = run_in_thread(background)
    with tl.no_grad():
        entered.set()
        assert built.wait(10)
        assert not (Value(1.0) * 2.0).requires_grad
        with tl.enable_grad():
            assert (Value(1.0) * 2.0).requires_grad
        assert not (Value(1.0) * 2.0).requires_grad
    t.join(10)
    assert not errors and seen == {"grad": 6.0}
    assert (Value(1.0) * 2.0).requires_grad  # everything restored on exit


def test_detect_anomaly_is_per_thread():
    inside, done = threading.Event(), threading.Event()
    raised = []

    def background():
        with tl.detect_anomaly():
            inside.set()
            try:
                Value(1.0) * math.inf
            except tl.AnomalyError:
                raised.append(True)
            assert done.wait(10)

    t, errors = run_in_thread(background)
    assert inside.wait(10)
    y = Value(1.0) * math.inf  # no anomaly mode here: a value, no error
    done.set()
    t.join(10)
    assert not errors and raised == [True] and y.data == math.inf


def test_one_decorator_instance_entered_by_two_threads_at_once():
    quiet = tl.no_grad()
    barrier = threading.Barrier(2, timeout=10)
    results = []

    @quiet
    def build():
        barrier.wait()  # both threads are inside the same no_grad instance now
        r = (Value(2.0) * 3.0).requires_grad
        barrier.wait()
        return r

    t, errors = run_in_thread(lambda: results.append(build()))
    results.append(build())
    t.join(10)
    assert not errors and results == [False, False]
    assert (Value(2.0) * 3.0).requires_grad


def test_modes_restore_after_an_exception_and_nest():
    with pytest.raises(RuntimeError, match="inside"), tl.no_grad():
        raise RuntimeError("inside no_grad")
    assert (Value(1.0) * 2.0).requires_grad
    with tl.no_grad(), tl.no_grad():
        pass
    with tl.no_grad():
        with tl.enable_grad(), tl.no_grad():
            assert not (Value(1.0) * 2.0).requires_grad
        assert not (Value(1.0) * 2.0).requires_grad
    assert (Value(1.0) * 2.0).requires_grad
