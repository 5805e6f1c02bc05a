"""Train a 2-16-16-2 MLP on two moons with cross-entropy and Adam, then draw its decision regions."""

import numpy as np
from _common import out_dir

import tinygrad_lite as tl
import tinygrad_lite.functional as F
from tinygrad_lite import data, nn, optim

out = out_dir("06_train_tiny_net")
X, y = data.make_moons(n=200, noise=0.1, seed=0)
model = nn.MLP([2, 16, 16, 2], rng=0)
opt = optim.Adam(model.parameters(), lr=0.05)
for step in range(100):
    loss = F.cross_entropy(model(X), y, fused=True)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 20 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}")
with tl.no_grad():
    acc = (model(X).data.argmax(1) == y).mean()
print(f"training accuracy {acc:.3f}")
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("install matplotlib (pip install 'tinygrad-lite[plot]') to draw the decision regions")
else:
    gx, gy = np.meshgrid(np.linspace(-1.5, 2.5, 120), np.linspace(-1, 1.5, 100))
    with tl.no_grad():
        zz = model(np.c_[gx.ravel(), gy.ravel()]).data.argmax(1).reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.contourf(gx, gy, zz, alpha=0.3, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y, s=12, cmap="coolwarm")
    ax.set_title(f"moons, accuracy {acc:.2f}")
    fig.savefig(out / "moons.png", dpi=100)
    print("wrote", out / "moons.png")
