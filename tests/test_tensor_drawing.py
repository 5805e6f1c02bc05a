"""Drawings of tensor graphs: the unrolled scalar graph, an element's highlighted paths, small matrices, layout."""

import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import seed, viz
from tinygrad_lite.naming import graph_nodes
from tinygrad_lite.unrolling import UnrollError

SNAPSHOTS = Path(__file__).parent / "snapshots"
HAS_DOT = shutil.which("dot") is not None or "CI" in os.environ
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz `dot` not installed (CI installs it)")
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
needs_browser = pytest.mark.skipif((CHROMIUM is None or DRIVER is None or not HAS_DOT) and "CI" not in os.environ,
                                   reason="needs chromium, chromedriver and dot (CI installs them)")


def small_batch(loss="ce"):
    """Two samples of the seed's three classes."""
    return seed.batch_example(loss, logits=seed.BATCH_LOGITS[:2], targets=seed.BATCH_TARGETS[:2])


def snapshot(name, source):
    snap = SNAPSHOTS / name
    if not snap.exists():  # first run writes it; review and commit
        snap.write_text(source, encoding="utf-8")
    assert source == snap.read_text(encoding="utf-8")


def test_snapshot_of_the_unrolled_batch():
    Z, y, L = small_batch()
    L.backward()
    snapshot("batch_ce_unrolled.dot", viz.draw_graph(L, unroll=True).source)


def test_snapshot_of_an_elements_paths_in_the_tensor_graph():
    Z, y, L = seed.batch_example("ce")
    L.backward()
    snapshot("batch_ce_explain_z00.dot", viz.draw_graph(L, explain=Z, index=(0, 0)).source)


def test_the_unrolled_drawing_shows_each_rows_softmax_edges():
    Z, y, L = small_batch()
    src = viz.draw_graph(L, unroll=True).source
    labels = dict(re.findall(r'^\t(\w+) \[label="([^"\\]*)', src, re.M))
    by_label = {text.split("  [")[0]: node for node, text in labels.items()}
    n, k = Z.shape
    for i in range(n):
        for j in range(k):
            for q in range(k):  # Z[i,j] → ŷ[i,q]: the K×K Jacobian edges of row i
                assert re.search(rf"\bid={by_label[f'Z[{i},{j}]']}_{by_label[f'ŷ[{i},{q}]']}_\d", src)
    assert not re.search(rf"\bid={by_label['Z[0,0]']}_{by_label['ŷ[1,0]']}_\d", src)  # rows never mix
    assert "grad not computed yet" in src  # drawn before backward: no gradients shown


def test_an_unrolled_drawing_after_backward_shows_the_tensor_gradients():
    Z, y, L = small_batch("mse")
    L.backward()
    src = viz.draw_graph(L, unroll=True, explain=Z, index=(1, 2)).source
    assert f"grad {Z.grad[1, 2]:.4g}".replace("-", "−") in src
    assert "grad not computed yet" not in src
    assert "∂ℓ/∂Z[1,2]" in src  # the title: the scalar explanation of that element


def test_explain_with_index_highlights_the_element_paths_and_the_cancellation():
    Z, y, L = seed.batch_example("ce")
    L.backward()
    grads = {n: np.copy(n.grad) for n in graph_nodes(L)}
    src = viz.draw_graph(L, explain=Z, index=(0, 0)).source
    assert "∂ℓ/∂Z[0,0] = (ŷ[0,0] − 1)/N" in src and "∂ℓ/∂Z = (Ŷ − Y)/N" in src
    assert "ŷ[0,0] cancels" in src
    assert src.count("penwidth=2.5") >= 2 * 6 - 1  # the nodes and edges of the path are marked
    assert all(np.array_equal(n.grad, g) for n, g in grads.items())  # drawing looked, changed nothing


def test_a_too_big_batch_is_refused_when_unrolled():
    Z = tl.Value(np.zeros((30, 40)), label="Z")
    L = tl.functional.cross_entropy(Z, np.zeros(30, dtype=int))
    with pytest.raises(UnrollError, match=r"more than max_nodes=1000.*smaller batch"):
        viz.draw_graph(L, unroll=True)


def test_small_tensors_show_as_matrices_in_drawings_steps_and_the_stepper(tmp_path):
    Z, y, L = small_batch()
    L.backward()
    src = viz.draw_graph(L).source
    assert "data\\n[[0.5, 2.5,   1],\\n [  2,   1, 0.1]]" in src  # one row per line
    steps = [str(s) for s in L.backward_steps()]
    assert any("[[" in s for s in steps)
    if HAS_DOT:
        page = viz.backprop_html(L, tmp_path / "steps.html").read_text(encoding="utf-8")
        assert "grad [[" in page  # the stepper's frames: the matrix on the grad line it updates


@needs_dot
def test_a_batch_graph_is_laid_out_for_a_slide_not_a_strip():
    Z, y, L = seed.batch_example("ce")
    L.backward()
    svg = ET.fromstring(viz.to_svg(L))
    width, height = (float(svg.get(k).rstrip("pt")) for k in ("width", "height"))
    assert width / height < 4, (width, height)  # the drawing was 2556 × 69
    assert width < 1400


