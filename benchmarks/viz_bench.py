"""How long drawing takes: ~1,000-node scalar graphs to DOT and to SVG (issue 3 target: ≤ 1.5 s).

Run: python benchmarks/viz_bench.py
"""

from __future__ import annotations

from _timing import median_time

import tinygrad_lite as tl
from tinygrad_lite import nn, viz
from tinygrad_lite.naming import graph_nodes


def mlp_graph() -> tl.Value:
    """One sample through a scalar MLP 2-16-16-1 (nn.Layer): about 1,000 nodes."""
    l1, l2, l3 = nn.Layer(2, 16, rng=0), nn.Layer(16, 16, rng=1), nn.Layer(16, 1, nonlin=False, rng=2)
    return l3(l2(l1([tl.Value(0.5, label="x0"), tl.Value(-1.0, label="x1")])))[0]


def chain_graph(links: int = 500) -> tl.Value:
    x = tl.Value(1.0, label="x")
    y = x
    for _ in range(links):
        y = y * 1.01
    return y


def main() -> None:
    for name, root in (("scalar MLP 2-16-16-1", mlp_graph()), ("chain of 500 muls", chain_graph())):
        root.backward()
        n = len(graph_nodes(root))
        dot = median_time(lambda root=root: viz.draw_graph(root, max_nodes=2000).source, 5)
        svg = median_time(lambda root=root: viz.to_svg(root, max_nodes=2000), 3)
        print(f"{name:<22} {n:5d} nodes: DOT source {dot:.3f} s, SVG via dot {svg:.3f} s (target ≤ 1.5 s)")


if __name__ == "__main__":
    main()
