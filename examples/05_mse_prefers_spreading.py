"""From the loss's point of view: MSE rewards spreading the wrong probability evenly; CE does not care."""

from _common import out_dir

import tinygrad_lite as tl
import tinygrad_lite.functional as F

out = out_dir("05_mse_prefers_spreading")
label = [1.0, 0.0, 0.0]
rows = []
for pred in ([0.8, 0.1, 0.1], [0.8, 0.15, 0.05], [0.8, 0.2, 0.0]):
    probs = [tl.Value(p) for p in pred]
    mse = F.mse_loss(probs, label, reduction="sum").item()
    ce = (-probs[0].log()).item()
    rows.append((pred, mse, ce))
    print(f"ŷ = {pred}:  MSE = {mse:.4f}   CE = {ce:.4f}")
print("MSE is smallest for the even spread; CE only looks at ŷ_p = 0.8.")
(out / "spreading.csv").write_text("prediction,mse,ce\n" + "".join(f"\"{p}\",{m},{c}\n" for p, m, c in rows))
print("wrote", out / "spreading.csv")
