"""Parse and evaluate a small math expression into a graph of Values, safely (``ast``, no ``eval``).

Every number typed is one input leaf (x0, x1, …), a leading minus included: ``-1.0``
is the input −1.0, not neg(1.0). The exponent of ``**`` is a constant (a plain Python
number, folded from numbers and + − × ÷ **). A list is a vector: + − × ÷ **, unary −
and exp, log, sigmoid, tanh, relu, square, sqrt act elementwise on lists of equal length
(or a list and a number); softmax and log_softmax map a list to a list; sum and mean
reduce a list to a number; ``[...][i]`` picks one element.

Nothing is parsed before the raw text passes the length and bracket-depth limits, and
nothing is evaluated before the tree passes the size and depth limits; the graph built
is budgeted too, so every expression is refused or drawn in well under a second.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
import warnings
from typing import Any, Callable, NamedTuple

from . import functional as F
from .naming import graph_nodes
from .value import Value

MAX_LENGTH = 1000  # characters of raw text
MAX_BRACKETS = 32  # nesting of ( [ {
MAX_NODES = 300  # nodes of the syntax tree (operators included)
MAX_DEPTH = 100  # nesting of sub-expressions in the syntax tree
MAX_LIST, MAX_EXPONENT, MAX_NUMBER = 64, 64, 1e6
MAX_BUILT = 20_000  # nodes + edges created while evaluating
MAX_DRAWN = 600  # nodes + edges of the result's graph: Graphviz lays that out in ~0.1 s (0.4 s on a busy machine)

# Typeset operators a learner may paste from the docs, one character each (columns stay put).
_TYPESET = str.maketrans({"−": "-", "×": "*", "÷": "/"})


class ExprError(ValueError):
    """The expression uses something outside the whitelist or is too big."""


class Parsed(NamedTuple):
    """An evaluated expression: its root, one input leaf per number typed, and those numbers as typed."""

    root: Value
    inputs: list[Value]
    typed: list[str]


ELEMENTWISE = ("exp", "log", "sigmoid", "tanh", "relu", "square", "sqrt")
LIST_TO_LIST = {"softmax": F.softmax, "log_softmax": F.log_softmax}
LIST_TO_NUMBER = {
    "sum": lambda xs: functools.reduce(operator.add, xs),
    "mean": lambda xs: functools.reduce(operator.add, xs) / len(xs),
}
FUNCTIONS = (*ELEMENTWISE, *LIST_TO_LIST, *LIST_TO_NUMBER)
BINARY: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add), ast.Sub: ("-", operator.sub), ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv), ast.Pow: ("**", operator.pow),
}
UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: lambda v: v}


def parse(text: str) -> Parsed:
    """Check ``text`` against every limit, then evaluate it into a graph of Values."""
    tree = _syntax_tree(text)
    ev = _Evaluator(text)
    # Warnings wait until the whole expression is accepted: a refusal is then the only message.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ev.eval(tree.body)
        except RecursionError:
            raise ExprError("the expression is nested too deeply to evaluate") from None
    if isinstance(result, list):
        raise ExprError(f"the expression gives a list of {len(result)}; pick one element, "
                        "e.g. softmax([2.0, 1.0])[0], or reduce it with sum(...) or mean(...)")
    nodes = graph_nodes(result)
    edges = sum(len(n._prev) for n in nodes)
    if len(nodes) + edges > MAX_DRAWN:
        raise ExprError(f"the graph has {len(nodes)} nodes and {edges} edges, too many to draw "
                        f"(at most {MAX_DRAWN} together); use shorter lists or fewer operations")
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return Parsed(result, ev.inputs, ev.typed)


def _syntax_tree(text: str) -> ast.Expression:
    """The parsed tree, once the raw text and then the tree are within the limits."""
    if not isinstance(text, str):
        raise ExprError(f"the expression must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"the expression has {len(text)} characters; at most {MAX_LENGTH} are allowed")
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    if deepest > MAX_BRACKETS:
        raise ExprError(f"brackets are nested {deepest} deep; at most {MAX_BRACKETS} levels are allowed")
    try:
        tree = ast.parse(text.translate(_TYPESET), mode="eval")
    except SyntaxError as e:
        where = f" at column {e.offset}" if e.offset else ""
        raise ExprError(f"not a valid expression: {_one_line(e.msg)}{where}") from None
    except RecursionError:
        raise ExprError("the expression is nested too deeply to parse") from None
    except MemoryError:
        raise ExprError("the expression is too big to parse") from None
    except Exception as e:  # noqa: BLE001 - whatever else the parser raises (e.g. null bytes) is bad input
        raise ExprError(f"not a valid expression: {_one_line(str(e))}") from None
    count = 0
    stack = [(tree.body, 1)]
    while stack:  # iterative: a deep tree must not crash the check meant to refuse it
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise ExprError(f"the expression is nested more than {MAX_DEPTH} levels deep")
        inner = depth + isinstance(node, ast.expr)
        stack.extend((child, inner) for child in ast.iter_child_nodes(node))
    if count > MAX_NODES:
        raise ExprError(f"the expression has {count} parts; at most {MAX_NODES} are allowed")
    return tree


def _one_line(message: str) -> str:
    return " ".join(message.split())


class _Evaluator:
    """Walks the checked tree, making one input per number typed and counting what it builds."""

    def __init__(self, text: str) -> None:
        self.text = text.translate(_TYPESET)
        self.inputs: list[Value] = []
        self.typed: list[str] = []
        self.built = 0

    def spend(self, nodes: int, edges: int) -> None:
        self.built += nodes + edges
        if self.built > MAX_BUILT:
            raise ExprError(f"the expression builds more than {MAX_BUILT} nodes and edges; "
                            "use shorter lists or fewer operations")

    def number(self, node: ast.AST) -> float | None:
        """The value of a number literal, signed (``-1.0``) or not; None if ``node`` is not one."""
        sign = 1.0
        if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
            sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
            node = node.operand
        if not (isinstance(node, ast.Constant) and type(node.value) in (int, float)):
            return None
        if not abs(node.value) <= MAX_NUMBER:  # also refuses inf (1e400) and huge integers
            raise ExprError(f"the number {self.source(node)} is too large (at most {MAX_NUMBER:,.0f} in size)")
        return sign * float(node.value)

    def source(self, node: ast.AST) -> str:
        """``node`` as typed, shortened if long."""
        text = ast.get_source_segment(self.text, node) or ast.dump(node)
        return text if len(text) <= 24 else f"{text[:10]}…({len(text)} characters)"

    def exponent(self, node: ast.AST) -> float:
        """The exponent of ``**`` as a plain number: numbers and + − × ÷ ** of numbers, folded."""
        try:
            n = self.fold(node)
        except ArithmeticError:  # 1/0, overflow
            n = math.nan
        if isinstance(n, complex) or not math.isfinite(n):
            raise ExprError(f"the exponent {self.source(node)} is not a finite real number")
        if abs(n) > MAX_EXPONENT:
            raise ExprError(f"exponent {n:g} is too large (at most {MAX_EXPONENT} in size)")
        return float(n)

    def fold(self, node: ast.AST) -> Any:
        number = self.number(node)
        if number is not None:
            return number
        if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
            return UNARY[type(node.op)](self.fold(node.operand))
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            return BINARY[type(node.op)][1](self.fold(node.left), self.fold(node.right))
        raise ExprError("an exponent must be a number (or arithmetic on numbers), e.g. x ** 2 or x ** (1/2)")

    def eval(self, node: ast.AST) -> Value | list[Value]:
        number = self.number(node)
        if number is not None:
            return self.input(node, number)
        if isinstance(node, ast.List):
            if len(node.elts) > MAX_LIST:
                raise ExprError(f"lists may have at most {MAX_LIST} elements, this one has {len(node.elts)}")
            return [self.scalar(self.eval(e), "a list's elements must be numbers, not lists") for e in node.elts]
        if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
            return self.map(UNARY[type(node.op)], self.eval(node.operand))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            n = self.exponent(node.right)
            return self.map(lambda v: v ** n, self.eval(node.left))
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            return self.zip(node.op, self.eval(node.left), self.eval(node.right))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
            return self.call(node)
        if isinstance(node, ast.Subscript):
            return self.index(node)
        raise ExprError(f"not allowed: {_describe(node)}")

    def input(self, node: ast.AST, number: float) -> Value:
        v = Value(number, label=f"x{len(self.inputs)}")
        self.inputs.append(v)
        negative = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
        literal = node.operand if isinstance(node, ast.UnaryOp) else node
        self.typed.append("-" * negative + (ast.get_source_segment(self.text, literal) or repr(abs(number))))
        self.spend(1, 0)
        return v

    @staticmethod
    def scalar(v: Value | list[Value], message: str) -> Value:
        if isinstance(v, list):
            raise ExprError(message)
        return v

    def map(self, fn: Callable[[Value], Value], x: Value | list[Value]) -> Value | list[Value]:
        if isinstance(x, list):
            self.spend(len(x), len(x))
            return [_apply(fn, v) for v in x]
        self.spend(1, 1)
        return _apply(fn, x)

    def zip(self, op: ast.operator, a: Value | list[Value], b: Value | list[Value]) -> Value | list[Value]:
        symbol, fn = BINARY[type(op)]
        if not isinstance(a, list) and not isinstance(b, list):
            self.spend(1, 2)
            return _apply(fn, a, b)
        if isinstance(a, list) and isinstance(b, list) and len(a) != len(b):
            raise ExprError(f"'{symbol}' works elementwise on lists of the same length; "
                            f"got lists of {len(a)} and {len(b)}")
        n = len(a) if isinstance(a, list) else len(b)
        self.spend(n, 2 * n)
        left = a if isinstance(a, list) else [a] * n
        right = b if isinstance(b, list) else [b] * n
        return [_apply(fn, x, y) for x, y in zip(left, right)]

    def call(self, node: ast.Call) -> Value | list[Value]:
        name = node.func.id  # type: ignore[attr-defined]
        if len(node.args) != 1 or node.keywords:
            raise ExprError(f"{name}() takes exactly one argument")
        arg = self.eval(node.args[0])
        if name in ELEMENTWISE:
            return self.map(lambda v: getattr(v, name)(), arg)
        if not isinstance(arg, list):
            raise ExprError(f"{name}() takes a list, e.g. {name}([2.0, 1.0, 0.1])")
        if not arg:
            raise ExprError(f"{name}() needs at least one number")
        k = len(arg)
        if name in LIST_TO_LIST:
            self.spend(k, k * k)  # each output depends on every input
            return _apply(LIST_TO_LIST[name], arg)
        self.spend(k, 2 * k)
        return _apply(LIST_TO_NUMBER[name], arg)

    def index(self, node: ast.Subscript) -> Value:
        seq = self.eval(node.value)
        i = _integer(node.slice)
        if not isinstance(seq, list) or i is None:
            raise ExprError("only a list can be indexed, and only with an integer, e.g. softmax([1.0, 2.0])[0]")
        if not -len(seq) <= i < len(seq):
            raise ExprError(f"index {i} is out of range for a list of {len(seq)}")
        return seq[i]


def _apply(fn: Callable[..., Any], *args: Any) -> Any:
    """Run one op; a domain error (e.g. sqrt of a negative number) is the expression's fault."""
    try:
        return fn(*args)
    except ExprError:
        raise
    except (ValueError, ArithmeticError) as e:
        raise ExprError(_one_line(str(e))) from None


