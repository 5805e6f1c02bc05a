"""The command line end to end, in temporary folders."""

import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from tinygrad_lite import seed
from tinygrad_lite.cli import main
from tinygrad_lite.expr import ExprError, parse
from tinygrad_lite.naming import fmt


def run(*args):
    return subprocess.run([sys.executable, "-m", "tinygrad_lite", *args], capture_output=True, text=True, timeout=300)


def test_demo_writes_everything_and_prints_closed_forms(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("ce.svg", "mse.svg", "ce_vs_mse.svg", "ce_steps.html", "mse_steps.html", "ce_vs_mse_steps.html",
                 "sweep.csv"):
        assert (tmp_path / name).exists() and str(tmp_path / name) in out
    for name in ("ce.svg", "mse.svg", "ce_vs_mse.svg"):
        ET.parse(tmp_path / name)
    # The printed backprop columns equal the closed forms to 1e-9.
    z, probs, _ = seed.softmax_example("ce")
    closed = seed.closed_forms(np.array([p.data for p in probs]), seed.TARGET)
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit() and len(line.split()) == 5]
    got = np.array([[float(v) for v in r[1:]] for r in rows[:3]])
    np.testing.assert_allclose(got[:, 0], closed["ce"], atol=1e-6)
    np.testing.assert_allclose(got[:, 2], closed["mse"], atol=1e-6)
    assert "ŷ0 − 1" in out and "cancels: ŷ0" in out and "nothing cancels" in out
    assert "MSE = 0.060" in out and "MSE = 0.065" in out
    assert "SPEC" not in out


@pytest.mark.parametrize("loss", ["ce", "mse", "bce", "sigmoid-mse"])
def test_steps_prints_one_line_per_step_and_writes_the_stepper(loss, capsys, tmp_path):
    assert main(["steps", "--loss", loss, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n[") >= 3 and "result: ∂L/∂" in out
    page = tmp_path / f"{loss}_steps.html"
    assert page.exists() and f"wrote:\n  {page}" in out and 'class="tl-stepper"' in page.read_text(encoding="utf-8")
    if loss == "ce":  # the result line is one pass, the closed form ŷ_p − 1
        z, probs, _ = seed.softmax_example("ce")
        assert f"∂L/∂z0 = {fmt(probs[0].data - 1, 6)}" in out


def test_steps_interactive_waits_for_enter(tmp_path):
    r = subprocess.run([sys.executable, "-m", "tinygrad_lite", "steps", "--interactive", "--out", str(tmp_path)],
                       input="\n" * 20,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.count("[Enter for the next step]") >= 3


def test_train_end_to_end(tmp_path):
    r = run("train", "--loss", "both", "--dataset", "moons", "--init", "saturated", "--epochs", "3", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "final accuracy" in r.stdout and "mean ∂L/∂z_p" in r.stdout
    csv = (tmp_path / "train_both_moons_saturated.csv").read_text().splitlines()
    assert csv[0].startswith("epoch,loss_ce,accuracy_ce,grad_zp_ce,loss_mse") and len(csv) == 4
    ET.parse(tmp_path / "train_both_moons_saturated.svg")


def test_graph_command(tmp_path, capsys):
    assert main(["graph", "-log(softmax([2.0, 1.0, 0.1])[0])", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "value: 0.41703" in out and "∂out/∂x0 (x0 = 2.0): −0.340999" in out
    ET.parse(tmp_path / "graph.svg")


@pytest.mark.parametrize(
    "expr",
    ["__import__('os').system('echo hi')", "x + 1", "(1).real", "open('f')", "exp(1, 2)", "2 ** 1000",
     "[1.0] * 3", "lambda: 1", "1e400", "softmax(1.0)", "exp([1.0])", "[1.0, 2.0][5]", "1 if 1 else 2",
     "-" * 400 + "1", "1 +", "softmax([1.0, 2.0])", "'a'", "1 < 2"],
)
def test_graph_refuses_hostile_or_bad_input(expr, tmp_path, capsys):
    assert main(["graph", expr, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tinygrad-lite: error: graph:")


def test_parser_builds_scalar_graph():
    root, leaves, typed = parse("sum([1.0, 2.0]) * mean([3.0, 5.0]) - -2 ** 2")
    assert root.item() == pytest.approx(3 * 4 + 4) and typed == ["1.0", "2.0", "3.0", "5.0", "2"]
    with pytest.raises(ExprError):
        parse("x")


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["train", "--dataset", "mnist"], 2, "invalid choice: 'mnist' (choose from"),
        (["train", "--epochs", "0"], 1, "--epochs must be at least 1"),
        (["steps", "--loss", "hinge"], 2, "invalid choice"),
        (["demo", "--colour"], 2, "unrecognized arguments"),
        (["demo", "--out", "/proc/forbidden"], 1, "cannot write to --out"),
    ],
)
def test_user_errors_are_one_line_without_traceback(args, code, message):
    r = run(*args)
    assert r.returncode == code and message in r.stderr and "Traceback" not in r.stderr
