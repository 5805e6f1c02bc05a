"""Every op tinygrad_lite can differentiate; one class per op, forward and backward together.

Where to look: ``elementwise`` (add … softplus, and ``NumberOp``: x * 2.0, 1 - x, …),
``tensor`` (matmul, sum, mean, max, reshape, transpose, indexing), ``softmax`` (softmax,
log_softmax).
"""

from .base import ONE, LocalOp, Op, VjpOp, number_literal, number_text, unbroadcast
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
    NumberOp,
)
from .softmax import LogSoftmax, LogSoftmaxOut, Softmax, SoftmaxOut, scalar_group
from .tensor import MATMUL, GetItem, MatMul, Max, Mean, Reshape, ScatterAdd, Sum, Transpose

__all__ = [
    "ONE", "Op", "LocalOp", "VjpOp", "unbroadcast", "number_text", "number_literal",
    "ADD", "SUB", "MUL", "DIV", "NEG", "POW", "NumberOp", "EXP", "LOG", "SIGMOID", "TANH",
    "RELU", "SQUARE", "SQRT", "ABS", "SOFTPLUS",
    "MATMUL", "MatMul", "Sum", "Mean", "Max", "Reshape", "Transpose", "GetItem", "ScatterAdd",
    "Softmax", "LogSoftmax", "SoftmaxOut", "LogSoftmaxOut", "scalar_group",
]
