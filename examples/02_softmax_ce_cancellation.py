"""Softmax + cross-entropy: the softmax factor ŷ_p(1−ŷ_p) meets −1/ŷ_p and ŷ_p cancels."""

from _common import out_dir

from tinygrad_lite import explain, seed, viz

out = out_dir("02_softmax_ce_cancellation")
z, yhat, L = seed.softmax_example("ce")  # 3 classes, target p = 0
L.backward()
e = explain(L, z[0])
print(e)
print(f"\nso ∂L/∂z_p = ŷ_p − 1 = {yhat[0].data - 1:.6f}; backprop gave {z[0].grad:.6f}")
for k in (1, 2):
    print(f"and for k = {k}: ∂L/∂z_k = ŷ_k = {yhat[k].data:.6f}; backprop gave {z[k].grad:.6f}")
print("wrote", viz.render(L, out / "ce.svg", explain=z[0]))
