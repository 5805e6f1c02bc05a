"""The built docs site as a reader sees it: headless Chromium, network off, served from 127.0.0.1.

The site is built once (``mkdocs build --strict`` on a fresh copy of the docs) and every page the
tests open must typeset its math with the KaTeX shipped inside the site, log no console error and
request nothing from outside.
"""

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).parent.parent
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
NEEDS = {"chromium": CHROMIUM, "chromedriver": DRIVER, "dot": shutil.which("dot"),
         "KaTeX (npm ci)": (ROOT / "node_modules" / "katex").exists() or None}
pytestmark = pytest.mark.skipif(
    any(v is None for v in NEEDS.values()) and "CI" not in os.environ,
    reason="needs " + ", ".join(k for k, v in NEEDS.items() if v is None) + " (CI installs them)",
)


def build_site(dest: Path, notebooks: Path) -> Path:
    """A fresh copy of what the site is made of, built with --strict; returns the site folder.

    The notebook pages are made from ``notebooks`` (already run by the notebook tests) rather than
    running every notebook a second time.
    """
    for name in ("docs", "examples"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.py[co]"))
    shutil.copy(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    (dest / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "NO_MKDOCS_2_WARNING": "1", "TINYGRAD_LITE_EXECUTED_NOTEBOOKS": str(notebooks)}
    subprocess.run([sys.executable, str(dest / "docs" / "make_figures.py"), str(dest / "docs" / "figures")],
                   check=True, capture_output=True, cwd=dest, env=env)
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(dest / "site")],
                       capture_output=True, text=True, cwd=dest, env=env)
    assert r.returncode == 0, r.stderr
    return dest / "site"


@pytest.fixture(scope="module")
def site(tmp_path_factory, executed_notebooks):
    return build_site(tmp_path_factory.mktemp("docs"), executed_notebooks.dir)


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser(offline_browser):
    return offline_browser


def open_page(browser, url: str) -> dict:
    """Load ``url``; returns the console errors and every URL the page asked for."""
    import json

    browser.get_log("browser"), browser.get_log("performance")  # drop what earlier pages logged
    browser.get(url)
    browser.execute_script("return document.readyState")
    requested = []
    for entry in browser.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            requested.append(msg["params"]["request"]["url"])
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    return {"errors": errors, "requested": requested}


def outside(urls: list[str]) -> list[str]:
    return [u for u in urls if urlparse(u).scheme not in ("data", "blob", "about")
            and urlparse(u).hostname not in ("127.0.0.1", None)]


def test_site_builds_strict(site):
    page = (site / "tutorial" / "index.html").read_text(encoding="utf-8")
    assert "figures/ce.svg" in page and (site / "figures" / "ce_vs_mse.svg").exists()
    assert (site / "assets" / "katex" / "katex.min.js").exists() and any((site / "assets" / "katex" / "fonts").iterdir())


def test_tutorial_typesets_its_math_offline(site, server, browser):
    got = open_page(browser, f"{server}/tutorial/")
    assert got["errors"] == [] and outside(got["requested"]) == []
    assert any("/assets/katex/" in u for u in got["requested"])
    n_math = browser.execute_script("return document.querySelectorAll('.arithmatex').length")
    n_typeset = browser.execute_script("return document.querySelectorAll('.arithmatex .katex').length")
    assert n_math >= 10 and n_typeset == n_math  # every formula typeset
    assert browser.execute_script("return document.querySelectorAll('.katex-error').length") == 0
    # the explanation's own LaTeX, typeset by KaTeX, with the cancelled ŷ_p struck through
    assert browser.execute_script("return document.querySelectorAll('.katex .cancel-pad, .katex .cancel-lap').length") >= 2
    # KaTeX's fonts came from the site and were used (not a fallback)
    assert browser.execute_script("return document.fonts.check('16px KaTeX_Main')")


def test_the_tutorial_stepper_steps(site, server, browser):
    from selenium.webdriver.common.by import By

    from tinygrad_lite import seed

    open_page(browser, f"{server}/tutorial/")
    root = browser.find_element(By.CSS_SELECTOR, ".tl-stepper")
    step_text = lambda: root.find_element(By.CSS_SELECTOR, ".tl-step").text
    assert step_text().startswith("[0] seed")
    expected = [str(s) for s in seed.softmax_example("ce")[2].backward_steps()]
    for line in expected:
        root.find_element(By.CSS_SELECTOR, "button[data-act=next]").click()
        assert step_text() == line
    assert root.find_element(By.CSS_SELECTOR, ".tl-counter").text.startswith(f"step {len(expected)}")
    root.find_element(By.CSS_SELECTOR, "button[data-act=reset]").click()
    assert step_text().startswith("[0] seed")


def test_every_code_block_shows_its_output(site, tmp_path, monkeypatch):
    """Each block's source is on the page and, right after it, what the block prints (run here again)."""
    import contextlib
    import html
    import io
    import re

    monkeypatch.chdir(tmp_path)
    for page in ("tutorial", "concepts", "api"):
        md = (ROOT / "docs" / f"{page}.md").read_text(encoding="utf-8")
        blocks = re.findall(r"^```python([^\n]*)\n(.*?)^```", md, re.M | re.S)
        assert blocks, page
        built = (site / page / "index.html").read_text(encoding="utf-8")
        assert "Traceback" not in built, page
        text = html.unescape(re.sub(r"<[^>]+>", "", built))
        namespace: dict = {"__name__": "__docs__"}
        for k, (attrs, code) in enumerate(blocks):
            # bare fences run through docs/hooks.py; a fence with attributes must still say exec="on"
            assert attrs.strip() == "" or 'exec="on"' in attrs, (page, attrs)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(code, f"{page}.md[block {k}]", "exec"), namespace)
            lines = [line for line in out.getvalue().splitlines() if line.strip()]
            if lines and not attrs.strip():
                source_end = text.index(code.strip().splitlines()[-1].strip())
                assert lines[0].strip() in text[source_end:], (page, k, lines[0])


def test_notebooks_are_pages_with_their_outputs(site, server, browser):
    for name in ("01_seed_walkthrough", "02_micrograd_moons", "03_saturated_start"):
        got = open_page(browser, f"{server}/examples/{name}/")
        assert got["errors"] == [] and outside(got["requested"]) == [], name
        html = (site / "examples" / name / "index.html").read_text(encoding="utf-8")
        assert "cdnjs" not in html and "jp-OutputArea-output" in html, name
    seed_page = (site / "examples" / "01_seed_walkthrough" / "index.html").read_text(encoding="utf-8")
    assert "<svg" in seed_page
    got = open_page(browser, f"{server}/examples/01_seed_walkthrough/")
    assert browser.execute_script("return document.querySelectorAll('.jp-RenderedLatex .katex').length") >= 2
    assert browser.execute_script("return document.querySelectorAll('.katex-error').length") == 0


def test_no_page_names_an_outside_address_it_would_load(site):
    import re

    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for tag in re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", text):
            assert not re.search(r"(?:src|href)=\"(?:https?:)?//", tag), (page, tag)
