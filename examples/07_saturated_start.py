"""Claim 6: from a confidently wrong start, cross-entropy recovers and MSE stalls."""

from _common import out_dir

from tinygrad_lite import data
from tinygrad_lite.train import build_model, plot_histories, saturate, train

out = out_dir("07_saturated_start")
X, y = data.make_moons(seed=0)
model = build_model(2, 16, 0)
print(f"median initial ŷ_p after saturating: {saturate(model, X, y):.1e}")
start = model.state_dict()
histories = {}
for loss in ("ce", "mse"):
    m = build_model(2, 16, 0).load_state_dict(start)
    histories[loss] = train(loss, epochs=15, model=m, X=X, y=y)
    h = histories[loss][1]
    print(f"{loss:>3}: accuracy by epoch {[round(a, 2) for a in h.accuracy[::3]]}, "
          f"mean ∂L/∂z_p in epoch 1: {h.grad_zp[0]:+.4f}")
for path in plot_histories({k: h for k, (_, h) in histories.items()}, out / "saturated", "moons, saturated start"):
    print("wrote", path)
