"""One truth across every surface: drawings, comparison, steps and explain show the closed forms, and looking changes no .grad.

Each seed graph (softmax + CE/MSE, sigmoid + BCE/MSE) is checked before
backward, after one pass and after two (leaf gradients accumulate).
"""

import re
import shutil
import xml.etree.ElementTree as ET

import pytest

import tinygrad_lite as tl
from tests.seed_states import GRAPHS, STATES, build
from tinygrad_lite import viz
from tinygrad_lite.naming import fmt

SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None and "CI" not in __import__("os").environ,
                               reason="Graphviz `dot` not installed (CI installs it)")
cases = pytest.mark.parametrize("name,passes", [(g, s) for g in GRAPHS for s in STATES])


def svg_boxes(path):
    """id → the lines of text of each node box and edge-label box in a dot SVG, and the titles."""
    root = ET.parse(path).getroot()
    boxes, titles = {}, []
    for g in root.iter(f"{SVG}g"):
        texts = [t.text or "" for t in g.findall(f"{SVG}text")]
        if "node" in g.get("class", ""):
            boxes[g.get("id")] = texts
        elif g.get("class") in ("graph", "cluster"):
            titles.append(" ".join(texts))
    return boxes, titles


def expected_grad_line(case, n):
    """What the box of node n must say about its gradient in this state."""
    if case.passes == 0:
        return "grad not computed yet"
    if n in case.closed:
        one = case.closed[n]
        shown = f"grad {fmt(case.passes * one)}"
        return shown if case.passes == 1 else f"{shown} = {case.passes} × this pass {fmt(one)}"
    return f"grad {fmt(case.interior[n])}"


def check_panel(case, boxes, prefix):
    view = tl.backprop_steps(case.L).view
    ids = {n: f"{prefix}n{k}" for k, n in enumerate(view.nodes)}
    for n in view.nodes:
        lines = boxes[ids[n]]
        assert lines[0].replace("\xa0", " ").split("  [")[0] == view.names[n]
        assert lines[1] == f"data {fmt(n.data)}"
        if n.requires_grad:
            assert lines[2] == expected_grad_line(case, n), (case.name, case.passes, view.names[n])
    for (p, c), value in case.local_closed.items():  # the softmax Jacobian / σ(1−σ) on the edges
        if c not in ids:  # CE uses only ŷ_p
            continue
        label = boxes[f"{ids[p]}_{ids[c]}_{c.parents.index(p)}_l"]
        assert label[0].endswith(f"= {fmt(value)}"), label


@needs_dot
@cases
def test_render_shows_the_closed_forms_and_changes_nothing(name, passes, tmp_path):
    case = build(name, passes)
    before = case.grads()
    path = viz.render(case.L, tmp_path / "g.svg", explain=case.wrt)
    assert case.grads() == before
    boxes, titles = svg_boxes(path)
    check_panel(case, boxes, "")
    assert titles[0].endswith(f"= {fmt(case.closed[case.wrt])}")  # the title and the wrt box agree


@needs_dot
@pytest.mark.parametrize("passes", STATES)
@pytest.mark.parametrize("pair", [("softmax+ce", "softmax+mse"), ("sigmoid+bce", "sigmoid+mse")])
def test_render_comparison_shows_the_closed_forms_and_changes_nothing(pair, passes, tmp_path):
    left, right = build(pair[0], passes), build(pair[1], passes)
    before = left.grads() + right.grads()
    path = viz.render_comparison({pair[0]: left.L, pair[1]: right.L}, tmp_path / "c.svg",
                                 explain={pair[0]: left.wrt, pair[1]: right.wrt})
    assert left.grads() + right.grads() == before
    boxes, titles = svg_boxes(path)
    check_panel(left, boxes, "g0")
    check_panel(right, boxes, "g1")
    for case, title in zip((left, right), titles[1:]):
        assert title.startswith(case.name) and title.endswith(f"= {fmt(case.closed[case.wrt])}")


@cases
def test_steps_show_the_closed_forms_and_change_nothing(name, passes):
    case = build(name, passes)
    before = case.grads()
    steps = list(case.L.backward_steps())
    assert case.grads() == before
    assert [s.index for s in steps] == list(range(1, len(steps) + 1))
    final, line = {}, {}
    for s in steps:
        for e in s.parents:
            final[e.parent], line[e.parent] = e.grad, str(s)
            assert e.name in str(s) and f"{e.name}.grad += " in str(s)
    for leaf, value in case.closed.items():
        assert final[leaf] == pytest.approx(value, rel=1e-9, abs=1e-15)
        assert f"= {fmt(value)}" in line[leaf]  # the printed step ends where the closed form does
    for n, value in case.interior.items():
        if n is not case.L:
            assert final[n] == pytest.approx(value, rel=1e-12)


