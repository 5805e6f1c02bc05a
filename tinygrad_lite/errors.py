"""Exception and warning types, so users can catch exactly what went wrong."""


class ShapeError(ValueError):
    """Operands whose shapes do not fit the op (matmul, broadcast, reshape, ...)."""


class AnomalyError(FloatingPointError):
    """Inside ``detect_anomaly()``: an op produced NaN/Inf in forward or backward."""


class GradcheckError(AssertionError):
    """``gradcheck`` found an analytic gradient that disagrees with finite differences."""


class NonFiniteWarning(RuntimeWarning):
    """An op produced NaN/Inf (log of 0, division by 0, pow of a negative base...)."""


class ModelFileError(ValueError):
    """A model file ``Module.load`` cannot use: the message names the path and what is wrong."""
