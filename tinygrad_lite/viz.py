"""Draw a graph of Values with Graphviz: values, gradients and local derivatives on every edge.

``draw_graph`` builds a ``graphviz.Digraph`` (DOT source; no ``dot`` program
needed); ``render`` and ``render_comparison`` write SVG/PNG/PDF with ``dot``;
``stepper`` steps through backprop inline in a notebook or as a saved page
(``backprop_html``).  Every drawing reads one ``GraphView`` of the graph and
shows each ``.grad`` as it is: looking never changes a gradient.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import graphviz
import numpy as np

from . import tensor_drawing, tensor_explanation
from .autograd import local
from .explanation import Explanation
from .explanation import explain as explain_paths
from .naming import fmt, formula
from .steps import GraphView, Step
from .value import Value

# Fill colour by role: what a node is for, at a glance (red wins: something is NaN/Inf).
COLORS = {"input": "#dbeafe", "parameter": "#dcfce7", "constant": "#f3f4f6", "op": "#ffffff",
          "loss": "#fde68a", "nan": "#fca5a5"}
HIGHLIGHT = "#dc2626"
INSTALL_HINT = (
    "Graphviz's `dot` program was not found. Install it (Debian/Ubuntu: sudo apt-get install graphviz; "
    "macOS: brew install graphviz; conda: conda install -c conda-forge graphviz)"
)
NOT_YET = "grad not computed yet"


class GraphTooLargeError(ValueError):
    """The graph has more nodes than ``max_nodes``."""


def escape(text: str) -> str:
    """Make user text safe inside a DOT string label (quotes, backslashes, newlines).

    ``nohtml``: the graphviz package would otherwise pass a text such as ``<CE>`` on as an HTML label.
    """
    return graphviz.nohtml(str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", ""))


# ---------------------------------------------------------------- options

@dataclass
class _Options:
    """How to draw: what to show, and the Graphviz attributes for slides."""

    show_grad: bool = True
    show_local: bool = True
    highlight: set[Value] = field(default_factory=set)
    rankdir: str = "LR"
    wrap: bool | None = None
    max_nodes: int = 1000
    fontsize: float = 11
    graph_attr: dict[str, str] = field(default_factory=dict)
    node_attr: dict[str, str] = field(default_factory=dict)
    edge_attr: dict[str, str] = field(default_factory=dict)

    def size(self, ratio: float) -> str:
        """A font size relative to node text (11 by default): edge labels 9/11 of it, titles larger."""
        return f"{self.fontsize * ratio:.3g}"


def _options(who: str, allowed: Iterable[str] | None = None, **given: Any) -> _Options:
    names = set(_Options.__dataclass_fields__) if allowed is None else set(allowed)
    unknown = sorted(set(given) - names)
    if unknown:
        raise TypeError(f"{who}: unknown option(s) {', '.join(unknown)}; the options are {', '.join(sorted(names))}")
    opts = _Options(**{k: v for k, v in given.items() if k != "highlight"})
    h = given.get("highlight")
    opts.highlight = set() if h is None else {h} if isinstance(h, Value) else set(h)
    if opts.rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"{who}: rankdir={opts.rankdir!r} is not one of 'LR', 'RL', 'TB', 'BT'")
    if opts.wrap not in (None, True, False):
        raise ValueError(f"{who}: wrap must be None (rows for a long tensor graph), True or False, got {opts.wrap!r}")
    if opts.wrap is True and opts.rankdir != "LR":
        raise ValueError(f"{who}: wrap=True lays the graph out in rows, left to right and then down, "
                         f"so it needs rankdir='LR', not {opts.rankdir!r}")
    if not isinstance(opts.fontsize, (int, float)) or not opts.fontsize > 0:
        raise ValueError(f"{who}: fontsize must be a positive number of points, got {opts.fontsize!r}")
    for name in ("graph_attr", "node_attr", "edge_attr"):
        attrs = getattr(opts, name) or {}
        if not isinstance(attrs, Mapping):
            raise TypeError(f"{who}: {name} must be a dict of Graphviz attributes, e.g. {{'bgcolor': 'white'}}; "
                            f"got {type(attrs).__name__}")
        setattr(opts, name, {str(k): str(v) for k, v in attrs.items()})
    return opts


def _new_digraph(opts: _Options) -> graphviz.Digraph:
    g = graphviz.Digraph(format="svg")
    g.attr(**{"rankdir": opts.rankdir, "fontname": "Helvetica", "fontsize": opts.size(12 / 11), **opts.graph_attr})
    g.attr("node", **{"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                      "fontsize": opts.size(1), **opts.node_attr})
    g.attr("edge", **{"fontname": "Helvetica", "fontsize": opts.size(9 / 11), **opts.edge_attr})
    return g


# ---------------------------------------------------------------- one graph

def _role(n: Value, root: Value) -> str:
    if not np.all(np.isfinite(n.data)) or (n._grad is not None and not np.all(np.isfinite(n._grad))):
        return "nan"
    if n is root:
        return "loss"
    if not n._prev:
        if not n.requires_grad:
            return "constant"
        return "parameter" if n.role == "parameter" else "input"
    return "op"


def _side_grads(view: GraphView) -> dict[Value, Any]:
    """One backward pass from zero, or nothing when the root's gradient is not implied (a tensor root)."""
    try:
        return view.grads
    except ValueError:
        return {}


