"""Every op tinygrad_lite can differentiate; one class per op, forward and backward together.

Where to look: ``elementwise`` (add … softplus, and ``NumberOp``: x * 2.0, 1 - x, …),
``tensor`` (matmul, sum, mean, max, reshape, transpose, indexing), ``softmax`` (softmax,
log_softmax).
``pointwise`` (sin … where, the activations), ``shape`` (squeeze … cat/stack),
``stats`` (var, std).
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
from .pointwise import (
    COS,
    ERF,
    LOG1P,
    MAXIMUM,
    MINIMUM,
    SILU,
    SIN,
    Clamp,
    Elu,
    Gelu,
    LeakyRelu,
    Where,
)
from .shape import Cat, Expand, Flatten, Permute, Squeeze, Unsqueeze
from .softmax import LogSoftmax, LogSoftmaxOut, Softmax, SoftmaxOut, scalar_group
from .stats import Std, Var
from .tensor import LINEAR, MATMUL, GetItem, Linear, MatMul, Max, Mean, Min, Reshape, ScatterAdd, Sum, Transpose

__all__ = [
    "ONE", "Op", "LocalOp", "VjpOp", "unbroadcast", "number_text", "number_literal",
    "ADD", "SUB", "MUL", "DIV", "NEG", "POW", "NumberOp", "EXP", "LOG", "SIGMOID", "TANH",
    "RELU", "SQUARE", "SQRT", "ABS", "SOFTPLUS",
    "MATMUL", "MatMul", "LINEAR", "Linear", "Sum", "Mean", "Max", "Reshape", "Transpose", "GetItem", "ScatterAdd",
    "Softmax", "LogSoftmax", "SoftmaxOut", "LogSoftmaxOut", "scalar_group",
    "SIN", "COS", "ERF", "LOG1P", "SILU", "MAXIMUM", "MINIMUM", "Clamp", "Where", "LeakyRelu", "Elu", "Gelu",
    "Min", "Var", "Std", "Squeeze", "Unsqueeze", "Flatten", "Expand", "Permute", "Cat",
]
