"""The sanity baselines behind method= (issue 23): "random", "sobel" and "center" equal their
NumPy definitions, know nothing of the model, and behave like any method (several targets,
batches, the metrics)."""

from __future__ import annotations

import numpy as np
import pytest

import explainimg as ei
from explainimg import metrics
from tests import builders

pytestmark = pytest.mark.core


def _scaled(values):
    return values / values.max()


def test_random_is_the_seeded_uniform_map_of_each_target_position():
    model = builders.tiny_softmax(7)
    x = np.random.default_rng(0).uniform(0, 1, (8, 8, 3)).astype(np.float32)
    expl = ei.explain_prediction(model, x, method=ei.methods.RandomBaseline(seed=5), top=2)
    for k, target in enumerate(expl.targets):
        expected = _scaled(np.random.default_rng(5 + k).random((8, 8)))
        np.testing.assert_allclose(target.heatmap, expected, atol=1e-6)


def _numpy_sobel(image):
    """|(Gx, Gy)| of the grey image mirrored at its border, Sobel's 3 x 3 differences."""
    p = np.pad(image.mean(axis=-1), 1, mode="reflect")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    return np.hypot(gx, gy)


def test_sobel_is_the_edge_magnitude_of_the_grey_image_whatever_the_model():
    x = np.random.default_rng(1).uniform(0, 1, (8, 8, 3)).astype(np.float32)
    maps = [
        ei.explain_prediction(builders.tiny_softmax(seed), x, method="sobel").targets[0].heatmap
        for seed in (7, 8)
    ]
    np.testing.assert_allclose(maps[0], _scaled(_numpy_sobel(x)), atol=1e-5)
    np.testing.assert_array_equal(maps[0], maps[1])


def test_center_is_a_gaussian_on_the_image_centre():
    model = builders.tiny_softmax(7, size=9)
    x = np.zeros((9, 9, 3), np.float32)
    heatmap = ei.explain_prediction(model, x, method=ei.methods.CenterBaseline(sigma=0.5))
    rows, cols = np.mgrid[0:9, 0:9]
    expected = np.exp(-((rows - 4) ** 2 + (cols - 4) ** 2) / (2 * 4.5**2))
    np.testing.assert_allclose(heatmap.targets[0].heatmap, expected, atol=1e-6)


def test_a_baseline_is_measured_like_any_method(shapes_model):
    x = np.random.default_rng(2).uniform(0, 255, (64, 64, 3)).astype(np.float32)
    for key in ("random", "sobel", "center"):
        expl = ei.explain_prediction(shapes_model, x, method=key)
        assert expl.method == ei.methods.METHODS[key].title
        assert 0.0 <= metrics.deletion(shapes_model, x, expl).auc <= 1.0


def test_bad_options_are_named():
    with pytest.raises(ValueError) as error:
        ei.methods.CenterBaseline(sigma=0)
    assert str(error.value) == "sigma: expected a number >= 0.001, got 0"
    with pytest.raises(ValueError) as error:
        ei.methods.RandomBaseline(seed=-1)
    assert str(error.value) == "seed: expected an integer >= 0, got -1"
