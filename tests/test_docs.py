"""Every Python code block in docs/ runs, and the site builds with `mkdocs build --strict`."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_code_blocks_run(page, tmp_path, monkeypatch):
    blocks = BLOCK.findall(page.read_text(encoding="utf-8"))
    assert blocks or page.name == "index.md" or page.name == "README.md"
    monkeypatch.chdir(tmp_path)  # blocks that write files write here
    namespace: dict = {"__name__": "__docs__"}
    for k, code in enumerate(blocks):
        exec(compile(code, f"{page.name}[block {k}]", "exec"), namespace)


def test_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocs")
    if shutil.which("dot") is None and "CI" not in os.environ:
        pytest.skip("Graphviz `dot` not installed (CI installs it)")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    subprocess.run([sys.executable, str(tmp_path / "docs" / "make_figures.py"), str(tmp_path / "docs" / "figures")],
                   check=True, capture_output=True, cwd=tmp_path)
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "site" / "tutorial" / "index.html").read_text(encoding="utf-8")
    assert "figures/ce.svg" in page and (tmp_path / "site" / "figures" / "ce_vs_mse.svg").exists()
