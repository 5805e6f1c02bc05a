"""tinygrad_lite: a small reverse-mode autograd on NumPy that shows why a gradient is what it is."""

from . import functional
from ._state import detect_anomaly, enable_grad, no_grad
from .errors import AnomalyError, GradcheckError, NonFiniteWarning, ShapeError
from .explain import Explanation, explain
from .gradcheck import gradcheck
from .steps import Step, backprop_steps
from .value import Value

__version__ = "0.1.0"

__all__ = [
    "Value", "no_grad", "enable_grad", "detect_anomaly", "gradcheck", "functional",
    "backprop_steps", "Step", "explain", "Explanation",
    "GradcheckError", "AnomalyError", "ShapeError", "NonFiniteWarning",
]
