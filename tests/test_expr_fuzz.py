"""Fuzz `tinygrad-lite graph`: any text ends in under 2 s, with an SVG (exit 0) or one line (exit 2).

Random strings, random expression trees (every kind of Python expression node, allowed or
not), deep nesting, long sums, huge and tiny numbers, unicode. Nothing may be written outside
``--out``. Fixed seed (derandomize) and bounded example counts keep CI time to ~20 s: most
examples run in-process through ``cli.main`` with captured output, a handful in a real process.
"""

import ast
import io
import os
import random
import subprocess
import sys
import xml.etree.ElementTree as ET
from contextlib import redirect_stderr, redirect_stdout

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygrad_lite.cli import main
from tinygrad_lite.expr import FUNCTIONS

LIMIT_S = 2.0


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (dot, python -m …).

    The 2 s limit is on work done, measured in CPU time so that a loaded machine
    (other jobs on the same cores) cannot fail the test; a hang still fails by timeout.
    """
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system
FUZZ = settings(derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
# Strings argparse itself takes as options (help, the --out flag): not expressions.
OPTION_LIKE = ("-h", "--help", "--", "--debug")


def check_outcome(code, out, err, work, elapsed):
    """The fuzz test's whole assertion, for one input run with cwd ``work`` and ``--out work/out``."""
    assert elapsed < LIMIT_S, f"took {elapsed:.2f} s"
    assert "Traceback" not in err
    written = {p.relative_to(work).as_posix() for p in work.rglob("*")}
    assert written <= {"out", "out/graph.svg"}, f"wrote outside --out: {sorted(written)}"
    lines = err.splitlines()
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("tinygrad-lite: error: graph: "), err
        assert "out/graph.svg" not in written
    else:
        assert code == 0, (code, err)
        assert all(line.startswith("warning: ") for line in lines), err
        ET.parse(work / "out" / "graph.svg")
        assert "value: " in out


def graph_in_process(expr, tmp_path_factory):
    work = tmp_path_factory.mktemp("fuzz")
    stdout, stderr = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(work)
    try:
        with redirect_stdout(stdout), redirect_stderr(stderr):
            t0 = cpu_seconds()
            code = main(["graph", expr, "--out", "out"])
            elapsed = cpu_seconds() - t0
    finally:
        os.chdir(cwd)
    check_outcome(code, stdout.getvalue(), stderr.getvalue(), work, elapsed)
    return code


# ---------------------------------------------------------------- strategies

EXPR_CHARS = list("0123456789.e+-*/()[], _") + ["**", "exp", "log", "softmax", "sum", "−", "×"]
random_text = st.lists(st.one_of(st.sampled_from(EXPR_CHARS), st.characters()), max_size=60).map("".join).filter(
    lambda t: t not in OPTION_LIKE and not t.startswith("--out"))

# Random expression trees come from a seeded generator: as random as a recursive Hypothesis
# strategy with ~30 node kinds, and 100× faster to draw. Trees are mostly well-typed (so many
# get as far as drawing); at each node, with some chance, a construct outside the whitelist,
# a wrong type or a length mismatch replaces the allowed one.
NUMBERS = ["0", "1", "2.0", "0.5", "-0.0", "3", "1e6", "-1e6", "1e-300", "5e-324", "0x1F", "1_000", "999999.9"]
TOO_BIG = ["1e300", "1e400", "1000000.5", "123456789012345678901234567890", "1j", "-1e7"]
ELEMENTWISE = ["exp", "log", "sigmoid", "tanh", "relu", "square", "sqrt"]
NAMES = ["x", "exp", "__import__", "ｅｘｐ", "𝑥", "é", "__builtins__", "open"]
HOSTILE_ATOMS = ["'a'", "b'a'", "True", "None", "...", "[]", "()", "{}", *NAMES]
OTHER_BINOPS = ["//", "%", "@", "<<", ">>", "|", "^", "&"]
COMPARISONS = ["<", "<=", ">", ">=", "==", "!=", "is", "is not", "in", "not in"]
CALLEES = [*FUNCTIONS, "open", "eval", "print", "getattr", "abs", "max"]
HOSTILE = [  # every other kind of Python expression, around allowed sub-expressions a and b
    "({a}) {binop} ({b})", "~{a}", "not {a}", "{a} {cmp} {b}", "{a} {cmp} {b} {cmp} {a}", "{a} and {b}", "{a} or {b}", "{fn}({a}, {b})", "{fn}(x={a})", "{fn}(*{a})", "{fn}()", "({a})[0:1]",
    "({a})[::-1]", "({a})[1.5]", "({a})[x]", "({a}).real", "lambda x: {a}", "{a} if {b} else {a}", "({a}, {b})",
    "{{{a}, {b}}}", "{{{a}: {b}}}", "[{a} for x in {b}]", "{{{a} for x in {b}}}", "{{x: {a} for x in {b}}}",
    "({a} for x in {b})", "[*{a}]", "(y := {a})", "f'{{{a}}}'", "(yield {a})", "(yield from {a})", "await {a}", "{atom}",
    "[{a}, [{b}]]", "({a}) ** ({b})", "{a} +", "({a}", "{a})", "{a} {b}", "{a}; {b}", "import os",
]


