"""`tinygrad-lite graph` computes what it prints, refuses bad input in one line, and shows warnings as lines.

The gradients it prints are checked against closed forms for the seed losses typed by hand.
"""

import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from tinygrad_lite import seed
from tinygrad_lite.cli import main
from tinygrad_lite.expr import parse

SCRIPT = Path(sys.executable).with_name("tinygrad-lite")
CLI = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "tinygrad_lite"]


def graph(expr, tmp_path, capsys):
    """Run `graph expr` in-process: (exit status, {input label: (as typed, gradient)}, value, stdout, stderr)."""
    code = main(["graph", expr, "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    grads, value = {}, None
    for line in out.replace("−", "-").splitlines():
        if line.startswith("value: "):
            value = float(line.split()[1])
        elif line.strip().startswith("∂"):
            head, g = line.rsplit(": ", 1)
            label, typed = head[head.index("(") + 1:-1].split(" = ")
            grads[label] = (typed, float(g))
    return code, grads, value, out, err


def short(value):
    """A readable test id for long expressions."""
    text = str(value)
    return text if len(text) <= 40 else f"{text[:16]}…({len(text)} characters)"


def softmax(z):
    e = np.exp(np.asarray(z) - np.max(z))
    return e / e.sum()


def grad_array(grads, n, start=0):
    return np.array([grads[f"x{k}"][1] for k in range(start, start + n)])


def test_negative_literals_are_inputs_and_ce_gives_yhat_minus_y(tmp_path, capsys):
    code, grads, value, out, _ = graph("-log(softmax([-1.0, 3.0, 0.5])[0])", tmp_path, capsys)
    assert code == 0 and "∂out/∂x0 (x0 = −1.0): −0.983355" in out
    z = [-1.0, 3.0, 0.5]
    assert [grads[f"x{k}"][0] for k in range(3)] == ["-1.0", "3.0", "0.5"] and len(grads) == 3
    np.testing.assert_allclose(grad_array(grads, 3), seed.closed_forms(softmax(z), 0)["ce"], rtol=1e-5, atol=1e-6)  # 6 significant digits printed
    assert value == pytest.approx(-np.log(softmax(z)[0]), abs=1e-5)
    texts = [e.text for e in ET.parse(tmp_path / "graph.svg").iter() if e.tag.endswith("text") and e.text]
    i = texts.index("x0")  # the drawing shows the same input and gradient as the printout
    assert texts[i + 1:i + 3] == ["data −1", "grad −0.9834"]


@pytest.mark.parametrize("logits", [seed.LOGITS, (2.0, 1.0, 0.1)])
def test_mse_typed_with_lists_gives_the_seed_closed_form(logits, tmp_path, capsys):
    expr = f"sum((softmax([{', '.join(map(str, logits))}]) - [1, 0, 0]) ** 2)"
    code, grads, value, _, _ = graph(expr, tmp_path, capsys)
    yhat, y = softmax(logits), np.eye(3)[0]
    assert code == 0 and len(grads) == 6  # three logits, three targets; the exponent is no input
    np.testing.assert_allclose(grad_array(grads, 3), seed.closed_forms(yhat, 0)["mse"], rtol=1e-5, atol=1e-6)  # 6 significant digits printed
    np.testing.assert_allclose(grad_array(grads, 3, start=3), -2 * (yhat - y), rtol=1e-5, atol=1e-6)  # 6 significant digits printed
    assert value == pytest.approx(np.sum((yhat - y) ** 2), abs=1e-5)


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_sigmoid_losses_typed_by_hand_match_the_seed_graph(loss, tmp_path, capsys):
    z = f"{seed.W} * {seed.X} + {seed.B}"
    expr = f"-log(sigmoid({z}))" if loss == "bce" else f"(sigmoid({z}) - {seed.Y}) ** 2"
    code, grads, _, _, _ = graph(expr, tmp_path, capsys)
    s = 1 / (1 + np.exp(-(seed.W * seed.X + seed.B)))
    dz = s - seed.Y if loss == "bce" else 2 * (s - seed.Y) * s * (1 - s)
    assert code == 0
    np.testing.assert_allclose(grad_array(grads, 3), [dz * seed.X, dz * seed.W, dz], rtol=1e-5, atol=1e-6)  # 6 significant digits printed
    w, _, L = seed.sigmoid_example(loss)
    L.backward()
    assert grads["x0"][1] == pytest.approx(w.grad, rel=1e-5)


@pytest.mark.parametrize("expr, typed, expected", [
    ("3.0 ** 2", ["3.0"], [6.0]),
    ("2.0 ** -1", ["2.0"], [-0.25]),
    ("4.0 ** (1/2)", ["4.0"], [0.25]),
    ("-2.0 ** 2", ["2.0"], [-4.0]),  # −(2²), as Python and maths read it
    ("-1.0 * 3", ["-1.0", "3"], [3.0, -1.0]),
    ("- -1.0", ["-1.0"], [-1.0]),
    ("sum([1.0, 2.0] * 3.0)", ["1.0", "2.0", "3.0"], [3.0, 3.0, 3.0]),
    ("sum(exp([0.0, 1.0]))", ["0.0", "1.0"], [1.0, np.e]),
    ("mean(-[1.0, 3.0] + [2.0, 2.0])", ["1.0", "3.0", "2.0", "2.0"], [-0.5, -0.5, 0.5, 0.5]),
    ("[1.0, 2.0][-1]", ["1.0", "2.0"], [0.0, 1.0]),
    ("2.0 × 3.0 − 1.0", ["2.0", "3.0", "1.0"], [3.0, 2.0, -1.0]),
])
def test_numbers_typed_are_the_inputs_and_exponents_are_constants(expr, typed, expected, tmp_path, capsys):
    code, grads, _, _, err = graph(expr, tmp_path, capsys)
    assert code == 0 and err == ""
    assert [grads[f"x{k}"][0] for k in range(len(grads))] == typed
    np.testing.assert_allclose(grad_array(grads, len(grads)), expected, rtol=1e-5, atol=1e-6)  # 6 significant digits printed


def test_the_exponent_is_a_constant_in_the_graph():
    root, inputs, _ = parse("3.0 ** 2")
    assert len(inputs) == 1 and root.op == "pow" and root.parents == (inputs[0],)


@pytest.mark.parametrize("expr, message", [
    ("+".join(["1.0"] * 5000), "at most 1000 are allowed"),  # crashed ast.parse: RecursionError
    ("-" * 999 + "1", "nested more than 100 levels"),
    ("(" * 40 + "1" + ")" * 40, "brackets are nested 40 deep"),
    ("sum([])", "sum() needs at least one number"),  # crashed: reduce() of empty iterable
    ("mean([])", "mean() needs at least one number"),
    ("[1.0, 2.0] - [1.0, 0.0, 0.0]", "'-' works elementwise on lists of the same length; got lists of 2 and 3"),
    ("[1.0, 2.0] * [1.0]", "got lists of 2 and 1"),
    ("[[1.0, 2.0]]", "a list's elements must be numbers"),
    ("[1.0, 2.0] ** [1.0, 2.0]", "an exponent must be a number"),
    ("2.0 ** exp(1.0)", "an exponent must be a number"),
    ("2.0 ** (1/0)", "the exponent 1/0 is not a finite real number"),
    ("2.0 ** ((-8.0) ** (1/3))", "is not a finite real number"),  # complex
    ("2.0 ** 65", "exponent 65 is too large"),
    ("[1.0, 2.0]", "the expression gives a list of 2"),
    ("sum(softmax([" + ", ".join(["0.5"] * 40) + "]))", "too many to draw"),  # took seconds to lay out
    ("1.0 // 2.0", "the operator FloorDiv"),
    ("1e400", "the number 1e400 is too large"),
    ("1j + 2.0", "the constant 1j; only real numbers may appear"),
], ids=short)
def test_bad_input_is_refused_in_one_line(expr, message, tmp_path, capsys):
    assert main(["graph", expr, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("tinygrad-lite: error: graph:") and message in err[0], err
    assert not (tmp_path / "graph.svg").exists()


def test_outside_a_domain_draws_nan_with_a_warning_as_pytorch(tmp_path, capsys):
    # One domain policy (SPEC §2): sqrt of a negative is NaN with a warning naming sqrt, not a refusal.
    assert main(["graph", "sqrt(-1.0)", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert "warning: sqrt: input has negative entries (smallest -1), result is nan; sqrt is defined for x >= 0: " \
           "use .abs() or .clamp(min=0) first" in err
    assert (tmp_path / "graph.svg").exists()


def test_a_refused_expression_prints_no_warnings_first(tmp_path, capsys):
    assert main(["graph", "exp(1000.0) + x", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("tinygrad-lite: error: graph: not allowed: name 'x'")


def test_the_drawing_budget_allows_what_draws_quickly(tmp_path, capsys):
    many = ", ".join(["0.5"] * 64)
    code, grads, _, _, _ = graph(f"-log(softmax([{many}])[0])", tmp_path, capsys)
    assert code == 0 and len(grads) == 64 and grads["x0"][1] == pytest.approx(1 / 64 - 1)
    assert grads["x1"][1] == pytest.approx(1 / 64)


def run(*args, cwd):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_cli_warnings_are_one_line_each_printed_once(tmp_path):
    r = run("graph", "exp(1000.0) + exp(1000.0)", "--out", "out", cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "out" / "graph.svg").exists()
    lines = r.stderr.splitlines()
    assert lines and all(line.startswith("warning: ") for line in lines), r.stderr
    assert lines.count("warning: exp: overflow to inf (input above ~709); shift the input down first") == 1
    assert len(set(lines)) == len(lines)
    assert "NonFiniteWarning" not in r.stderr and "sys.exit" not in r.stderr and ".py:" not in r.stderr


def test_cli_warnings_once_even_when_python_shows_every_warning(tmp_path):
    r = subprocess.run([sys.executable, "-W", "always", "-m", "tinygrad_lite", "graph", "exp(1000.0) + exp(1000.0)",
                        "--out", "out"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0 and r.stderr.count("warning: exp: overflow to inf") == 1, r.stderr


def test_debug_keeps_pythons_warning_format(tmp_path):
    r = run("--debug", "graph", "exp(1000.0)", "--out", "out", cwd=tmp_path)
    assert r.returncode == 0 and "NonFiniteWarning: exp: overflow to inf" in r.stderr
    assert "warning: exp" not in r.stderr


def test_library_warnings_are_untouched_after_the_command(tmp_path, capsys):
    before_show, before_filters = warnings.showwarning, list(warnings.filters)
    assert main(["graph", "exp(1000.0)", "--out", str(tmp_path)]) == 0
    assert "warning: exp: overflow" in capsys.readouterr().err
    assert warnings.showwarning is before_show and warnings.filters == before_filters
    import tinygrad_lite as tl

    with pytest.warns(tl.NonFiniteWarning, match="exp: overflow"):
        tl.Value(1000.0).exp()