def _passes(grad: Any, one: Any) -> int | None:
    """``k`` when ``grad`` is k ≥ 2 times one pass ``one`` (e.g. k backward calls; a hook can scale it too), else None."""
    g, o = np.asarray(grad, dtype=float), np.asarray(one, dtype=float)
    if g.shape != o.shape or not np.all(np.isfinite(g)) or not np.any(o):
        return None
    k = float(np.sum(g * o) / np.sum(o * o))
    n = round(k)
    return n if n >= 2 and abs(k - n) < 1e-6 and np.allclose(g, n * o, rtol=1e-9, atol=1e-12) else None


def _grad_line(n: Value, one: Any, root_name: str) -> str:
    """``.grad`` as it really is; where it is not one pass of this graph, what one pass gives, next to it."""
    if n._grad is None:
        return NOT_YET
    text = f"grad {fmt(n._grad)}"
    if one is None or np.allclose(n._grad, one, rtol=1e-12, atol=0.0, equal_nan=True):
        return _entries("grad", n._grad)
    k = _passes(n._grad, one)
    if k is not None:
        return f"{text} = {k} × this pass {fmt(one)}"
    return f"{text}; one pass from {root_name}: {fmt(one)}"


def _node_text(n: Value, name: str, grad_line: str | None) -> str:
    head = f"{name}" + (f"  [{n._op.label(n._number)}]" if n._prev else "")
    lines = [head, _entries("data", n.data)]
    if grad_line is not None:
        lines.append(grad_line)
    return "\n".join(lines)


def _entries(what: str, x: Any) -> str:
    """``data 1.5``; a small tensor as a matrix under its name, one row per line."""
    text = fmt(x, multiline=True)
    return f"{what} {text}" if "\n" not in text else f"{what}\n{text}"


def _edge_text(child: Value, i: int, names: dict[Value, str]) -> str:
    """The local derivative on an edge: its formula and, where it is a number or array, its value."""
    text = formula(child, i, names)
    value = local(child, i)
    if isinstance(value, str):
        return text
    shown = fmt(value, multiline=True)
    return text if text == shown else f"{text} =\n{shown}" if "\n" in shown else f"{text} = {shown}"


def _position(child: Value, parent: Value) -> int:
    """Which parent of ``child`` this is, by identity (a Value's ``==`` is elementwise)."""
    return next(k for k, p in enumerate(child._prev) if p is parent)


def _check_size(view: GraphView, max_nodes: int, who: str) -> None:
    if len(view.nodes) > max_nodes:
        raise GraphTooLargeError(
            f"{who}: the graph has {len(view.nodes)} nodes, more than max_nodes={max_nodes}. "
            "Draw a part of it (pass an intermediate Value as the root), or raise max_nodes= if you "
            "really want all of it."
        )


