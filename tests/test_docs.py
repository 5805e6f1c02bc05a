"""Every Python code block in docs/ and README runs (quickly, without building the site: tests/test_docs_site.py builds it)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_code_blocks_run(page, tmp_path, monkeypatch):
    blocks = BLOCK.findall(page.read_text(encoding="utf-8"))
    assert blocks or page.name == "index.md" or page.name == "README.md"
    monkeypatch.chdir(tmp_path)  # blocks that write files write here
    namespace: dict = {"__name__": "__docs__"}
    for k, code in enumerate(blocks):
        exec(compile(code, f"{page.name}[block {k}]", "exec"), namespace)
