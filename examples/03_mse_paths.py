"""Softmax + MSE: the direct path keeps ŷ_p(1−ŷ_p), so a confidently wrong prediction barely learns."""

from _common import out_dir

from tinygrad_lite import explain, seed, viz

out = out_dir("03_mse_paths")
z, yhat, L = seed.softmax_example("mse")
L.backward()
e = explain(L, z[0])
print(e)
direct = next(p for p in e.paths if p.nodes[1] is yhat[0])
print(f"\nthe direct path through ŷ_p: {direct.simplified} (nothing cancels: {direct.cancelled})")
print("the other paths add −2ŷ_p·ŷ_k² each; all of them carry the factor ŷ_p, so → 0 as ŷ_p → 0:")
for q in (0.5, 0.1, 0.01, 0.001):
    zq, _, Lq = seed.softmax_example("mse", seed.sweep_point(q), 0)
    Lq.backward()
    print(f"  ŷ_p = {q:<6} ∂L/∂z_p = {zq[0].grad:+.5f}")
print("wrote", viz.render(L, out / "mse.svg", explain=z[0]))
