"""Scalar backprop, micrograd-style: one neuron tanh(w1·x1 + w2·x2 + b), step by step."""

from _common import out_dir

import tinygrad_lite as tl
from tinygrad_lite import viz

out = out_dir("01_scalar_backprop")
x1, x2 = tl.Value(2.0, label="x1"), tl.Value(0.0, label="x2")
w1, w2 = tl.Value(-3.0, label="w1"), tl.Value(1.0, label="w2")
b = tl.Value(6.8813735870195432, label="b")
n = x1 * w1 + x2 * w2 + b
n.label = "n"
o = n.tanh()
o.label = "o"

for step in o.backward_steps():  # each line is one application of the chain rule (on the side)
    print(step)
o.backward()  # looking changed no .grad; backward() writes them
print(f"\n∂o/∂w1 = {w1.grad:.4f} (= x1·(1−o²)), ∂o/∂x2 = {x2.grad:.4f} (= w2·(1−o²))")
assert abs(w1.grad - x1.data * (1 - o.data**2)) < 1e-12
print("wrote", viz.render(o, out / "neuron.svg"))