def _add_edge(g: graphviz.Digraph, tail: str, head: str, eid: str, label: str, opts: _Options,
              attrs: dict[str, str], font: dict[str, str]) -> None:
    """An edge whose label is a small box *on* the edge (tail → label → head).

    Graphviz places a plain edge label near, not on, its edge, and in dense graphs
    next to other edges' curves; as a node of its own the label is threaded onto
    its edge, and dot routes every other edge around it.
    """
    if not label:
        g.edge(tail, head, id=eid, **attrs)
        return
    lid = f"{eid}_l"
    look = {"shape": "box", "style": "filled", "fillcolor": "white", "color": "none", "margin": "0.04,0.02",
            "width": "0", "height": "0", "fontsize": opts.size(9 / 11),
            **{k: v for k, v in opts.edge_attr.items() if k.startswith("font")}, **font}
    g.node(lid, escape(label), id=lid, **look)
    g.edge(tail, lid, id=f"{eid}_a", arrowhead="none", **attrs)
    g.edge(lid, head, id=f"{eid}_b", **attrs)


def _rows(view: GraphView, opts: _Options) -> list[list[Value]]:
    """The rows to lay the graph out in ([]: one strip along ``rankdir``): by default a long
    tensor graph drawn left to right is wrapped (``tensor_drawing.rows``); ``wrap=True`` wraps
    any long graph, ``wrap=False`` none."""
    if opts.wrap is False or opts.rankdir != "LR":
        return []
    return tensor_drawing.rows(view.nodes, scalars_too=opts.wrap is True)


def _add_graph(g: graphviz.Digraph, view: GraphView, prefix: str, opts: _Options,
               explanation: Explanation | None, grad_text: Callable[[Value], str | None], who: str,
               rows: list[list[Value]] | None = None) -> dict[Value, str]:
    """Add the view's graph to ``g`` with node ids ``prefix + n<index>``; returns node → id.

    ``rows``: each on one rank, row under row (``_rows``), instead of one strip.
    """
    _check_size(view, opts.max_nodes, who)
    names = view.names
    ids = {n: f"{prefix}n{k}" for k, n in enumerate(view.nodes)}
    on_path: set[tuple[Value, Value, int]] = set()
    notes: dict[tuple[Value, Value, int], str] = {}
    highlight = opts.highlight
    if explanation is not None:
        for path in explanation.paths:
            idx = [(e.parent, e.child, _position(e.child, e.parent)) for e in path.edges]
            on_path.update(idx)
            for c in path.cancellations:
                text = f"{c.factor} cancels → {path.formula}"
                notes[idx[c.numerator]] = text
                notes[idx[c.denominator]] = text
        highlight = highlight | {n for p in explanation.paths for n in p.nodes}
    for n in view.nodes:
        attrs = {"fillcolor": COLORS[_role(n, view.root)], "id": ids[n]}
        if n in highlight:
            attrs.update(color=HIGHLIGHT, penwidth="2.5")
        g.node(ids[n], escape(_node_text(n, names[n], grad_text(n) if n.requires_grad else None)), **attrs)
    for child in view.nodes:
        for i, p in enumerate(child._prev):
            key = (p, child, i)
            label = _edge_text(child, i, names) if opts.show_local else ""
            font: dict[str, str] = {}
            if key in notes:
                label += f"\n{notes[key]}"
                font["fontcolor"] = HIGHLIGHT
            attrs = {"color": HIGHLIGHT, "penwidth": "2.5"} if key in on_path else {}
            _add_edge(g, ids[p], ids[child], f"{ids[p]}_{ids[child]}_{i}", label, opts, attrs, font)
    if rows:
        _wrap_rows(g, rows, ids, labelled=opts.show_local)
    return ids


def _wrap_rows(g: graphviz.Digraph, rows: list[list[Value]], ids: dict[Value, str], labelled: bool) -> None:
    """Rows of ranks, top to bottom: each row (with the label boxes of its edges) on one rank."""
    g.attr(rankdir="TB")
    for row in rows:
        members = set(row)
        with g.subgraph() as r:
            r.attr(rank="same")
            for n in row:
                r.node(ids[n])
                for i, p in enumerate(n._prev if labelled else ()):
                    if p in members:
                        r.node(f"{ids[p]}_{ids[n]}_{i}_l")


def _drawn_grads(view: GraphView, show_grad: bool) -> Callable[[Value], str | None]:
    if not show_grad:
        return lambda n: None
    one = _side_grads(view)
    root_name = view.names[view.root]
    return lambda n: _grad_line(n, one.get(n), root_name)


