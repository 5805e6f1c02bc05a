"""Backprop twice: CE's Hessian in the logits is diag(ŷ) − ŷŷᵀ (convex); softmax + MSE's is not once ŷ_p < 1/3."""

from _common import out_dir

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tinygrad_lite import curvature, seed, viz

out = out_dir("09_curvature")
print(curvature.report())

# A gradient is an ordinary graph: draw ∂L/∂z0 of cross-entropy, and explain one second derivative.
z = [tl.Value(v, label=f"z{i}") for i, v in enumerate(seed.LOGITS)]
(g0,) = tl.grad(F.cross_entropy(z, seed.TARGET), z[0], create_graph=True)
g0.label = "g0"
print(f"\ng0 = ∂L/∂z0 = {g0.item():.6f} (ŷ0 − 1), built as a graph; its own derivative along z1:")
print(tl.explain(g0, z[1]))
print("wrote", viz.render(g0, out / "ce_gradient_graph.svg"))