def _integer(node: ast.AST) -> int | None:
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        sign, node = -1, node.operand
    if isinstance(node, ast.Constant) and type(node.value) is int and abs(node.value) <= MAX_LIST:
        return sign * node.value
    return None


# What a refused node is, in the words of someone who typed it.
_KINDS = {
    ast.Compare: "comparisons", ast.BoolOp: "and/or", ast.IfExp: "if/else", ast.Lambda: "lambda",
    ast.Tuple: "tuples (use a list: [1.0, 2.0])", ast.Dict: "dicts", ast.Set: "sets", ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions", ast.DictComp: "comprehensions", ast.GeneratorExp: "generators",
    ast.JoinedStr: "f-strings", ast.NamedExpr: "assignment (:=)", ast.Starred: "unpacking (*)",
    ast.Yield: "yield", ast.YieldFrom: "yield", ast.Await: "await", ast.Slice: "slices",
}


def _describe(node: ast.AST) -> str:
    if type(node) in _KINDS:
        return _KINDS[type(node)]
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
        return f"function {name!r}; allowed functions: {', '.join(FUNCTIONS)}"
    if isinstance(node, ast.Name):
        return f"name {node.id!r}; only numbers and the allowed functions may appear"
    if isinstance(node, ast.Attribute):
        return "attribute access"
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        return f"the operator {type(node.op).__name__}; use + - * / **"
    if isinstance(node, ast.Constant):
        text = repr(node.value)
        return f"the constant {text if len(text) <= 24 else text[:10] + '…'}; only real numbers may appear"
    return type(node).__name__