def _title(e: Explanation) -> str:
    r, w = e.names[e.root], e.names[e.wrt]
    return f"∂{r}/∂{w} = {e.formula} = {fmt(e.total)}"


def _explained(root: Value, wrt: Value | None, index: Any) -> tuple[Explanation | None, str | None]:
    """explain's paths as a drawing of ``root``'s graph marks them, and the title that states the result.

    For one element of a tensor (``index``) the scalar paths are mapped onto the tensor graph's edges.
    """
    if wrt is None:
        return None, None
    e = explain_paths(root, wrt, index=index)
    if isinstance(e, tensor_explanation.TensorExplanation):
        return tensor_drawing.tensor_paths(e), tensor_drawing.title(e)
    return e, _title(e)


def _explain_for(explain: Any, title: str | None) -> Any:
    """One setting (explain=, index=) for every panel, or a dict giving each title its own."""
    return explain.get(title) if isinstance(explain, Mapping) else explain


def draw_graph(
    root: Value, *, show_grad: bool = True, show_local: bool = True,
    highlight: Value | Iterable[Value] | None = None, explain: Value | None = None,
    rankdir: str = "LR", wrap: bool | None = None, max_nodes: int = 1000, fontsize: float = 11,
    graph_attr: Mapping[str, Any] | None = None, node_attr: Mapping[str, Any] | None = None,
    edge_attr: Mapping[str, Any] | None = None, unroll: bool = False, index: Any = None,
) -> graphviz.Digraph:
    """The graph of ``root`` as a ``graphviz.Digraph``.

    ``explain=wrt`` colours every path from ``wrt`` to ``root`` and marks the
    edges where a factor cancels, with the simplified product; in a tensor graph
    ``index`` picks the element of ``wrt`` whose paths are marked.  ``unroll=True``
    draws the scalar graph behind a small tensor graph (``tl.unroll``).  Left to right,
    a long tensor graph is wrapped into rows of boxes unless ``wrap=False`` (``wrap=True``
    wraps a long scalar graph too).
    ``fontsize`` scales all text; ``graph_attr``/``node_attr``/``edge_attr`` go to Graphviz.
    """
    opts = _options("draw_graph", show_grad=show_grad, show_local=show_local, highlight=highlight,
                    rankdir=rankdir, wrap=wrap, max_nodes=max_nodes, fontsize=fontsize, graph_attr=graph_attr,
                    node_attr=node_attr, edge_attr=edge_attr)
    if unroll:
        scalar_root, u = tensor_drawing.scalar_graph(root, max_nodes)
        view = tensor_drawing.scalar_view(scalar_root, u)
        if explain is not None:
            explain = u.element(explain, tensor_explanation._index(explain, index, u.names.get(explain, "wrt")))
            index = None
        root = scalar_root
    else:
        view = GraphView(root)
    _check_size(view, max_nodes, "draw_graph")
    g = _new_digraph(opts)
    explanation, title = _explained(root, explain, index)
    if explanation is not None:
        g.attr(label=escape(title), labelloc="t")
    _add_graph(g, view, "", opts, explanation, _drawn_grads(view, show_grad), "draw_graph", _rows(view, opts))
    return g


# ---------------------------------------------------------------- dot

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


def to_svg(root: Value, **options: Any) -> str:
    """The SVG text of ``root``'s graph (needs ``dot``)."""
    return _run_dot(draw_graph(root, **options), "svg").decode("utf-8")


# ---------------------------------------------------------------- several graphs

