"""Claim 6: from a confidently wrong start, cross-entropy recovers and MSE stalls."""

import numpy as np
import pytest

from tinygrad_lite import data
from tinygrad_lite.train import TrainingError, build_model, saturate, train


@pytest.mark.parametrize("dataset", ["moons", "spirals"])
def test_saturated_start_ce_recovers_mse_stalls(dataset):
    X, y = data.DATASETS[dataset](seed=0)
    model = build_model(int(y.max()) + 1, 16, 0)
    median = saturate(model, X, y)
    assert median < 0.01  # most samples' ŷ_p < 0.01
    start = model.state_dict()
    hist = {}
    for loss in ("ce", "mse"):
        m = build_model(int(y.max()) + 1, 16, 0).load_state_dict(start)
        hist[loss] = train(loss, dataset, epochs=20, model=m, X=X, y=y)[1]
    assert hist["ce"].accuracy[-1] >= hist["mse"].accuracy[-1] + 0.10
    # The vanishing gradient as a number: MSE's mean ∂L/∂z_p in epoch 1 is far smaller.
    assert abs(hist["mse"].grad_zp[0]) < 0.5 * abs(hist["ce"].grad_zp[0])


def test_training_errors():
    with pytest.raises(ValueError, match="unknown dataset 'mnist'; choose one of moons, spirals, blobs"):
        train(dataset="mnist")
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        train(epochs=0)
    with pytest.raises(TrainingError, match="epoch 1; try a lower learning rate"), np.errstate(all="ignore"):
        train("ce", "moons", lr=1e308, epochs=2)


def test_default_start_learns():
    _, h = train("ce", "blobs", epochs=5)
    assert h.accuracy[-1] > 0.9 and np.all(np.isfinite(h.loss))