def number(r):
    roll = r.random()
    if roll < 0.6:
        return f"{r.uniform(-5, 5):.{r.randint(0, 6)}f}"
    if roll < 0.92:
        return r.choice(NUMBERS)
    if roll < 0.94:
        return "9" * r.randint(1, 6000)
    return r.choice(TOO_BIG)


EXPONENTS = ["2", "-1", "0.5", "(1/2)", "3", "-2.5", "64", "65", "(2 ** 3)"]


def scalar(r, depth):
    """A number-valued expression (mostly allowed)."""
    if depth <= 0 or r.random() < 0.15:
        return number(r)
    if r.random() < 0.08:
        return hostile(r, depth)
    d, n = depth - 1, r.randint(1, 8)
    forms = [
        lambda: f"{scalar(r, d)} {r.choice('+-*/')} {scalar(r, d)}",
        lambda: f"({scalar(r, d)}) {r.choice('+-*/')} ({scalar(r, d)})",
        lambda: f"({scalar(r, d)}) ** {r.choice(EXPONENTS)}",
        lambda: f"{r.choice('-+')}{scalar(r, d)}",
        lambda: f"{r.choice(ELEMENTWISE)}({scalar(r, d)})",
        lambda: f"{r.choice(['sum', 'mean'])}({vector(r, d, n - 1)})",
        lambda: f"{r.choice(['softmax', 'log_softmax'])}({vector(r, d, n)})[{r.randint(-n - 1, n)}]",
        lambda: f"({vector(r, d, n)})[{r.randint(-n, n - 1)}]",
        lambda: f"({scalar(r, d)})",
    ]
    return r.choice(forms)()


def vector(r, depth, n):
    """A list-valued expression of n elements (mostly allowed; sometimes another length)."""
    if r.random() < 0.05:
        n = max(0, n + r.choice([-1, 1, 60]))
    if depth <= 0 or r.random() < 0.3:
        return "[" + ", ".join(number(r) for _ in range(n)) + "]"
    if r.random() < 0.08:
        return hostile(r, depth)
    d = depth - 1
    forms = [
        lambda: f"({vector(r, d, n)}) {r.choice('+-*/')} ({vector(r, d, n)})",
        lambda: f"({vector(r, d, n)}) {r.choice('+-*/')} {scalar(r, d)}",
        lambda: f"{r.choice(ELEMENTWISE + ['softmax', 'log_softmax'])}({vector(r, d, n)})",
        lambda: f"-({vector(r, d, n)}) ** 2",
        lambda: "[" + ", ".join(scalar(r, d) for _ in range(n)) + "]",
    ]
    return r.choice(forms)()


def hostile(r, depth):
    d = max(depth - 1, 0)
    return r.choice(HOSTILE).format(a=scalar(r, d), b=scalar(r, d), binop=r.choice(OTHER_BINOPS),
                                    fn=r.choice(CALLEES), atom=r.choice(HOSTILE_ATOMS), cmp=r.choice(COMPARISONS))


def random_tree(seed):
    r = random.Random(seed)
    return scalar(r, r.randint(1, 8))


trees = st.integers(0, 2**64).map(random_tree)

