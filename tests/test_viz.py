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
    assert "ŷ0 cancels → ŷ0 − 1" in src
    assert "grad −0.341" in src and "data 0.659" in src


def test_tensor_nodes_show_shape_summaries():
    W = tl.Value(np.ones((3, 6)), label="W")  # 18 elements: more than fit as a matrix
    loss = (tl.Value(np.ones((8, 3))) @ W).relu().sum()
    loss.backward()
    src = viz.draw_graph(loss).source
    assert "(3, 6) mean 8" in src and "g @ yᵀ" in src and "xᵀ @ g" in src


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


def long_chain(n=1200):
    """A graph of n + 1 nodes: x times a number, n times (the number is part of each op)."""
    y = tl.Value(1.0)
    for _ in range(n):
        y = y * 1.001
    return y


def test_large_graphs_are_refused_with_advice():
    y = long_chain()
    with pytest.raises(viz.GraphTooLargeError, match="more than max_nodes=1000.*intermediate Value"):
        viz.draw_graph(y)
    assert viz.draw_graph(y, max_nodes=2000, show_local=False).source.count("->") == 1200


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
    loss = neuron([x, tl.Value(2.0, requires_grad=False)]).square()  # a bare 2.0 would join its op
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


def test_slide_options_reach_graphviz(tmp_path):
    z, L = seed_example()
    src = viz.draw_graph(L, fontsize=18, graph_attr={"bgcolor": "transparent", "dpi": 150},
                         node_attr={"fontname": "Fira Sans"}, edge_attr={"color": "gray40", "fontcolor": "navy"}).source
    assert "fontsize=18" in src and "bgcolor=transparent" in src and "dpi=150" in src
    assert 'fontname="Fira Sans"' in src and "color=gray40" in src
    assert "fontcolor=navy" in src.split("_l [")[1]  # edge labels are nodes on the edge: font options reach them
    assert "fontsize=14.7" in src  # edge labels scale with fontsize (9/11 of it)
    cmp_src = viz.comparison_graph({"CE": L}, fontsize=16, graph_attr={"pad": "0.5"}).source
    assert "fontsize=16" in cmp_src and "pad=0.5" in cmp_src
    with pytest.raises(ValueError, match="fontsize"):
        viz.draw_graph(L, fontsize=-1)
    with pytest.raises(TypeError, match="graph_attr must be a dict"):
        viz.draw_graph(L, graph_attr="bgcolor=red")


def test_a_parameter_is_known_by_its_role_on_the_value():
    assert "nn" not in vars(viz)  # drawing reads only the graph
    w = tl.Value(0.5, label="w")
    w.role = "parameter"
    src = viz.draw_graph(w * tl.Value(2.0, label="x")).source
    assert f'fillcolor="{viz.COLORS["parameter"]}"' in src.split("label=\"w")[1].split("\n")[0]


def test_a_leaf_with_earlier_passes_says_so_next_to_its_box():
    z, L = seed_example()
    L.backward()
    L.backward()
    src = viz.draw_graph(L, explain=z[0]).source
    assert "grad −0.682 = 2 × this pass −0.341" in src and "= −0.341\" labelloc" in src
    z[0].grad = 5.0  # not a whole number of passes: still shown as it is, with one pass next to it
    assert "grad 5; one pass from L: −0.341" in viz.draw_graph(L).source


@needs_dot
def test_stepper_refusals_are_those_of_render(tmp_path):
    y = long_chain()
    with pytest.raises(viz.GraphTooLargeError, match="stepper: the graph has .* more than max_nodes=1000"):
        viz.stepper(y)
    leaf = tl.Value(2.0, label="a")
    with pytest.raises(ValueError, match="stepper: a is a leaf.*no steps to show"):
        viz.stepper(leaf)
    with tl.no_grad():
        made = leaf * 3.0
    with pytest.raises(ValueError, match="is a leaf.*no_grad"):
        made.stepper()
    with pytest.raises(ValueError, match="only from constants"):
        viz.stepper(tl.Value(1.0, requires_grad=False) * 2.0)
    with pytest.raises(TypeError, match="show_grad"):
        viz.stepper(y * 1, show_grad=False)


def test_without_dot_notebook_displays_say_how_to_install_and_saving_raises(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on it
    z, L = seed_example()
    st = viz.stepper({"CE": L}, explain={"CE": z[0]})
    note = st._repr_html_()
    assert note.startswith('<div class="tl-not-drawn">') and "apt-get install graphviz" in note and "<script" not in note
    assert repr(st) == "<Stepper: Backprop, step by step: CE, 3 steps>"
    for shown in (viz.show(L, explain=z[0]), viz.show({"CE": L, "also CE": L})):
        bundle = shown._repr_mimebundle_()
        assert "image/svg+xml" not in bundle and "brew install graphviz" in bundle["text/html"]
        assert "brew install graphviz" in bundle["text/plain"]
    for fails in (lambda: st.save(tmp_path / "s.html"), lambda: viz.backprop_html(L, tmp_path / "b.html")):
        with pytest.raises(RuntimeError, match="apt-get install graphviz.*brew install graphviz"):
            fails()
    assert not (tmp_path / "s.html").exists()


@needs_dot
def test_stepper_object_saves_the_page_it_shows(tmp_path):
    z, L = seed_example()
    st = L.stepper(explain=z[0], fontsize=14)
    frag = st._repr_html_()
    assert frag.startswith('<div class="tl-stepper"') and "<script>" in frag and "http" not in frag.replace(
        "http://www.w3.org", "")
    page = viz.backprop_html(L, tmp_path / "p.html", explain=z[0], fontsize=14).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in page
    assert st.save(tmp_path / "q.html").read_text(encoding="utf-8").count('class="tl-stepper"') == 1
    assert st.steps == 3 and z[0]._grad is None


@needs_dot
def test_show_displays_the_drawing_with_its_options():
    z, L = seed_example()
    svg = viz.show(L, explain=z[0], fontsize=14)._repr_mimebundle_()["image/svg+xml"]
    assert svg == viz.to_svg(L, explain=z[0], fontsize=14)
    both = viz.show({"CE": L, "again": L}, explain={"CE": z[0]})._repr_mimebundle_()["image/svg+xml"]
    assert "CE" in both and "again" in both and ET.fromstring(both.encode()) is not None
