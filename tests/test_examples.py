"""Every script in examples/ runs, quickly, and writes what it says it wrote."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("[0-9]*.py"))


def test_there_are_examples():
    assert len(EXAMPLES) >= 7


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(script, tmp_path):
    r = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True,
                       timeout=120, cwd=script.parent)
    assert r.returncode == 0, r.stderr
    wrote = [line.split("wrote ", 1)[1] for line in r.stdout.splitlines() if line.startswith("wrote ")]
    assert wrote and all(Path(p).exists() for p in wrote)