def comparison_graph(roots: Mapping[str, Value], *, explain: Value | Mapping[str, Value] | None = None,
                     index: Any = None, **options: Any) -> graphviz.Digraph:
    """Several graphs in one ``Digraph``, one framed panel per title, in the dict's order along the flow.

    Panel k+1 is tied to panel k by invisible edges from k's root to k+1's
    leaves, so dot must rank all of it after all of panel k: left to right for
    ``rankdir="LR"`` (and ``"RL"``, tied the other way), top to bottom for TB/BT.
    When a panel is wrapped into rows (``wrap``), every panel is laid out in rows
    top to bottom, and the untied panels stand side by side in the dict's order.
    """
    opts = _options("render_comparison", **options)
    if not roots:
        raise ValueError("render_comparison: roots is empty; pass a dict such as {'CE': L1, 'MSE': L2}")
    g = _new_digraph(opts)
    views = [GraphView(root) for root in roots.values()]
    rows = [_rows(view, opts) for view in views]
    wrapped = any(rows)
    if wrapped:  # one row for a panel too short to wrap, so it still reads left to right
        rows = [r or [[n for n in v.nodes if n._prev]] for r, v in zip(rows, views)]
        g.attr(rankdir="TB")
    panels = []
    for k, (title, view) in enumerate(zip(roots, views)):
        root = view.root
        e, subtitle = _explained(root, _explain_for(explain, title), _explain_for(index, title))
        with g.subgraph(name=f"cluster_{k}") as sub:
            label = title if e is None else f"{title}\n{subtitle}"
            sub.attr(label=escape(label), style="rounded", color="#9ca3af", fontsize=opts.size(13 / 11))
            ids = _add_graph(sub, view, f"g{k}", opts, e, _drawn_grads(view, opts.show_grad), "render_comparison",
                             rows[k])
        panels.append((view, ids))
    if wrapped:
        return g
    if opts.rankdir in ("RL", "BT"):
        panels.reverse()
    for (va, ia), (vb, ib) in zip(panels, panels[1:]):
        for n in vb.nodes:
            if not n._prev:
                g.edge(ia[va.root], ib[n], style="invis")
    return g


def render_comparison(roots: Mapping[str, Value], path: str | Path, format: str = "svg", *,
                      explain: Value | Mapping[str, Value] | None = None, index: Any = None,
                      **options: Any) -> Path:
    """Several graphs side by side in one picture, e.g. ``{"cross-entropy": L, "MSE": M}``, left to right.

    ``explain`` is one Value for all graphs, or a dict giving each title its own
    (``index``, one or a dict, the element of a tensor ``explain`` to follow);
    options as ``draw_graph``.
    """
    return _write(comparison_graph(roots, explain=explain, index=index, **options), path, format)


# ---------------------------------------------------------------- the stepper

_instances = itertools.count()


def _svg_body(svg: bytes, prefix: str) -> str:
    """dot's SVG without the XML prolog, its one fixed id made unique, scaled to fit its box."""
    text = svg.decode("utf-8")
    text = text[text.index("<svg"):]
    text = text.replace('id="graph0"', f'id="{prefix}graph"', 1)
    text = re.sub(r"<title>.*?</title>\n?", "", text)  # dot's ids as tooltips: noise over the boxes
    return re.sub(r"<!--.*?-->\n?", "", text, flags=re.S)


def _width(svg: str) -> float:
    """The drawing's width in points, so wider panels get more room."""
    m = re.search(r'<svg width="([0-9.]+)pt"', svg)
    return float(m.group(1)) if m else 100.0


def _prefix_ids(svg: str, prefix: str) -> str:
    """Prefix every id attribute (inside tags only: text between tags never holds a raw ``<``)."""
    return re.sub(r'(<\w[^<>]*?\s)id="', lambda m: f'{m.group(1)}id="{prefix}', svg)


def _edge_indices(step: Step) -> list[tuple[int, Any]]:
    """(parent position, edge) for each edge of a step, counting repeated parents apart."""
    out, used = [], set()
    for e in step.parents:
        i = next(i for i, p in enumerate(step.node._prev) if p is e.parent and i not in used)
        used.add(i)
        out.append((i, e))
    return out


def _no_graph(view: GraphView, who: str) -> ValueError:
    name = view.names[view.root]
    if not view.root._prev:
        why = (f"{name} is a leaf: nothing was computed from other Values to make it (a Value built under "
               "no_grad(), or with detach(), is a leaf too)")
    else:
        why = f"{name} does not require grad: it was computed only from constants"
    return ValueError(f"{who}: {why}, so backward has no steps to show. "
                      "Step through a Value computed from Values that require grad, such as a loss.")


@dataclass
class _Panel:
    title: str
    subtitle: str
    graph: graphviz.Digraph  # laid out by dot only when shown or saved, so a notebook without dot still works
    prefix: str
    frames: list[dict[str, Any]]
    initial: dict[str, str]
    root_name: str
    _svg: str | None = None

    @property
    def svg(self) -> str:
        if self._svg is None:
            self._svg = _svg_body(_run_dot(self.graph, "svg"), self.prefix)
        return self._svg


