"""Draw a graph of Values with Graphviz: values, gradients and local derivatives on every edge.

``draw_graph`` builds a ``graphviz.Digraph`` (DOT source; no ``dot`` program
needed); ``render`` and ``render_comparison`` write SVG/PNG/PDF with ``dot``;
``backprop_html`` writes a self-contained page that steps through backprop.
"""

from __future__ import annotations

import html
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterable

import graphviz
import numpy as np

from .autograd import local
from .explanation import Explanation
from .explanation import explain as explain_paths
from .naming import fmt, formula, graph_nodes, node_names
from .nn import is_parameter
from .steps import backprop_steps
from .value import Value

# Fill colour by role: what a node is for, at a glance (red wins: something is NaN/Inf).
COLORS = {"input": "#dbeafe", "parameter": "#dcfce7", "constant": "#f3f4f6", "op": "#ffffff",
          "loss": "#fde68a", "nan": "#fca5a5"}
HIGHLIGHT = "#dc2626"
INSTALL_HINT = (
    "Graphviz's `dot` program was not found. Install it (Debian/Ubuntu: sudo apt-get install graphviz; "
    "macOS: brew install graphviz; conda: conda install -c conda-forge graphviz)"
)


class GraphTooLargeError(ValueError):
    """The graph has more nodes than ``max_nodes``."""


def escape(text: str) -> str:
    """Make user text safe inside a DOT string label (quotes, backslashes, newlines)."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")


def _role(n: Value, root: Value) -> str:
    if not np.all(np.isfinite(n.data)) or (n._grad is not None and not np.all(np.isfinite(n._grad))):
        return "nan"
    if n is root:
        return "loss"
    if not n._prev:
        if not n.requires_grad:
            return "constant"
        return "parameter" if is_parameter(n) else "input"
    return "op"


def _node_text(n: Value, name: str, show_grad: bool) -> str:
    head = f"{name}" + (f"  [{n.op}]" if n._prev else "")
    lines = [head, f"data {fmt(n.data)}"]
    if show_grad and n.requires_grad:
        lines.append("grad not computed yet" if n._grad is None else f"grad {fmt(n._grad)}")
    return "\n".join(lines)


def _edge_text(child: Value, i: int, names: dict[Value, str]) -> str:
    """The local derivative on an edge: its formula and, where it is a number or array, its value."""
    text = formula(child, i, names)
    value = local(child, i)
    if isinstance(value, str):
        return text
    shown = fmt(value)
    return text if text == shown else f"{text} = {shown}"


def _add_graph(
    g: graphviz.Digraph, root: Value, prefix: str, *, show_grad: bool, show_local: bool,
    highlight: set[Value], explanation: Explanation | None, max_nodes: int,
) -> dict[Value, str]:
    """Add root's graph to ``g`` with node ids ``prefix + index``; returns node → id."""
    nodes = graph_nodes(root)
    if len(nodes) > max_nodes:
        raise GraphTooLargeError(
            f"draw_graph: the graph has {len(nodes)} nodes, more than max_nodes={max_nodes}. "
            "Draw a part of it (pass an intermediate Value as the root), or raise max_nodes= if you "
            "really want all of it."
        )
    names = explanation.names if explanation is not None else node_names(nodes)
    ids = {n: f"{prefix}n{k}" for k, n in enumerate(nodes)}
    on_path: set[tuple[Value, Value, int]] = set()
    notes: dict[tuple[Value, Value, int], str] = {}
    if explanation is not None:
        for path in explanation.paths:
            idx = [(e.parent, e.child, e.child._prev.index(e.parent)) for e in path.edges]
            on_path.update(idx)
            for c in path.cancellations:
                text = f"{c.factor} cancels → {path.simplified}".replace("**2", "²").replace("*", "·")
                notes[idx[c.numerator]] = text
                notes[idx[c.denominator]] = text
        highlight = highlight | {n for p in explanation.paths for n in p.nodes}
    for n in nodes:
        role = _role(n, root)
        attrs = {"fillcolor": COLORS[role], "id": ids[n]}
        if n in highlight:
            attrs.update(color=HIGHLIGHT, penwidth="2.5")
        g.node(ids[n], escape(_node_text(n, names[n], show_grad)), **attrs)
    for child in nodes:
        for i, p in enumerate(child._prev):
            attrs = {"id": f"{ids[p]}_{ids[child]}_{i}"}
            label = _edge_text(child, i, names) if show_local else ""
            key = (p, child, i)
            if key in notes:
                label += f"\n{notes[key]}"
                attrs.update(fontcolor=HIGHLIGHT)
            if key in on_path:
                attrs.update(color=HIGHLIGHT, penwidth="2.5")
            g.edge(ids[p], ids[child], escape(label), **attrs)
    return ids


