"""The notebooks in examples/: committed without outputs, and run clean in a real Jupyter kernel.

Each executed notebook must show what a learner is promised (graphs as SVG, the explanation
as typeset math, the steps as a table, the stepper) and the numbers its text claims.
"""

import importlib.util
import json
import math
import os
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_lite import seed

ROOT = Path(__file__).parent.parent
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))
nbformat = pytest.importorskip("nbformat")
HAVE_KERNEL = all(importlib.util.find_spec(m) is not None for m in ("ipykernel", "nbclient"))
needs_kernel = pytest.mark.skipif(
    (not HAVE_KERNEL or shutil.which("dot") is None) and "CI" not in os.environ,
    reason="needs ipykernel, nbclient and Graphviz's dot (CI installs them)",
)


def test_there_are_three_notebooks():
    assert [p.stem for p in NOTEBOOKS] == ["01_seed_walkthrough", "02_micrograd_moons", "03_saturated_start"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip outputs"
    assert set(nb.metadata) <= {"kernelspec", "language_info"}, f"{path.name}: metadata {sorted(nb.metadata)}"


def _mimes(outputs: list) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for o in outputs:
        assert o["output_type"] != "error", o
        for mime, value in o.get("data", {}).items():
            found.setdefault(mime, []).append(value if isinstance(value, str) else json.dumps(value))
    return found


@needs_kernel
def test_seed_walkthrough(executed_notebooks):
    outputs, c = executed_notebooks.results["01_seed_walkthrough"]
    mimes = _mimes(outputs)
    assert any("<svg" in s for s in mimes["image/svg+xml"])
    latex = mimes["text/latex"]
    assert any(r"\cancel{\hat{y}_{0}}" in s for s in latex)  # CE: ŷ_p struck through
    assert any(r"\hat{y}_{1}^{2}" in s for s in latex)  # MSE: the per-path forms
    assert "image/png" in mimes
    html = mimes["text/html"]
    assert any('class="tl-steps"' in s and "ŷ0(1−ŷ0)" in s for s in html)  # the steps as a table
    steppers = [s for s in html if 'class="tl-stepper"' in s]
    assert len(steppers) == 2 and "cross-entropy" in steppers[1] and "MSE" in steppers[1]
    ids = [re.search(r'class="tl-stepper" id="([^"]+)"', s).group(1) for s in steppers]
    assert len(set(ids)) == 2  # two steppers in one notebook do not share ids
    # the loss view (seed claim 5)
    assert math.isclose(c["losses"]["spread"][0], 0.06) and math.isclose(c["losses"]["lopsided"][0], 0.065)
    assert math.isclose(c["losses"]["spread"][1], -math.log(0.8)) and math.isclose(c["losses"]["lopsided"][1], -math.log(0.8))
    # the backprop view (claims 1 and 3)
    forms = seed.closed_forms(np.array(c["yhat"]), seed.TARGET)
    np.testing.assert_allclose(c["z_grad"], forms["ce"], rtol=1e-9)
    assert c["ce_simplified"] == "ŷ0 - 1" and c["ce_cancelled"] == ["ŷ0"]
    ym = np.array(c["yhat_m"])
    np.testing.assert_allclose(c["zm_grad"], seed.closed_forms(ym, seed.TARGET)["mse"], rtol=1e-9)
    p = ym[0]
    assert c["mse_paths"] == 3
    assert math.isclose(c["mse_total"], -2 * p * (1 - p) ** 2 - 2 * p * (ym[1] ** 2 + ym[2] ** 2), rel_tol=1e-9)
    # the sweep: at ŷ_p = 0.001 CE pushes with ŷ_p − 1, MSE's push has all but vanished
    assert math.isclose(c["ce_sweep"], c["q"] - 1, rel_tol=1e-6)
    assert abs(c["mse_sweep"]) < 0.01 * abs(c["ce_sweep"])


@needs_kernel
def test_micrograd_moons(executed_notebooks):
    outputs, c = executed_notebooks.results["02_micrograd_moons"]
    mimes = _mimes(outputs)
    assert any("<svg" in s for s in mimes["image/svg+xml"])  # the neuron's graph
    assert len(mimes["image/png"]) == 2  # the data and the decision boundary
    assert c["accuracy"] >= 0.95 and c["loss"] < 0.2
    assert c["neuron_active"] and c["w_grads"] == c["x"]  # ∂out/∂w_i = x_i for an active relu neuron


@needs_kernel
def test_saturated_start(executed_notebooks):
    outputs, c = executed_notebooks.results["03_saturated_start"]
    assert "image/png" in _mimes(outputs)
    assert c["median_yp"] < 1e-3
    ce, mse = c["acc"]["ce"], c["acc"]["mse"]
    assert ce[-1] >= 0.85 and mse[-1] <= ce[-1] - 0.2  # CE recovers, MSE stalls
    assert c["grad_zp"]["ce"][0] < -0.3 and abs(c["grad_zp"]["mse"][0]) < 0.15 * abs(c["grad_zp"]["ce"][0])


@needs_kernel
def test_seed_walkthrough_in_a_batch(executed_notebooks):
    b = executed_notebooks.results["01_seed_walkthrough"][1]["batch"]
    Z, y = np.array(b["Z"]), np.array(b["y"])
    n = len(Z)
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    expected = (P - np.eye(Z.shape[1])[y]) / n  # ∂ℓ/∂Z = (softmax(Z) − Y)/N
    np.testing.assert_allclose(b["grad"], expected, rtol=1e-12)
    i, p, j = b["i"], b["p"], b["j"]
    assert p == y[i] and j != p
    total, simplified, cancelled = b["target"]
    assert math.isclose(total, (P[i, p] - 1) / n, rel_tol=1e-12) and math.isclose(total, expected[i, p], rel_tol=1e-12)
    assert simplified == f"(ŷ[{i},{p}] - 1)/N" and cancelled == [f"ŷ[{i},{p}]"]
    total, simplified, cancelled = b["other"]
    assert math.isclose(total, P[i, j] / n, rel_tol=1e-12) and simplified == f"ŷ[{i},{j}]/N"
    assert cancelled == [f"ŷ[{i},{p}]"]  # the log's 1/ŷ_ip meets the softmax's −ŷ_ip ŷ_ij
    assert b["matrix"] == "∂ℓ/∂Z = (Ŷ − Y)/N"


@pytest.mark.skipif(not HAVE_KERNEL and "CI" not in os.environ, reason="needs ipykernel and nbclient")
def test_seed_walkthrough_without_dot_shows_the_install_hint_and_no_error(run_notebook, tmp_path):
    path = os.path.dirname(os.path.realpath(sys.executable))  # the kernel starts as sys.executable
    assert shutil.which("dot", path=path) is None
    outputs, reported = run_notebook(ROOT / "examples" / "01_seed_walkthrough.ipynb", tmp_path, {"PATH": path})
    assert not [o for o in outputs if o["output_type"] == "error" or o.get("name") == "stderr"]
    mimes = _mimes(outputs)
    assert "image/svg+xml" not in mimes
    notes = [s for s in mimes["text/html"] if 'class="tl-not-drawn"' in s]
    assert len(notes) == 5 and all("apt-get install graphviz" in s for s in notes)  # 3 drawings, 2 steppers
    assert any("graph not drawn" in s and "apt-get install graphviz" in s for s in mimes["text/plain"])  # the Value
    assert reported["batch"]["target"][2] == [f"ŷ[2,{reported['batch']['p']}]"]  # the numbers do not need dot
