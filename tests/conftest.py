"""Test settings shared by the suite, the offline browser, and the notebooks run once for every test that reads them."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

# Deterministic and bounded: CI runs on 2 cores, and SymPy-heavy tests are slow per example.
settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def offline_browser():
    """Headless Chromium with the network off (only 127.0.0.1 resolves), logging console and requests."""
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    yield driver
    driver.quit()


ROOT = Path(__file__).parent.parent
# After each notebook the same kernel reports what tests/test_notebooks.py checks (the notebook's variables).
NOTEBOOK_PROBES = {
    "01_seed_walkthrough": "{'losses': losses, 'z_grad': [v.grad for v in z], 'yhat': [v.data for v in yhat],"
                           " 'batch': {'Z': Zb.data.tolist(), 'y': yb.tolist(), 'grad': Zb.grad.tolist(), 'i': i, 'p': p, 'j': j,"
                           " 'target': [target.total, str(target.paths[0].simplified), [str(c) for c in target.paths[0].cancelled]],"
                           " 'other': [other.total, str(other.paths[0].simplified), [str(c) for c in other.paths[0].cancelled]],"
                           " 'matrix': target.general.matrix},"
                           " 'ce_simplified': str(ce.paths[0].simplified), 'ce_cancelled': [str(c) for c in ce.paths[0].cancelled],"
                           " 'mse_total': mse.total, 'zm_grad': [v.grad for v in zm], 'yhat_m': [v.data for v in yhat_m],"
                           " 'mse_paths': len(mse.paths), 'ce_sweep': grads['ce'][0], 'mse_sweep': grads['mse'][0], 'q': qs[0]}",
    "02_micrograd_moons": "{'accuracy': float(accuracy), 'loss': loss.item(), 'neuron_active': out.data > 0,"
                          " 'w_grads': [w.grad for w in neuron.w], 'x': [v.data for v in x]}",
    "03_saturated_start": "{'median_yp': median_yp, 'acc': {k: h.accuracy for k, h in histories.items()},"
                          " 'grad_zp': {k: h.grad_zp for k, h in histories.items()}}",
}




@dataclass
class ExecutedNotebooks:
    """The notebooks run once: ``results[stem]`` is (outputs, what the probe reported); ``dir/examples`` holds them run."""

    dir: Path
    results: dict[str, tuple[list, dict]]


def execute_notebook(path: Path, workdir: Path, env: dict[str, str] | None = None) -> tuple[object, dict]:
    """Run ``path`` top to bottom in a real kernel (this tree on its path, ``env`` on top of os.environ),
    then its probe; returns the executed notebook (probe cell removed) and what the probe reported."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    probe = "import json as _json\nprint(_json.dumps(" + NOTEBOOK_PROBES[path.stem] + ", default=float))"
    nb.cells.append(nbformat.v4.new_code_cell(probe))
    changes = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])), **(env or {})}
    old = {k: os.environ.get(k) for k in changes}
    os.environ.update(changes)  # the kernel inherits this process's environment
    try:
        nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(workdir)}}).execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb, json.loads(nb.cells.pop().outputs[0]["text"])


def code_outputs(nb) -> list:
    """Every output of the notebook's code cells, in order."""
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


@pytest.fixture(scope="session")
def run_notebook():
    """``run(path, workdir, env)`` → (the outputs of its code cells, what its probe reported)."""
    pytest.importorskip("nbclient")

    def run(path: Path, workdir: Path, env: dict[str, str] | None = None) -> tuple[list, dict]:
        nb, reported = execute_notebook(path, workdir, env)
        return code_outputs(nb), reported
    return run


@pytest.fixture(scope="session")
def executed_notebooks(tmp_path_factory) -> ExecutedNotebooks:
    """Every notebook in examples/ run top to bottom in a real kernel (this tree on its path), then probed."""
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    out_dir = tmp_path_factory.mktemp("executed_notebooks")
    (out_dir / "examples").mkdir()
    results = {}
    for path in sorted((ROOT / "examples").glob("*.ipynb")):
        nb, reported = execute_notebook(path, tmp_path_factory.mktemp(path.stem))
        nbformat.write(nb, out_dir / "examples" / path.name)
        results[path.stem] = (code_outputs(nb), reported)
    return ExecutedNotebooks(out_dir, results)