# Sizes on both sides of every limit (length 1000, brackets 32, depth 100, 300 parts, 64 elements).
sizes = st.one_of(st.integers(1, 3000), st.sampled_from([31, 32, 33, 63, 64, 65, 99, 100, 101, 149, 150, 333, 500]))
SHAPES = {
    "parens": lambda n: "(" * n + "1.0" + ")" * n,
    "calls": lambda n: "exp(" * n + "0.5" + ")" * n,
    "unary": lambda n: "-" * n + "1.0",
    "sum": lambda n: "+".join(["1.0"] * n),
    "product": lambda n: "*".join(["1.01"] * n),
    "powers": lambda n: "2.0" + " ** 1" * n,
    "brackets": lambda n: "[" * n + "1.0" + "]" * n,
    "list": lambda n: "sum([" + ", ".join(["0.5"] * n) + "])",
    "softmax": lambda n: "sum(softmax([" + ", ".join(["0.5"] * n) + "]))",
    "nested softmax": lambda n: "softmax(" * n + "[1.0, 2.0]" + ")" * n + "[0]",
    "elementwise": lambda n: "sum(" + " * ".join(["[0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5]"] * n) + ")",
}
deep_or_long = st.tuples(st.sampled_from(sorted(SHAPES)), sizes).map(lambda t: SHAPES[t[0]](t[1]))


# ---------------------------------------------------------------- the tests

def test_the_generator_can_make_every_kind_of_expression_node_and_operator():
    """Every ast.expr node type, operator and comparison is in the generator's tables (the trees draw from them)."""
    seen = set()
    forms = [t.format(a="1.0", b="[2.0]", binop=op, fn=fn, atom=atom, cmp=cmp) for t in HOSTILE
             for op, fn, atom, cmp in zip(OTHER_BINOPS * 2, CALLEES, HOSTILE_ATOMS * 2, COMPARISONS * 2)]
    for text in forms + [random_tree(seed) for seed in range(200)]:
        try:
            seen.update(type(n) for n in ast.walk(ast.parse(text, mode="eval")))
        except SyntaxError:
            pass
    bases = (ast.expr, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
    kinds = {c for c in vars(ast).values() if isinstance(c, type) and issubclass(c, bases) and c not in bases
             and not issubclass(c, ast.Constant)}  # ast.Num, ast.Str, …: deprecated aliases of Constant
    assert not {c.__name__ for c in kinds - seen}


@settings(FUZZ, max_examples=250)
@given(random_text)
def test_random_text(tmp_path_factory, text):
    graph_in_process(text, tmp_path_factory)


@settings(FUZZ, max_examples=250)
@given(trees)
def test_random_expression_trees(tmp_path_factory, expr):
    graph_in_process(expr, tmp_path_factory)


@settings(FUZZ, max_examples=80)
@given(deep_or_long)
def test_deep_nesting_and_long_expressions(tmp_path_factory, expr):
    graph_in_process(expr, tmp_path_factory)


@pytest.fixture(scope="module")
def startup():
    """Seconds to start the command and import everything: not part of the 2 s an input may take."""
    t0 = cpu_seconds()
    subprocess.run([sys.executable, "-m", "tinygrad_lite", "--help"], capture_output=True, timeout=60, check=True)
    return cpu_seconds() - t0


SUBPROCESS_CASES = [
    "+".join(["1.0"] * 5000),  # crashed ast.parse with a RecursionError traceback
    "-" * 900 + "1.0",
    "ｅｘｐ(1000.0) + 𝑥",
    "sum((softmax([2.0, 1.0, 0.1]) - [1, 0, 0]) ** 2)",
]


@pytest.mark.parametrize("expr", SUBPROCESS_CASES, ids=["5000-term sum", "900 minus signs", "unicode", "MSE"])
def test_hostile_input_in_a_real_process(expr, tmp_path, startup):
    """Also through `python -m tinygrad_lite`: real stdio encodings, exit codes and imports."""
    t0 = cpu_seconds()
    r = subprocess.run([sys.executable, "-m", "tinygrad_lite", "graph", expr, "--out", "out"],
                       capture_output=True, text=True, timeout=60, cwd=tmp_path)
    elapsed = cpu_seconds() - t0 - startup
    check_outcome(r.returncode, r.stdout, r.stderr, tmp_path, elapsed)


def test_every_input_in_the_real_process_cases_also_in_process(tmp_path_factory):
    assert [graph_in_process(e, tmp_path_factory) for e in SUBPROCESS_CASES] == [2, 2, 2, 0]