@cases
def test_explain_shows_the_closed_form_and_changes_nothing(name, passes):
    case = build(name, passes)
    before = case.grads()
    e = tl.explain(case.L, case.wrt)
    assert case.grads() == before
    assert e.total == pytest.approx(case.closed[case.wrt], rel=1e-9)
    assert fmt(case.closed[case.wrt], 6) in str(e)


@cases
def test_draw_graph_source_changes_nothing(name, passes):
    case = build(name, passes)
    before = case.grads()
    src = viz.draw_graph(case.L, explain=case.wrt).source
    assert case.grads() == before
    assert ("grad not computed yet" in src) == (passes == 0) and "grad 0\\n" not in src


# ---------------------------------------------------------------- layout

def cluster_boxes(path):
    """Each panel's frame as (title, x0, x1, y0, y1), in the order the SVG lists them."""
    out = []
    for g in ET.parse(path).getroot().iter(f"{SVG}g"):
        if g.get("class") == "cluster":
            pts = [tuple(map(float, p.split(","))) for p in _points(g)]
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            out.append((g.findall(f"{SVG}text")[0].text, min(xs), max(xs), min(ys), max(ys)))
    return out


def _points(g):
    shape = g.find(f"{SVG}path")
    if shape is not None:
        nums = re.findall(r"-?\d+\.?\d*,-?\d+\.?\d*", shape.get("d"))
        return nums
    return g.find(f"{SVG}polygon").get("points").split()


@needs_dot
@pytest.mark.parametrize("rankdir", ["LR", "RL"])
def test_comparison_panels_go_left_to_right_in_the_dicts_order(rankdir, tmp_path):
    cases = {name: build(name, 1) for name in ("softmax+mse", "softmax+ce", "sigmoid+bce")}  # MSE first on purpose
    path = viz.render_comparison({k: c.L for k, c in cases.items()}, tmp_path / "c.svg", rankdir=rankdir,
                                 explain={k: c.wrt for k, c in cases.items()})
    frames = cluster_boxes(path)
    by_title = {t: (x0, x1, y0, y1) for t, x0, x1, y0, y1 in frames}
    boxes = [by_title[k] for k in cases]
    for (_, ax1, ay0, ay1), (bx0, _, by0, by1) in zip(boxes, boxes[1:]):
        assert ax1 < bx0  # strictly to the right
        assert max(ay0, by0) < min(ay1, by1)  # side by side: their heights overlap


def _bezier_points(d, steps=24):
    """Points along a dot edge path "M x,y C x1,y1 x2,y2 x3,y3 …" (cubic pieces)."""
    nums = [tuple(map(float, p.split(","))) for p in re.findall(r"-?\d+\.?\d*,-?\d+\.?\d*", d)]
    pts = [nums[0]]
    for k in range(1, len(nums) - 2, 3):
        p0, p1, p2, p3 = nums[k - 1], nums[k], nums[k + 1], nums[k + 2]
        for i in range(1, steps + 1):
            t = i / steps
            a, b, c, e = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t ** 3
            pts.append((a * p0[0] + b * p1[0] + c * p2[0] + e * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + e * p3[1]))
    return pts


@needs_dot
@pytest.mark.parametrize("names", [("softmax+ce", "softmax+mse"), ("sigmoid+bce", "sigmoid+mse")])
def test_every_edge_label_sits_on_its_own_edge_and_no_other_edge_crosses_it(names, tmp_path):
    path = viz.render_comparison({n: build(n, 1).L for n in names}, tmp_path / "c.svg")
    root = ET.parse(path).getroot()
    labels, edges = {}, {}
    for g in root.iter(f"{SVG}g"):
        gid = g.get("id", "")
        if gid.endswith("_l"):
            pts = [tuple(map(float, p.split(","))) for p in g.find(f"{SVG}polygon").get("points").split()]
            labels[gid[:-2]] = (min(p[0] for p in pts), max(p[0] for p in pts),
                                min(p[1] for p in pts), max(p[1] for p in pts))
        elif "edge" in g.get("class", "") and g.find(f"{SVG}path") is not None:
            edges[gid] = _bezier_points(g.find(f"{SVG}path").get("d"))
    assert len(labels) >= 10
    for eid, (x0, x1, y0, y1) in labels.items():
        into, out_of = edges[f"{eid}_a"], edges[f"{eid}_b"]
        near = 3.0  # the label's own edge ends at its box and leaves from it
        assert x0 - near <= into[-1][0] <= x1 + near and y0 - near <= into[-1][1] <= y1 + near
        assert x0 - near <= out_of[0][0] <= x1 + near and y0 - near <= out_of[0][1] <= y1 + near
        for other, pts in edges.items():
            if other.startswith(eid + "_"):
                continue
            inside = [p for p in pts if x0 + 1 < p[0] < x1 - 1 and y0 + 1 < p[1] < y1 - 1]
            assert not inside, f"edge {other} crosses the label of {eid}"
