"""tinygrad_lite: a small reverse-mode autograd on NumPy that shows why a gradient is what it is."""

from . import functional
from ._state import detect_anomaly, enable_grad, no_grad
from .combine import cat, maximum, minimum, stack, where
from .creation import arange, eye, full, manual_seed, ones, ones_like, rand, randn, zeros, zeros_like
from .errors import AnomalyError, GradcheckError, ModelFileError, NonFiniteWarning, ShapeError
from .function import Function, FunctionCtx
from .gradcheck import gradcheck
from .second_order import grad, gradgradcheck, hessian
from .steps import Step, Steps, backprop_steps
from .unrolling import Unrolled, unroll
from .value import Value

__version__ = "0.1.0"


def __getattr__(name: str):
    # explain needs SymPy, a large import; load it on first use so that training loops
    # (and the garbage collector, which walks every live object) don't carry it.
    if name in ("explain", "Explanation"):
        from . import explanation

        return getattr(explanation, name)
    raise AttributeError(f"module 'tinygrad_lite' has no attribute {name!r}")


__all__ = [
    "Value", "no_grad", "enable_grad", "detect_anomaly", "gradcheck", "functional",
    "grad", "hessian", "gradgradcheck",
    "backprop_steps", "Step", "Steps", "explain", "Explanation", "unroll", "Unrolled",
    "GradcheckError", "AnomalyError", "ShapeError", "NonFiniteWarning", "ModelFileError",
    "Function", "FunctionCtx", "cat", "stack", "where", "maximum", "minimum",
    "zeros", "ones", "full", "arange", "eye", "rand", "randn", "zeros_like", "ones_like", "manual_seed",
]