def _size(svg: str) -> tuple[float, float]:
    m = re.search(r'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"', svg)
    return float(m.group(1)), float(m.group(2))


def _is_wrapped(g) -> bool:
    return "rank=same" in g.source and "rankdir=TB" in g.source


def test_rankdir_is_left_to_right_and_wrap_picks_rows_or_one_strip():
    import inspect

    params = inspect.signature(viz.draw_graph).parameters
    assert params["rankdir"].default == "LR" and params["wrap"].default is None  # SPEC §5's signature
    Z, y, L = seed.batch_example("ce")
    assert _is_wrapped(viz.draw_graph(L)) and _is_wrapped(viz.draw_graph(L, rankdir="LR"))
    assert not _is_wrapped(viz.draw_graph(L, wrap=False)) and "rankdir=LR" in viz.draw_graph(L, wrap=False).source
    assert not _is_wrapped(viz.draw_graph(L, rankdir="TB")) and "rankdir=TB" in viz.draw_graph(L, rankdir="TB").source
    s = tl.Value(1.0, label="x")  # a long scalar graph keeps its strip unless wrap=True
    for _ in range(12):
        s = (s * 1.5).tanh()
    assert not _is_wrapped(viz.draw_graph(s)) and _is_wrapped(viz.draw_graph(s, wrap=True))
    with pytest.raises(ValueError, match="wrap=True .* needs rankdir='LR', not 'TB'"):
        viz.draw_graph(L, wrap=True, rankdir="TB")
    with pytest.raises(ValueError, match="render_comparison: wrap must be None"):
        viz.comparison_graph({"CE": L}, wrap="rows")


@needs_dot
def test_wrap_is_the_same_in_render_comparison_and_the_stepper(tmp_path):
    Z, y, L = seed.batch_example("ce")
    Zm, ym, M = seed.batch_example("mse")
    L.backward(), M.backward()
    assert viz.render(L, tmp_path / "r.svg").read_text(encoding="utf-8") == viz.to_svg(L)
    for wrap in (None, False):
        (w, h), strip = _size(viz.stepper(L, wrap=wrap).panels[0].svg), wrap is False
        assert (w / h > 10) if strip else (w / h < 4), (wrap, w, h)
        path = viz.render_comparison({"CE": L, "MSE": M}, tmp_path / f"c{wrap}.svg", wrap=wrap)
        svg = path.read_text(encoding="utf-8")
        w, h = _size(svg)
        assert (w / h > 8) if strip else (w / h < 2.5), (wrap, w, h)
        # the panels stay left to right in the dict's order
        root = ET.fromstring(svg.encode())
        left = {}
        for g in root.iter("{http://www.w3.org/2000/svg}g"):
            if g.get("class") == "cluster":
                title = next(g.iter("{http://www.w3.org/2000/svg}text")).text
                xs = [float(x) for x in re.findall(r"M(-?[0-9.]+),", g.find("{http://www.w3.org/2000/svg}path").get("d"))]
                left[title] = min(xs)
        assert left["CE"] < left["MSE"], left


@needs_browser
def test_the_highlighted_batch_drawing_as_a_learner_sees_it(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    Z, y, L = seed.batch_example("ce")
    L.backward()
    path = viz.render(L, tmp_path / "batch.svg", explain=Z, index=(0, 0))
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 "--window-size=1280,720"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    try:
        driver.get(path.as_uri())
        texts = driver.execute_script("return [...document.querySelectorAll('text')].map(t => t.textContent)")
        texts = [t.replace("\xa0", " ") for t in texts]
        red = driver.execute_script(
            "return [...document.querySelectorAll('g.node')].filter(g => "
            "[...g.querySelectorAll('path,polygon')].some(p => p.getAttribute('stroke') === '#dc2626')).length")
        box = driver.execute_script("const r = document.querySelector('svg').getBoundingClientRect();"
                                    "return [r.width, r.height]")
    finally:
        driver.quit()
    assert any("(ŷ[0,0] − 1)/N" in t for t in texts)
    assert any(t.strip() == "[[0.5, 2.5,   1]," for t in texts)  # a small matrix, row by row
    assert red == 6  # Z, ŷ, log, index, neg, ℓ: every node of the element's path
    assert box[0] / box[1] < 4


def test_paths_through_the_inner_scalars_of_an_op_are_highlighted():
    """var's inner mean belongs to no tensor: its edges join the op's own node (it raised KeyError)."""
    import tinygrad_lite.functional as F

    Z = tl.Value(np.array([[1.0, 3.0, 3.0], [0.5, -1.0, 2.0]]), label="Z")
    for L in (Z.var(1).sum(), F.cross_entropy(Z, np.array([0, 2]), fused=True)):
        L.backward()
        src = viz.draw_graph(L, explain=Z, index=(0, 1)).source
        assert src.count("penwidth=2.5") >= 3
        Z.zero_grad()