def _new_digraph(rankdir: str) -> graphviz.Digraph:
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir={rankdir!r} is not one of 'LR', 'RL', 'TB', 'BT'")
    g = graphviz.Digraph(format="svg")
    g.attr(rankdir=rankdir, fontname="Helvetica")
    g.attr("node", shape="box", style="rounded,filled", fontname="Helvetica", fontsize="11")
    g.attr("edge", fontname="Helvetica", fontsize="9")
    return g


def _highlights(highlight: Value | Iterable[Value] | None) -> set[Value]:
    if highlight is None:
        return set()
    return {highlight} if isinstance(highlight, Value) else set(highlight)


def draw_graph(
    root: Value, *, show_grad: bool = True, show_local: bool = True,
    highlight: Value | Iterable[Value] | None = None, explain: Value | None = None,
    rankdir: str = "LR", max_nodes: int = 1000,
) -> graphviz.Digraph:
    """The graph of ``root`` as a ``graphviz.Digraph``.

    ``explain=wrt`` colours every path from ``wrt`` to ``root`` and marks the
    edges where a factor cancels, with the simplified product.
    """
    g = _new_digraph(rankdir)
    explanation = explain_paths(root, explain) if explain is not None else None
    if explanation is not None:
        g.attr(label=escape(_title(explanation)), labelloc="t", fontsize="12")
    _add_graph(g, root, "", show_grad=show_grad, show_local=show_local,
               highlight=_highlights(highlight), explanation=explanation, max_nodes=max_nodes)
    return g


def _title(e: Explanation) -> str:
    r, w = e.names[e.root], e.names[e.wrt]
    expr = str(e.total_expression).replace("**2", "²").replace("*", "·")
    return f"∂{r}/∂{w} = {expr} = {fmt(e.total)}"


def _run_dot(g: graphviz.Digraph, format: str, keep: Path | None = None) -> bytes:
    """Lay the graph out with Graphviz's ``dot``; if that cannot happen, say how to fix it.

    With ``keep``, the DOT source is left there on failure, so nothing drawn is lost.
    """
    def failure(message: str) -> RuntimeError:
        if keep is not None:
            keep.write_text(g.source, encoding="utf-8")
            message += f" The DOT source was written to {keep}."
        return RuntimeError(message)

    if shutil.which("dot") is None:
        raise failure(f"{INSTALL_HINT}.")
    try:
        return subprocess.run(["dot", f"-T{format}"], input=g.source.encode("utf-8"),
                              capture_output=True, check=True).stdout
    except subprocess.CalledProcessError as e:
        raise failure(f"render: dot -T{format} failed: {e.stderr.decode(errors='replace').strip()}.") from None


def _write(g: graphviz.Digraph, path: str | Path, format: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_run_dot(g, format, keep=path.with_suffix(".dot")))
    return path


def render(root: Value, path: str | Path, format: str = "svg", **options: Any) -> Path:
    """Draw ``root``'s graph to ``path`` (svg, png, pdf …); options as ``draw_graph``."""
    return _write(draw_graph(root, **options), path, format)


def render_comparison(roots: dict[str, Value], path: str | Path, format: str = "svg", *,
                      explain: Value | dict[str, Value] | None = None, rankdir: str = "LR",
                      **options: Any) -> Path:
    """Several graphs side by side in one picture, e.g. ``{"cross-entropy": L, "MSE": M}``.

    ``explain`` is one Value for all graphs, or a dict giving each title its own.
    """
    g = _new_digraph(rankdir)
    max_nodes = options.pop("max_nodes", 1000)
    highlight = _highlights(options.pop("highlight", None))
    show_grad, show_local = options.pop("show_grad", True), options.pop("show_local", True)
    if options:
        raise TypeError(f"render_comparison: unknown option(s) {', '.join(sorted(options))}")
    for k, (title, root) in enumerate(roots.items()):
        wrt = explain.get(title) if isinstance(explain, dict) else explain
        e = explain_paths(root, wrt) if wrt is not None else None
        with g.subgraph(name=f"cluster_{k}") as sub:
            label = title if e is None else f"{title}\n{_title(e)}"
            sub.attr(label=escape(label), style="rounded", color="#9ca3af", fontsize="13")
            _add_graph(sub, root, f"g{k}", show_grad=show_grad, show_local=show_local,
                       highlight=highlight, explanation=e, max_nodes=max_nodes)
    return _write(g, path, format)


def to_svg(root: Value, **options: Any) -> str:
    """The SVG text of ``root``'s graph (needs ``dot``)."""
    return _run_dot(draw_graph(root, **options), "svg").decode("utf-8")