def _panel(title: str, root: Value, wrt: Value | None, grad: Any, opts: _Options, prefix: str, who: str,
           index: Any = None) -> _Panel:
    view = GraphView(root, grad)
    _check_size(view, opts.max_nodes, who)
    if not view.has_steps:
        raise _no_graph(view, who)
    steps, grads = view.trace, view.grads
    e, subtitle = _explained(root, wrt, index)

    def widest(n: Value) -> str:  # lay each box out wide enough for every text it will show
        return max(NOT_YET, f"grad {fmt(grads[n])}" if n in grads else "", key=len)

    g = _new_digraph(opts)
    ids = _add_graph(g, view, prefix, opts, e, widest, who, _rows(view, opts))
    r = view.names[root]
    seed = view.seed()
    frames = [{"text": f"[0] seed: ∂{r}/∂{r} = {fmt(seed)}", "node": ids[root], "edges": [],
               "grads": {ids[root]: f"grad {fmt(seed)}"}}]
    for step in steps:
        frames.append({
            "text": str(step),
            "node": ids[step.node],
            "edges": [f"{ids[e.parent]}_{ids[step.node]}_{i}" for i, e in _edge_indices(step)],
            "grads": {ids[e.parent]: f"grad {fmt(e.grad)}" for e in step.parents},
        })
    initial = {ids[n]: NOT_YET for n in view.nodes if n.requires_grad}
    return _Panel(title, subtitle or "", g, prefix, frames, initial, r)


