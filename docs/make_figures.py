"""Regenerate every figure the docs show: python docs/make_figures.py [OUT_DIR] (default docs/figures)."""

from __future__ import annotations

import sys
from pathlib import Path

from tinygrad_lite import data, seed, viz
from tinygrad_lite.cli import plot_sweep
from tinygrad_lite.train import build_model, plot_histories, saturate, train


def main(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    z_ce, _, L_ce = seed.softmax_example("ce")
    z_mse, _, L_mse = seed.softmax_example("mse")
    L_ce.backward()
    L_mse.backward()
    paths = [
        viz.render(L_ce, out / "ce.svg", explain=z_ce[0]),
        viz.render(L_mse, out / "mse.svg", explain=z_mse[0]),
        viz.render_comparison({"softmax + cross-entropy": L_ce, "softmax + MSE": L_mse}, out / "ce_vs_mse.svg",
                              explain={"softmax + cross-entropy": z_ce[0], "softmax + MSE": z_mse[0]}),
    ]
    w_b, _, L_b = seed.sigmoid_example("bce")
    w_m, _, L_m = seed.sigmoid_example("mse")
    L_b.backward()
    L_m.backward()
    paths.append(viz.render_comparison({"sigmoid + BCE": L_b, "sigmoid + MSE": L_m}, out / "sigmoid.svg",
                                       explain={"sigmoid + BCE": w_b, "sigmoid + MSE": w_m}))
    paths += plot_sweep(out)
    Z, _, L_batch = seed.batch_example("ce")
    L_batch.backward()
    paths.append(viz.render(L_batch, out / "batch_ce.svg", explain=Z, index=(0, 0)))
    Z2, _, L2 = seed.batch_example("ce", logits=seed.BATCH_LOGITS[:2], targets=seed.BATCH_TARGETS[:2])
    L2.backward()
    paths.append(viz.render(L2, out / "batch_ce_unrolled.svg", unroll=True, explain=Z2, index=(0, 0)))
    X, y = data.make_moons(seed=0)
    model = build_model(2, 16, 0)
    saturate(model, X, y)
    start = model.state_dict()
    hist = {loss: train(loss, epochs=20, model=build_model(2, 16, 0).load_state_dict(start), X=X, y=y)[1]
            for loss in ("ce", "mse")}
    paths += plot_histories(hist, out / "saturated", "moons, saturated start")
    return paths


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "figures"):
        print("wrote", p)
