"""Explanations and steps as a notebook shows them: LaTeX for KaTeX/MathJax/pdflatex, HTML tables, no dot."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import sympy

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tinygrad_lite import display, seed

ROOT = Path(__file__).parent.parent
HOSTILE = ["<script>window.__pwned = 1</script>", "a\"b'c", "]]>", "{x}", "back\\slash", "two\nlines",
           "$%&#_^~", "\\end{aligned}", "ŷ₀", "αβ", "x^2", "é😀"]


def hostile_explanations() -> list[tl.Explanation]:
    out = []
    z = [tl.Value(v, label=b) for v, b in zip([0.5, 2.5, 1.0], HOSTILE)]
    L = F.cross_entropy(z, 0)
    L.label = HOSTILE[3]
    out.append(tl.explain(L, z[0]))
    for label in HOSTILE:
        a = tl.Value(2.0, label=label)
        c = a * a + a.exp()
        c.label = HOSTILE[5]
        out.append(tl.explain(c, a))
    return out


def seed_explanations() -> dict[str, tl.Explanation]:
    out = {}
    for loss in ("ce", "mse"):
        z, _, L = seed.softmax_example(loss)
        out[loss] = tl.explain(L, z[0])
    w, _, L = seed.sigmoid_example("bce")
    out["bce"] = tl.explain(L, w)
    Z, _, L = seed.batch_example("ce", logits=seed.BATCH_LOGITS[:2], targets=seed.BATCH_TARGETS[:2])
    out["batch"] = tl.explain(L, Z, index=(0, 0))  # elements Z[0,0], ŷ[0,0] and the 1/N
    return out


def test_names_typeset_as_math():
    assert display.latex_name("ŷ0") == r"\hat{y}_{0}"
    assert display.latex_name("z12") == "z_{12}"
    assert display.latex_name("σ") == r"\sigma" and display.latex_name("ℓ") == r"\ell"
    assert display.latex_name("mul0") == r"\mathrm{mul}_{0}"
    assert display.latex_name("L") == "L"
    assert display.latex_name("a b") == r"\text{a b}"
    assert display.latex_name("ŷ[0,2]") == r"\hat{y}_{0,2}" and display.latex_name("Z[1, 0]") == "Z_{1,0}"


def test_ce_latex_strikes_the_cancelled_factor():
    e = seed_explanations()["ce"]
    tex = e._repr_latex_()
    assert tex.startswith("$$") and tex.endswith("$$")
    assert "ŷ" not in tex  # \hat{y}_{0}: what pdflatex rejects never appears
    assert r"\cancel{\hat{y}_{0}}\,\left(1 - \hat{y}_{0}\right)" in tex  # ŷ0(1−ŷ0), ŷ0 struck
    assert r"\frac{1}{\cancel{\hat{y}_{0}}}" in tex  # the log's 1/ŷ0, struck
    assert r"\hat{y}_{0} - 1 = -0.9004" in tex


def test_total_reads_as_the_sum_of_the_per_path_forms():
    e = seed_explanations()["mse"]
    y0, y1, y2 = sympy.symbols("ŷ0 ŷ1 ŷ2")
    assert [p.simplified for p in e.paths] == [-2 * y0 * (y0 - 1) ** 2, -2 * y0 * y1 ** 2, -2 * y0 * y2 ** 2]
    assert str(e).splitlines()[-1] == "total: −2·ŷ0·(ŷ0 − 1)² − 2·ŷ0·ŷ1² − 2·ŷ0·ŷ2² = −0.274869"
    assert (r"- 2 \hat{y}_{0} \left(\hat{y}_{0} - 1\right)^{2} - 2 \hat{y}_{0} \hat{y}_{1}^{2}"
            r" - 2 \hat{y}_{0} \hat{y}_{2}^{2} = -0.2749") in e.latex()
    assert sympy.simplify(e.total_expression - sum(p.simplified for p in e.paths)) == 0


def test_print_keeps_the_text():
    e = seed_explanations()["ce"]
    assert str(e).splitlines()[0] == "∂L/∂z0 = −0.900376 over 1 path(s)"
    assert repr(e).startswith("<Explanation ∂L/∂z0 = −0.900376 over 1 path(s)")


def test_a_root_with_no_graph_gives_one_clear_message():
    a = tl.Value(1.0, label="a")
    with pytest.raises(ValueError, match="the root a is a leaf.*no graph to explain"):
        tl.explain(a, a)
    with tl.no_grad():
        b = a * 2
    with pytest.raises(ValueError, match="no graph to explain"):
        tl.explain(b, a)


def test_hostile_labels_are_text_in_latex():
    for e in hostile_explanations():
        tex = e.latex()
        assert "<" not in tex and ">" not in tex and "\n\\end{aligned}" in tex
        assert tex.count(r"\end{aligned}") == 1  # a label cannot close the block
        for label in HOSTILE:
            for special in ("\\end", "$%", "{x}"):
                if special in label:
                    assert special not in tex.replace(r"\end{aligned}", "")


@pytest.mark.skipif(shutil.which("pdflatex") is None and "CI" not in os.environ,
                    reason="needs pdflatex (Debian: texlive-latex-base; CI installs it)")
def test_latex_compiles_under_pdflatex(tmp_path):
    exps = [*seed_explanations().values(), *hostile_explanations()]
    body = " \\\\\n".join(e.latex() for e in exps)
    (tmp_path / "e.tex").write_text(display.latex_document(body), encoding="utf-8")
    r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "e.tex"],
                       cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:]
    assert (tmp_path / "e.pdf").stat().st_size > 1000


def test_steps_table_escapes_labels():
    a = tl.Value(2.0, label=HOSTILE[0])
    b = tl.Value(-3.0, label='"><img src=x onerror=alert(1)>')
    c = a * b + a
    c.label = "</table>"
    html = display.steps_html(c.backward_steps())
    assert "<script>" not in html and "<img" not in html and "</table><" not in html.replace("</table>", "", 1)
    assert "&lt;script&gt;" in html and html.count("<tr>") == 1 + 2 + 2  # header, then a row per edge: add has 2, mul 2


def test_without_dot_a_value_displays_as_text_with_the_hint(monkeypatch):
    from IPython.core.formatters import format_display_data

    z, _, L = seed.softmax_example("ce")
    monkeypatch.setenv("PATH", "/nonexistent")
    data, _ = format_display_data(L)
    assert "image/svg+xml" not in data and "Graphviz" in data["text/plain"]
    data, _ = format_display_data(tl.explain(L, z[0]))  # math needs no dot
    assert r"\cancel" in data["text/latex"]


CHROMIUM_OK = all(shutil.which(p) for p in ("chromium", "chromedriver")) and (ROOT / "node_modules" / "katex").exists()


@pytest.mark.skipif(not CHROMIUM_OK and "CI" not in os.environ, reason="needs chromium and KaTeX (npm ci)")
def test_hostile_labels_in_chromium(offline_browser, tmp_path):
    """KaTeX (strict) typesets every explanation; the steps table shows labels as text and runs none."""
    import json

    katex = ROOT / "node_modules" / "katex" / "dist"
    exps = [*seed_explanations().values(), *hostile_explanations()]
    a = tl.Value(2.0, label=HOSTILE[0])
    c = a * tl.Value(3.0, label=HOSTILE[2]) + a
    c.label = HOSTILE[1]
    page = tmp_path / "page.html"
    page.write_text(
        "<!DOCTYPE html><meta charset='utf-8'>"
        f"<link rel='stylesheet' href='{(katex / 'katex.min.css').as_uri()}'>"
        f"<script src='{(katex / 'katex.min.js').as_uri()}'></script>"
        f"<div id='steps'>{display.steps_html(c.backward_steps())}</div><div id='math'></div>"
        f"<script>const tex = {json.dumps([e.latex() for e in exps]).replace('</', '<' + chr(92) + '/')};"
        "window.failures = [];"
        "for (const t of tex) { const d = document.createElement('div'); document.getElementById('math').append(d);"
        " try { katex.render(t, d, {displayMode: true, throwOnError: true, strict: 'error'}); }"
        " catch (e) { window.failures.push(String(e)); } }</script>",
        encoding="utf-8")
    offline_browser.get(page.as_uri())
    assert offline_browser.execute_script("return window.failures") == []
    assert offline_browser.execute_script("return document.querySelectorAll('#math .katex-display').length") == len(exps)
    assert offline_browser.execute_script("return window.__pwned") is None
    cells = offline_browser.execute_script(
        "return [...document.querySelectorAll('#steps td')].map(td => td.textContent)")
    assert HOSTILE[0] in cells and HOSTILE[2] in cells and any(HOSTILE[1] in t for t in cells)
    assert offline_browser.execute_script("return document.querySelectorAll('#steps script, #steps img').length") == 0
