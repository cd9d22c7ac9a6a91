"""Average drop and increase in confidence, sparseness and complexity (issue 23): each
against an independent NumPy computation of its paper's formula, the drop on the trained
shapes model against a random map, and the named errors."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from PIL import Image

import explainimg as ei
from explainimg import metrics
from explainimg.demo.shapes import make_shapes
from tests import builders

pytestmark = pytest.mark.core


def _with_heatmap(expl: ei.Explanation, heatmap: np.ndarray) -> ei.Explanation:
    return attrs.evolve(expl, targets=[attrs.evolve(expl.targets[0], heatmap=heatmap)])


def _paper_drop_and_increase(full: np.ndarray, masked: np.ndarray) -> tuple[float, float]:
    """Chattopadhay et al. 2018, eq. for Average Drop and Increase in Confidence (as shares)."""
    drops = [max(0.0, y - o) / y if y > 0 else 0.0 for y, o in zip(full, masked, strict=True)]
    increases = [float(o > y) for y, o in zip(full, masked, strict=True)]
    return sum(drops) / len(drops), sum(increases) / len(increases)


def test_confidence_change_equals_predict_on_the_image_times_its_map():
    model = builders.tiny_softmax(3)
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (5, 8, 8, 3)).astype(np.float32)
    expls = []
    for image in images:
        expl = ei.explain_prediction(model, image, targets=[int(rng.integers(3))])
        expls.append(_with_heatmap(expl, rng.uniform(0, 1, (8, 8)).astype(np.float32)))
    classes = [e.targets[0].target for e in expls]
    maps = np.stack([e.targets[0].heatmap for e in expls])[..., None]
    full = model.predict(images, verbose=0)[np.arange(5), classes]
    masked = model.predict(images * maps, verbose=0)[np.arange(5), classes]
    change = metrics.confidence_change(model, images, expls, batch_size=2)
    np.testing.assert_allclose(change.full, full, atol=1e-6)
    np.testing.assert_allclose(change.masked, masked, atol=1e-6)
    drop, increase = _paper_drop_and_increase(full, masked)
    assert metrics.average_drop(model, images, expls) == pytest.approx(drop, abs=1e-6)
    assert metrics.average_increase(model, images, expls) == pytest.approx(increase, abs=1e-9)
    assert metrics.average_drop(model, images[0], expls[0]) == pytest.approx(
        _paper_drop_and_increase(full[:1], masked[:1])[0], abs=1e-6
    )


def test_a_coarse_map_is_upsampled_bilinearly_before_it_multiplies_the_image():
    model = builders.tiny_softmax(3)
    image = np.random.default_rng(1).uniform(0, 1, (8, 8, 3)).astype(np.float32)
    coarse = np.array([[0.0, 1.0], [0.5, 0.25]], dtype=np.float32)
    expl = _with_heatmap(ei.explain_prediction(model, image), coarse)
    weights = np.asarray(Image.fromarray(coarse).resize((8, 8), Image.BILINEAR))
    class_id = expl.targets[0].target
    expected = model.predict((image * weights[..., None])[None], verbose=0)[0, class_id]
    change = metrics.confidence_change(model, image, expl)
    assert change.masked[0] == pytest.approx(float(expected), abs=1e-6)


def test_a_model_that_ignores_the_image_drops_nothing_and_never_gives_nan():
    flat = builders.ignoring_the_image()
    image = np.ones((8, 8, 3), np.float32)
    heatmap = np.full((8, 8), 0.5, np.float32)
    expl = ei.Explanation(
        "flat", "Grad-CAM", "", [ei.TargetExplanation(0, None, 0.0, 0.5, heatmap)]
    )
    change = metrics.confidence_change(flat, image, expl)
    assert change.full[0] == pytest.approx(0.5) and change.masked[0] == pytest.approx(0.5)
    assert metrics.average_drop(flat, image, expl) == 0.0
    assert metrics.average_increase(flat, image, expl) == 0.0
    unsure = metrics.ConfidenceChange(full=np.array([0.0, 0.4]), masked=np.array([0.0, 0.1]))
    assert unsure.drops.tolist() == [0.0, pytest.approx(0.75)]


def test_gradcam_keeps_more_confidence_than_a_random_map_on_the_shapes_model(shapes_model):
    data = make_shapes(50, seed=909)
    rng = np.random.default_rng(5)
    expls = [
        ei.explain_prediction(shapes_model, image, targets=[int(label)])
        for image, label in zip(data.images, data.labels, strict=True)
    ]
    randoms = [_with_heatmap(e, rng.random((16, 16)).astype(np.float32)) for e in expls]
    gradcam = metrics.confidence_change(shapes_model, data.images, expls)
    random = metrics.confidence_change(shapes_model, data.images, randoms)
    np.testing.assert_allclose(gradcam.full, random.full)
    wins = float(np.mean(gradcam.drops <= random.drops))  # both 0: no loss either way
    print(
        f"Grad-CAM drops less than a random map on {wins:.2f} of the images; average drop "
        f"{gradcam.average_drop:.3f} against {random.average_drop:.3f}"
    )
    assert wins >= 0.8  # measured 0.86 (see docs/metrics.md on what the drop rewards)
    assert gradcam.average_drop < random.average_drop


def test_sparseness_is_the_gini_index_and_complexity_the_entropy():
    rng = np.random.default_rng(2)
    for heatmap in (rng.random((7, 7)), rng.random((3, 5)) ** 4, np.eye(4)):
        values = heatmap.ravel()
        # Gini as the mean absolute difference over twice the mean (Chalasani et al. 2020).
        gini = np.abs(values[:, None] - values[None, :]).sum() / (
            2 * values.size**2 * values.mean()
        )
        shares = values[values > 0] / values.sum()
        entropy = -np.sum(shares * np.log(shares))
        assert metrics.sparseness(heatmap) == pytest.approx(gini, abs=1e-12)
        assert metrics.complexity(heatmap) == pytest.approx(entropy, abs=1e-12)
    one_hot = np.zeros((4, 4))
    one_hot[2, 1] = 3.0
    assert metrics.sparseness(one_hot) == pytest.approx(15 / 16)
    assert metrics.complexity(one_hot) == 0.0
    assert metrics.sparseness(np.full((4, 4), 0.3)) == pytest.approx(0.0, abs=1e-12)
    assert metrics.complexity(np.full((4, 4), 0.3)) == pytest.approx(np.log(16))
    signed = np.array([[1.0, -1.0], [0.0, 0.0]])
    assert metrics.complexity(signed) == pytest.approx(np.log(2))  # both signs count


def test_a_peaked_gradcam_map_is_sparser_than_a_random_one(shapes_model):
    data = make_shapes(10, seed=910)
    rng = np.random.default_rng(6)
    for image in data.images:
        expl = ei.explain_prediction(shapes_model, image)
        random = _with_heatmap(expl, rng.random((16, 16)).astype(np.float32))
        assert metrics.sparseness(expl) > metrics.sparseness(random)
        assert metrics.complexity(expl) < metrics.complexity(random)


def test_bad_arguments_are_named():
    model = builders.tiny_softmax(3)
    images = np.zeros((2, 8, 8, 3), np.float32)
    expl = ei.explain_prediction(model, images[0])
    cases = [
        (
            lambda: metrics.average_drop(model, images, [expl]),
            "expls: expected one Explanation per image of xs (2), got 1",
        ),
        (
            lambda: metrics.average_drop(model, images, [expl, "map"]),
            "expls[1]: expected an Explanation, got str",
        ),
        (
            lambda: metrics.average_increase(model, images, []),
            "expls: expected an Explanation or a non-empty list of them, got []",
        ),
        (
            lambda: metrics.average_drop(model, images[0], expl, batch_size=0),
            "batch_size: expected a positive integer, got 0",
        ),
        (
            lambda: metrics.sparseness(np.zeros((3, 3))),
            "heatmap: expected a map with some heat, got a map that is zero everywhere",
        ),
        (
            lambda: metrics.complexity(np.ones(4)),
            "heatmap: expected a non-empty 2-D array of finite values, got ndarray of shape (4,)",
        ),
        (
            lambda: metrics.sparseness(_with_heatmap(expl, np.zeros((8, 8), np.float32))),
            "expl: expected a map with some heat, got a map that is zero everywhere",
        ),
    ]
    for call, message in cases:
        with pytest.raises(ValueError) as error:
            call()
        assert str(error.value) == message
