"""In a batch: softmax + CE on (N, K) logits, explained element by element (the 1/N is a named factor)."""

from _common import out_dir

import tinygrad_lite as tl
from tinygrad_lite import seed, viz

out = out_dir("08_batch_cancellation")
Z, y, L = seed.batch_example("ce")  # N = 4, K = 3; row 0 is the single-sample seed example
p = int(y[0])
for j in (p, (p + 1) % Z.shape[1]):  # sample 0's target logit, then a non-target one
    e = tl.explain(L, Z, index=(0, j))
    print(e, end="\n\n")
L.backward()
print(f"backprop: Z.grad[0] = {Z.grad[0].round(6).tolist()}  (the explanations' totals)")

Zm, _, M = seed.batch_example("mse")
direct = tl.explain(M, Zm, index=(0, p)).paths[0]
print(f"MSE, the direct path through ŷ[0,{p}]: {direct.simplified} (cancelled: {direct.cancelled or 'nothing'})")

text = out / "batch_explained.txt"
text.write_text(str(tl.explain(L, Z, index=(0, p))) + "\n", encoding="utf-8")
print("wrote", text)
# The tensor graph with Z[0,p]'s path marked, and the scalar graph behind the first two samples.
print("wrote", viz.render(L, out / "batch_ce.svg", explain=Z, index=(0, p)))
Z2, _, L2 = seed.batch_example("ce", logits=seed.BATCH_LOGITS[:2], targets=seed.BATCH_TARGETS[:2])
L2.backward()
print("wrote", viz.render(L2, out / "batch_ce_unrolled.svg", unroll=True, explain=Z2, index=(0, p)))
