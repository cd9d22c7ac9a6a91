"""The random-logit test and max-sensitivity (issue 23): each against a loop over
explain_prediction with the documented draws, their behaviour on the trained shapes model,
and the named errors."""

from __future__ import annotations

import numpy as np
import pytest

import explainimg as ei
from explainimg import metrics
from explainimg.demo.shapes import make_shapes
from tests import builders

pytestmark = pytest.mark.core


def _rank_correlation(a, b):
    """Spearman's rho: Pearson of the ranks, tied values sharing their mean rank."""

    def ranks(values):
        values = values.ravel()
        below = (values[:, None] > values[None, :]).sum(axis=1)
        equal = (values[:, None] == values[None, :]).sum(axis=1)
        return below + (equal + 1) / 2

    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def test_random_logit_compares_the_maps_of_the_class_and_of_a_drawn_other():
    model = builders.tiny_softmax(5, filters=6)
    x = np.random.default_rng(0).uniform(0, 1, (8, 8, 3)).astype(np.float32)
    result = metrics.random_logit(model, x, target=1, seed=4)
    other = int(np.random.default_rng(4).choice([0, 2]))
    first = ei.explain_prediction(model, x, targets=[1]).targets[0].heatmap
    second = ei.explain_prediction(model, x, targets=[other]).targets[0].heatmap
    assert (result.target, result.other) == (1, other)
    np.testing.assert_allclose(result.original, first, atol=1e-6)
    np.testing.assert_allclose(result.other_map, second, atol=1e-6)
    assert result.spearman == pytest.approx(_rank_correlation(first, second), abs=1e-9)
    top = int(np.argmax(model.predict(x[None], verbose=0)))
    assert metrics.random_logit(model, x).target == top


def test_a_class_agnostic_map_fails_the_random_logit_test_and_gradcam_passes(shapes_model):
    images = make_shapes(8, seed=912).images
    agnostic = [metrics.random_logit(shapes_model, x, method="eigencam").spearman for x in images]
    gradcam = [metrics.random_logit(shapes_model, x).spearman for x in images]
    print(
        f"random logit Spearman: Eigen-CAM {np.mean(agnostic):.3f}, Grad-CAM {np.mean(gradcam):.3f}"
    )
    assert np.allclose(agnostic, 1.0)  # Eigen-CAM draws the same map for every class
    assert np.mean(gradcam) < 0.5


def test_max_sensitivity_is_the_largest_relative_change_over_noisy_copies():
    model = builders.tiny_softmax(5, filters=6)
    x = np.random.default_rng(1).uniform(0, 1, (8, 8, 3)).astype(np.float32)
    clean = ei.explain_prediction(model, x, method="saliency").targets[0]
    noise = np.random.default_rng(2).uniform(-0.05, 0.05, (5, 8, 8, 3))
    changes = [
        np.linalg.norm(
            ei.explain_prediction(
                model, (x + d).astype(np.float32), targets=[clean.target], method="saliency"
            )
            .targets[0]
            .heatmap
            - clean.heatmap
        )
        / np.linalg.norm(clean.heatmap)
        for d in noise
    ]
    got = metrics.max_sensitivity(
        model, x, method="saliency", radius=0.05, samples=5, batch_size=2, seed=2
    )
    assert got == pytest.approx(max(changes), rel=1e-4)


def test_gradcam_barely_moves_under_faint_noise_and_moves_more_under_strong(shapes_model):
    x = make_shapes(1, seed=913).images[0]
    faint = metrics.max_sensitivity(shapes_model, x, radius=0.5, samples=8)
    strong = metrics.max_sensitivity(shapes_model, x, radius=60.0, samples=8)
    print(f"max-sensitivity of Grad-CAM: {faint:.4f} (noise 0.5 of 255), {strong:.4f} (60)")
    assert faint < 0.05
    assert strong > 2 * faint


def test_bad_arguments_are_named():
    model = builders.tiny_softmax(5)
    x = np.zeros((8, 8, 3), np.float32) + 0.5
    cases = [
        (
            lambda: metrics.max_sensitivity(model, x, radius=0.0),
            "radius: expected a positive number (the noise's largest value), got 0.0",
        ),
        (
            lambda: metrics.max_sensitivity(model, x, samples=0),
            "samples: expected a positive integer, got 0",
        ),
    ]
    for call, message in cases:
        with pytest.raises(ValueError) as error:
            call()
        assert str(error.value) == message


def test_max_sensitivity_refuses_a_detector_and_says_what_to_do():
    pytest.importorskip("keras_hub")
    from tests.detectors import random_image, tiny_retinanet

    with pytest.raises(ValueError) as error:
        metrics.max_sensitivity(tiny_retinanet(), random_image(), samples=2)
    assert str(error.value) == (
        "model: expected a model whose targets are classes, got a detector, whose detections "
        "change with the noise. Explain a drawn box on each copy: targets=[ei.targets.Box(...)]."
    )