class Stepper:
    """Backprop one step per frame, over the graph laid out once: shows inline in Jupyter, or ``.save(path)``.

    Frame k shows exactly the gradients known after step k (frame 0: the seed,
    the root's alone), computed on the side: no ``.grad`` changes.  Controls:
    reset, prev, play, next; ← and → step the stepper that has keyboard focus
    (click it or Tab to it), else the one under the mouse pointer, else, when
    nothing on the page has focus and it is the page's only stepper, that one.
    """

    def __init__(self, panels: list[_Panel], title: str) -> None:
        self.panels = panels
        self.title = title
        self._n = next(_instances)

    @property
    def steps(self) -> int:
        """The number of backward steps (the last frame's number)."""
        return max(len(p.frames) for p in self.panels) - 1

    def _uid(self) -> str:
        digest = hashlib.sha1("".join(p.svg for p in self.panels).encode("utf-8")).hexdigest()[:8]
        return f"tls-{digest}-{self._n}"

    def __repr__(self) -> str:
        return f"<Stepper: {self.title}, {self.steps} steps>"

    def _repr_html_(self) -> str:
        """The stepper inline; without Graphviz's ``dot``, a short note saying how to install it."""
        try:
            return self._fragment()
        except RuntimeError as e:
            return _not_drawn_html(self.title, e)

    def _fragment(self) -> str:
        uid = self._uid()
        data = [{"frames": p.frames, "initial": p.initial} for p in self.panels]
        panels = "".join(
            f'<div class="tl-panel" style="flex: {_width(p.svg):.0f} 1 0"><div class="tl-ptitle">{html.escape(p.title)}</div>'
            + (f'<div class="tl-sub">{html.escape(p.subtitle)}</div>' if p.subtitle else "")
            + f'<div class="tl-svg">{_prefix_ids(p.svg, uid + "-")}</div>'
            + '<div class="tl-step"></div></div>'
            for p in self.panels
        )
        script = (_JS.replace("__UID__", json.dumps(uid))
                  .replace("__DATA__", json.dumps(data, ensure_ascii=False).replace("<", "\\u003c"))
                  .replace("__PREFIX__", json.dumps(f"{uid}-")))
        return (f'<div class="tl-stepper" id="{uid}" tabindex="0">'
                f"<style>{_CSS.replace('#ROOT', '#' + uid)}</style>"
                f'<div class="tl-title">{html.escape(self.title)}</div>'
                '<div class="tl-note">one backward pass computed on the side: no .grad is changed</div>'
                '<div class="tl-controls"><button data-act="reset">reset</button>'
                '<button data-act="prev">◀ prev</button><button data-act="play">▶ play</button>'
                '<button data-act="next">next ▶</button> <span class="tl-counter"></span></div>'
                f'<div class="tl-panels">{panels}</div>'
                f"<script>{script}</script></div>")

    def html(self) -> str:
        """A whole offline page holding this stepper."""
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(self.title)}</title>"
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
                "<style>body { margin: 1em; }</style></head><body>\n"
                f"{self._fragment()}\n</body></html>\n")

    def save(self, path: str | Path) -> Path:
        """Write the stepper as one self-contained HTML file (no network, no external files)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html(), encoding="utf-8")
        return path


def stepper(root: Value | Mapping[str, Value], explain: Value | Mapping[str, Value] | None = None, *,
            grad: Any = None, index: Any = None, **options: Any) -> Stepper:
    """A stepper through backprop of ``root``, or of several graphs side by side (``{"CE": L1, "MSE": L2}``).

    All panels share one set of controls: step k of each at once.  ``explain``
    (a Value, or a dict per title) marks the paths and what cancels on every
    frame (``index``: the element of a tensor ``explain``, one or a dict per title).
    Options as ``draw_graph`` except ``show_grad``.
    """
    opts = _options("stepper", set(_Options.__dataclass_fields__) - {"show_grad"}, **options)
    roots = dict(root) if isinstance(root, Mapping) else {"": root}
    if not roots:
        raise ValueError("stepper: no graphs given; pass a Value or a dict such as {'CE': L1, 'MSE': L2}")
    panels = []
    for k, (title, r) in enumerate(roots.items()):
        g = grad.get(title) if isinstance(grad, Mapping) else grad
        key = title if isinstance(root, Mapping) else None
        panels.append(_panel(title, r, _explain_for(explain, key), g, opts, f"p{k}", "stepper",
                             _explain_for(index, key)))
    if isinstance(root, Mapping):
        title = "Backprop, step by step: " + " | ".join(roots)
    else:
        title = f"Backprop through {panels[0].root_name}"
    return Stepper(panels, title)


def backprop_html(root: Value | Mapping[str, Value], path: str | Path, grad: Any = None, **options: Any) -> Path:
    """One offline HTML file stepping through backprop (``stepper(...).save(path)``)."""
    return stepper(root, grad=grad, **options).save(path)


# ---------------------------------------------------------------- notebook display

def _not_drawn_html(what: str, error: Exception) -> str:
    return (f'<div class="tl-not-drawn"><b>{html.escape(what)}</b>: not drawn. '
            f"{html.escape(str(error).splitlines()[0])}</div>")


class Drawing:
    """A graph (or several side by side) that displays itself in a notebook: SVG, or without ``dot`` a note
    saying how to install Graphviz, never an error."""

    def __init__(self, graph: graphviz.Digraph, title: str) -> None:
        self.graph, self.title = graph, title

    def __repr__(self) -> str:
        return f"<Drawing: {self.title}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        try:
            return {"image/svg+xml": _run_dot(self.graph, "svg").decode("utf-8"), "text/plain": repr(self)}
        except RuntimeError as e:
            return {"text/html": _not_drawn_html(self.title, e),
                    "text/plain": f"{self.title}: not drawn. {str(e).splitlines()[0]}"}


def show(root: Value | Mapping[str, Value], explain: Value | Mapping[str, Value] | None = None,
         **options: Any) -> Drawing:
    """``draw_graph(root, ...)`` (or ``comparison_graph`` for a dict of roots) for a notebook cell to display."""
    if isinstance(root, Mapping):
        return Drawing(comparison_graph(root, explain=explain, **options), " | ".join(root))
    g = draw_graph(root, explain=explain, **options)  # type: ignore[arg-type]
    return Drawing(g, f"the graph of {GraphView(root).names[root]}")


_CSS = """
#ROOT { font-family: Helvetica, Arial, sans-serif; border: 1px solid #e5e7eb; border-radius: 6px;
  padding: .6em; margin: .4em 0; outline: none; }