def backprop_html(root: Value, path: str | Path, grad: Any = None) -> Path:
    """One offline HTML file with a frame per backward step (prev/next/play, ← →).

    The graph is laid out once, before the pass, so nodes never move; frames
    change only highlighting and gradient text.  Writing it performs the
    backward pass (leaf grads accumulate, exactly as with ``backward()``).
    """
    if shutil.which("dot") is None:  # fail before touching any gradient
        raise RuntimeError(INSTALL_HINT)
    nodes = graph_nodes(root)
    names = node_names(nodes)
    for n in nodes:  # the first frame: interior gradients not computed yet
        if n._prev:
            n._grad = None
    g = _new_digraph("LR")
    ids = _add_graph(g, root, "", show_grad=True, show_local=True, highlight=set(), explanation=None,
                     max_nodes=1000)
    svg = _run_dot(g, "svg").decode("utf-8")
    svg = svg[svg.index("<svg"):]

    def grads() -> dict[str, str]:
        return {ids[n]: "grad not computed yet" if n._grad is None else f"grad {fmt(n._grad)}"
                for n in nodes if n.requires_grad}

    frames = [{"text": "Before backward: no gradient is known yet. Press → to start.",
               "node": None, "edges": [], "grads": grads()}]
    steps = backprop_steps(root, grad)
    for k, step in enumerate(steps):
        if k == 0:  # the seed is in place once the generator has started
            frames.append({"text": f"[0] seed: ∂{names[root]}/∂{names[root]} = {fmt(root._grad)}",
                           "node": ids[root], "edges": [], "grads": grads()})
        frames.append({
            "text": str(step),
            "node": ids[step.node],
            "edges": [f"{ids[e.parent]}_{ids[step.node]}_{i}" for i, e in _edge_indices(step)],
            "grads": grads(),
        })
    page = (_HTML.replace("__TITLE__", html.escape(f"Backprop through {names[root]}"))
            .replace("__FRAMES__", json.dumps(frames, ensure_ascii=False).replace("</", "<\\/"))
            .replace("__SVG__", svg))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def _edge_indices(step: Any) -> list[tuple[int, Any]]:
    """(parent position, edge) for each edge of a step, counting repeated parents apart."""
    out, used = [], set()
    for e in step.parents:
        i = next(i for i, p in enumerate(step.node._prev) if p is e.parent and i not in used)
        used.add(i)
        out.append((i, e))
    return out


_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 1em; }
#graph svg { max-width: 100%; height: auto; }
#controls button { font-size: 1em; margin-right: .4em; }
#step { font-family: monospace; white-space: pre-wrap; margin-top: .8em; padding: .5em; background: #f3f4f6; }
.current polygon, .current path { stroke: #dc2626; stroke-width: 3px; }
.active path { stroke: #dc2626; stroke-width: 3px; }
.active polygon { stroke: #dc2626; fill: #dc2626; }
</style></head><body>
<h2>__TITLE__</h2>
<div id="controls">
<button id="reset">reset</button><button id="prev">◀ prev</button>
<button id="play">▶ play</button><button id="next">next ▶</button>
<span id="counter"></span></div>
<div id="graph">__SVG__</div>
<div id="step"></div>
<script>
const frames = __FRAMES__;
let k = 0, timer = null;
function gradText(id) {
  const g = document.getElementById(id);
  if (!g) return null;
  const texts = g.querySelectorAll("text");
  for (const t of texts) if (t.textContent.startsWith("grad")) return t;
  return null;
}
function show(i) {
  k = Math.max(0, Math.min(frames.length - 1, i));
  const f = frames[k];
  document.querySelectorAll(".current, .active").forEach(e => e.classList.remove("current", "active"));
  if (f.node) document.getElementById(f.node).classList.add("current");
  for (const e of f.edges) { const el = document.getElementById(e); if (el) el.classList.add("active"); }
  for (const [id, text] of Object.entries(f.grads)) { const t = gradText(id); if (t) t.textContent = text; }
  document.getElementById("step").textContent = f.text;
  document.getElementById("counter").textContent = `step ${k} of ${frames.length - 1}`;
}
function play() {
  if (timer) { clearInterval(timer); timer = null; document.getElementById("play").textContent = "▶ play"; return; }
  document.getElementById("play").textContent = "⏸ pause";
  timer = setInterval(() => { if (k >= frames.length - 1) play(); else show(k + 1); }, 1200);
}
document.getElementById("next").onclick = () => show(k + 1);
document.getElementById("prev").onclick = () => show(k - 1);
document.getElementById("reset").onclick = () => show(0);
document.getElementById("play").onclick = play;
document.addEventListener("keydown", e => {
  if (e.key === "ArrowRight") show(k + 1);
  if (e.key === "ArrowLeft") show(k - 1);
});
show(0);
</script></body></html>
"""
