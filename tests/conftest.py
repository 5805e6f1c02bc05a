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


@pytest.fixture(scope="session")
def executed_notebooks(tmp_path_factory) -> ExecutedNotebooks:
    """Every notebook in examples/ run top to bottom in a real kernel (this tree on its path), then probed."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    out_dir = tmp_path_factory.mktemp("executed_notebooks")
    (out_dir / "examples").mkdir()
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), old]))  # the kernel imports this tree
    results = {}
    try:
        for path in sorted((ROOT / "examples").glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            probe = "import json as _json\nprint(_json.dumps(" + NOTEBOOK_PROBES[path.stem] + ", default=float))"
            nb.cells.append(nbformat.v4.new_code_cell(probe))
            nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                    resources={"metadata": {"path": str(tmp_path_factory.mktemp(path.stem))}}).execute()
            reported = json.loads(nb.cells.pop().outputs[0]["text"])
            nbformat.write(nb, out_dir / "examples" / path.name)
            results[path.stem] = ([o for c in nb.cells if c.cell_type == "code" for o in c.outputs], reported)
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    return ExecutedNotebooks(out_dir, results)
