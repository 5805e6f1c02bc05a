"""Sigmoid: with BCE ∂L/∂w = (ŷ − y)·x; with MSE it is 2(ŷ − y)·σ(1−σ)·x, which vanishes at saturation."""

from _common import out_dir

from tinygrad_lite import explain, seed, viz

out = out_dir("04_sigmoid_bce_vs_mse")
print(f"{'w·x':>6} {'ŷ = σ(wx)':>10} {'BCE ∂L/∂w':>11} {'MSE ∂L/∂w':>11} {'σ(1−σ)':>9}   (label y = 1, x = 2)")
for w in (2.0, 0.0, -1.0, -2.5, -5.0):
    grads = {}
    for loss in ("bce", "mse"):
        wv, s, L = seed.sigmoid_example(loss, w=w)
        L.backward()
        grads[loss] = wv.grad
    y = s.data
    print(f"{w * seed.X:>6} {y:>10.4f} {grads['bce']:>11.5f} {grads['mse']:>11.5f} {y * (1 - y):>9.5f}")
    assert abs(grads["bce"] - (y - 1) * seed.X) < 1e-9
print("→ the more wrong ŷ is (w·x ≪ 0), the harder BCE pushes and the less MSE does.\n")
w, s, L = seed.sigmoid_example("bce")
L.backward()
print(explain(L, w))
w2, s2, M = seed.sigmoid_example("mse")
M.backward()
print(explain(M, w2))
print("wrote", viz.render_comparison({"sigmoid + BCE": L, "sigmoid + MSE": M}, out / "sigmoid.svg",
                                     explain={"sigmoid + BCE": w, "sigmoid + MSE": w2}))
