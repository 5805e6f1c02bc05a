"""Every op tinygrad_lite can differentiate; one class per op, forward and backward together.

Where to look: ``elementwise`` (add … softplus), ``tensor`` (matmul, sum,
mean, max, reshape, transpose, indexing), ``softmax`` (softmax, log_softmax).
"""

from .base import ONE, LocalOp, Op, VjpOp, unbroadcast
from .elementwise import (
    ABS,
    ADD,
    DIV,
    EXP,
    LOG,
    MUL,
    NEG,
    POW,
    RELU,
    SIGMOID,
    SOFTPLUS,
    SQRT,
    SQUARE,
    SUB,
    TANH,
    PowConst,
)
from .softmax import LogSoftmax, LogSoftmaxOut, Softmax, SoftmaxOut, scalar_group
from .tensor import MATMUL, GetItem, MatMul, Max, Mean, Reshape, ScatterAdd, Sum, Transpose

__all__ = [
    "ONE", "Op", "LocalOp", "VjpOp", "unbroadcast",
    "ADD", "SUB", "MUL", "DIV", "NEG", "POW", "PowConst", "EXP", "LOG", "SIGMOID", "TANH",
    "RELU", "SQUARE", "SQRT", "ABS", "SOFTPLUS",
    "MATMUL", "MatMul", "Sum", "Mean", "Max", "Reshape", "Transpose", "GetItem", "ScatterAdd",
    "Softmax", "LogSoftmax", "SoftmaxOut", "LogSoftmaxOut", "scalar_group",
]
