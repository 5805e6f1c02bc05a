"""Graph drawing: content, determinism, escaping, limits, and life without `dot`."""

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tinygrad_lite import viz

SNAPSHOTS = Path(__file__).parent / "snapshots"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None and "CI" not in __import__("os").environ,
                               reason="Graphviz `dot` not installed (CI installs it)")


def seed_example():
    z = [tl.Value(v, label=f"z{i}") for i, v in enumerate([2.0, 1.0, 0.1])]
    L = F.cross_entropy(z, 0)
    L.label = "L"
    return z, L


def test_dot_snapshot_of_the_seed_example():
    z, L = seed_example()
    L.backward()
    source = viz.draw_graph(L, explain=z[0]).source
    snap = SNAPSHOTS / "ce_seed.dot"
    if not snap.exists():  # first run writes it; review and commit
        snap.write_text(source, encoding="utf-8")
    assert source == snap.read_text(encoding="utf-8")


def test_nodes_and_edges_show_values_grads_and_locals():
    z, L = seed_example()
    before = viz.draw_graph(L).source
    assert "grad not computed yet" in before and "grad 0" not in before
    L.backward()
    src = viz.draw_graph(L, explain=z[0]).source
    assert "ŷ0(1−ŷ0) = 0.2247" in src and "1/ŷ0 = 1.517" in src
    assert "ŷ0 cancels → ŷ0 - 1" in src
    assert "grad −0.341" in src and "data 0.659" in src


def test_tensor_nodes_show_shape_summaries():
    W = tl.Value(np.ones((3, 4)), label="W")
    loss = (tl.Value(np.ones((8, 3))) @ W).relu().sum()
    loss.backward()
    src = viz.draw_graph(loss).source
    assert "(3, 4) mean 8" in src and "g @ yᵀ" in src and "xᵀ @ g" in src


@pytest.mark.parametrize("label", ['say "hi"', "a<b>&c", "{braces}", "back\\slash", "two\nlines", "\\", '"'])
@needs_dot
def test_hostile_labels_never_break_dot_svg_or_html(label, tmp_path):
    x = tl.Value(1.5, label=label)
    y = (x * 2.0).tanh()
    y.label = label + "!"
    path = viz.render(y, tmp_path / "g.svg")
    root = ET.parse(path).getroot()  # well-formed XML
    texts = "".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert label.split("\n")[0] in texts
    page = viz.backprop_html(y, tmp_path / "g.html").read_text(encoding="utf-8")
    assert "<script>" in page and page.count("</script>") == 1


@needs_dot
def test_render_is_byte_identical_across_processes(tmp_path):
    code = (
        "import tinygrad_lite as tl, tinygrad_lite.functional as F; from tinygrad_lite import viz\n"
        "z = [tl.Value(v, label=f'z{i}') for i, v in enumerate([2.0, 1.0, 0.1])]\n"
        "L = F.cross_entropy(z, 0); M = F.mse_loss(F.softmax(z), [1.0, 0.0, 0.0], reduction='sum')\n"
        "L.backward(); M.backward()\n"
        "import sys; viz.render_comparison({'CE': L, 'MSE': M}, sys.argv[1], explain=z[0])\n"
    )
    outs = []
    for k in range(2):
        out = tmp_path / f"cmp{k}.svg"
        subprocess.run([sys.executable, "-c", code, str(out)], check=True)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    ET.fromstring(outs[0])


def test_without_dot_render_explains_how_to_install_and_leaves_dot_file(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    _, L = seed_example()
    with pytest.raises(RuntimeError, match="apt-get install graphviz.*brew install graphviz"):
        viz.render(L, tmp_path / "ce.svg")
    assert (tmp_path / "ce.dot").read_text().startswith("digraph")
    assert "digraph" in viz.draw_graph(L).source
    assert "graph not drawn" in L._repr_mimebundle_()["text/plain"]


def test_large_graphs_are_refused_with_advice():
    x = tl.Value(1.0)
    y = x
    for _ in range(600):
        y = y * 1.001
    with pytest.raises(viz.GraphTooLargeError, match="more than max_nodes=1000.*intermediate Value"):
        viz.draw_graph(y)
    assert viz.draw_graph(y, max_nodes=2000).source.count("->") == 1200


def test_unknown_options_raise_type_error(tmp_path):
    _, L = seed_example()
    with pytest.raises(TypeError):
        viz.draw_graph(L, colour="red")
    with pytest.raises(TypeError):
        viz.render_comparison({"a": L}, tmp_path / "x.svg", colour="red")
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_graph(L, rankdir="XY")


def test_nodes_are_coloured_by_role():
    from tinygrad_lite import nn

    neuron = nn.Neuron(2, rng=0)
    x = tl.Value(1.0, label="x")
    loss = neuron([x, 2.0]).square()
    src = viz.draw_graph(loss).source
    colour = {line.split("label=")[1].split("\\n")[0].strip('"'): line.split("fillcolor=")[1].split()[0].strip('"]')
              for line in src.splitlines() if "fillcolor=" in line and "label=" in line}
    assert colour["x"] == viz.COLORS["input"] and colour["w0"] == viz.COLORS["parameter"]
    assert colour["2"] == viz.COLORS["constant"] and colour[next(k for k in colour if k.startswith("square"))] == viz.COLORS["loss"]
    bad = tl.Value(-1.0, label="n") * np.inf  # −inf: drawn red
    assert viz.COLORS["nan"] in viz.draw_graph(bad).source


def test_highlight_marks_nodes():
    z, L = seed_example()
    src = viz.draw_graph(L, highlight=z[1]).source
    assert src.count("penwidth=2.5") == 1


@needs_dot
def test_jupyter_gets_svg():
    _, L = seed_example()
    bundle = L._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