#ROOT:focus-within { box-shadow: 0 0 0 2px #93c5fd; }
#ROOT .tl-title { font-weight: bold; font-size: 1.1em; }
#ROOT .tl-note { color: #6b7280; font-size: .85em; margin-bottom: .4em; }
#ROOT .tl-controls button { font-size: 1em; margin-right: .3em; }
#ROOT .tl-panels { display: flex; gap: 1em; align-items: flex-start; overflow-x: auto; }
#ROOT .tl-panel { flex: 1 1 0; min-width: 0; }
#ROOT .tl-ptitle { font-weight: bold; }
#ROOT .tl-sub { color: #dc2626; font-size: .9em; }
#ROOT .tl-svg svg { max-width: 100%; height: auto; }
#ROOT .tl-step { font-family: monospace; white-space: pre-wrap; margin-top: .5em; padding: .4em;
  background: #f3f4f6; }
#ROOT .tl-current > path, #ROOT .tl-current > polygon { stroke: #2563eb; stroke-width: 4px; }
#ROOT .tl-active > path { stroke: #2563eb; stroke-width: 3px; }
#ROOT .tl-active > polygon { stroke: #2563eb; fill: #2563eb; }
#ROOT .tl-label-active text { fill: #2563eb; font-weight: bold; }
#ROOT .tl-fresh text:last-of-type { fill: #2563eb; font-weight: bold; }
"""

_JS = """(function () {
  "use strict";
  const root = document.getElementById(__UID__), data = __DATA__, pre = __PREFIX__;
  const panels = root.querySelectorAll(".tl-panel");
  const last = Math.max(...data.map(p => p.frames.length - 1));
  const byId = id => document.getElementById(pre + id);
  const marks = ["tl-current", "tl-active", "tl-label-active", "tl-fresh"];
  let k = 0, timer = null;
  function gradText(id) {
    const n = byId(id);
    if (!n) return null;
    const t = n.querySelectorAll("text");
    return t.length ? t[t.length - 1] : null;
  }
  function show(i) {
    k = Math.max(0, Math.min(last, i));
    root.querySelectorAll("." + marks.join(",.")).forEach(e => e.classList.remove(...marks));
    data.forEach((p, j) => {
      const n = p.frames.length - 1, f = Math.min(k, n), texts = Object.assign({}, p.initial);
      for (let s = 0; s <= f; s++) Object.assign(texts, p.frames[s].grads);
      for (const id in texts) { const t = gradText(id); if (t) t.textContent = texts[id]; }
      const box = panels[j].querySelector(".tl-step");
      if (k > n) { box.textContent = "done: this backward pass ended at step " + n; return; }
      const fr = p.frames[f];
      if (fr.node) byId(fr.node).classList.add("tl-current");
      for (const e of fr.edges) {
        for (const s of ["", "_a", "_b"]) { const el = byId(e + s); if (el) el.classList.add("tl-active"); }
        const l = byId(e + "_l");
        if (l) l.classList.add("tl-label-active");
      }
      for (const id in fr.grads) { const el = byId(id); if (el) el.classList.add("tl-fresh"); }
      box.textContent = fr.text;
    });
    root.querySelector(".tl-counter").textContent = "step " + k + " of " + last;
  }
  function play() {
    const b = root.querySelector('[data-act="play"]');
    if (timer) { clearInterval(timer); timer = null; b.textContent = "▶ play"; return; }
    if (k >= last) show(0);
    b.textContent = "⏸ pause";
    timer = setInterval(() => { if (k >= last) play(); else show(k + 1); }, 1200);
  }
  const act = { reset: () => show(0), prev: () => show(k - 1), next: () => show(k + 1), play: play };
  root.querySelectorAll("[data-act]").forEach(b => b.addEventListener("click", act[b.dataset.act]));
  function key(e) {
    if (e.key === "ArrowRight") show(k + 1); else if (e.key === "ArrowLeft") show(k - 1); else return false;
    e.preventDefault();
    return true;
  }
  root.addEventListener("keydown", e => { if (key(e)) e.stopPropagation(); });
  document.addEventListener("keydown", e => {
    const a = document.activeElement;
    if (!root.isConnected || (a && a !== document.body && a !== document.documentElement)) return;
    if (root.matches(":hover") || document.querySelectorAll(".tl-stepper").length === 1) key(e);
  });
  show(0);
})();
"""
