"""Faithfulness metrics: deletion/insertion, pointing game, energy, randomisation (issue 7)."""

from __future__ import annotations

import attrs
import keras
import numpy as np
import pytest
from PIL import Image

import explainimg as ei
from explainimg import metrics
from explainimg.demo.shapes import make_shapes
from tests import builders
from tests.reference import trained_under_tensorflow

pytestmark = pytest.mark.core


def test_auc_equals_a_hand_computation():
    fractions = np.array([0.0, 0.25, 0.5, 1.0])
    values = np.array([0.8, 0.4, 0.2, 0.0])
    # trapezoids: 0.25*(0.8+0.4)/2 + 0.25*(0.4+0.2)/2 + 0.5*(0.2+0)/2 = 0.15 + 0.075 + 0.05
    assert metrics.auc(fractions, values) == pytest.approx(0.275)


def test_deletion_curve_on_a_tiny_model_equals_the_hand_computation():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((2, 2, 1))
    conv = keras.layers.Conv2D(1, 1, name="conv", use_bias=False)(inputs)
    outputs = keras.layers.Dense(2, activation="softmax", name="probs")(
        keras.layers.Flatten()(conv)
    )
    model = keras.Model(inputs, outputs)
    model.get_layer("conv").set_weights([np.ones((1, 1, 1, 1))])
    kernel = np.array([[1.0, -1.0], [2.0, 0.0], [0.5, 0.5], [-1.0, 1.0]])
    model.get_layer("probs").set_weights([kernel, np.zeros(2)])
    x = np.array([[[1.0], [2.0]], [[3.0], [4.0]]], dtype=np.float32)
    heatmap = np.array([[0.1, 1.0], [0.5, 0.0]], dtype=np.float32)  # order: (0,1), (1,0), ...
    target = ei.TargetExplanation(0, None, 0.0, None, heatmap)
    expl = ei.Explanation(estimator="t", method="hand", description="", targets=[target])
    curve = metrics.deletion(model, x, expl, steps=4, baseline=0.0)

    def probability_of_class_0(pixels):
        logits = pixels.reshape(-1) @ kernel
        return np.exp(logits[0]) / np.exp(logits).sum()

    # With a 2x2 heatmap on a 2x2 input, bilinear upsampling keeps the values: the ranking is
    # (0,1) -> (1,0) -> (0,0) -> (1,1).
    expected, pixels = [probability_of_class_0(x)], x.reshape(-1).copy()
    for flat in (1, 2, 0, 3):
        pixels[flat] = 0.0
        expected.append(probability_of_class_0(pixels))
    np.testing.assert_allclose(curve.fractions, [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(curve.values, expected, rtol=1e-5)
    assert curve.auc == pytest.approx(metrics.auc(curve.fractions, np.array(expected)), rel=1e-5)


CURVE_IMAGES = 40


@pytest.fixture(scope="module")
def curve_aucs(shapes_model):
    """Mean deletion and insertion AUC for Grad-CAM, a random map and a centre-biased map."""
    data = make_shapes(CURVE_IMAGES, seed=606)
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[0:16, 0:16]
    centre = np.exp(-((rows - 7.5) ** 2 + (cols - 7.5) ** 2) / 32.0).astype(np.float32)
    aucs = {name: {"deletion": [], "insertion": []} for name in ("gradcam", "random", "centre")}
    for image, label in zip(data.images, data.labels, strict=True):
        expl = ei.explain_prediction(shapes_model, image, targets=[int(label)])
        random_map = rng.random((16, 16)).astype(np.float32)
        for name, heatmap in (
            ("gradcam", expl.targets[0].heatmap),
            ("random", random_map),
            ("centre", centre),
        ):
            variant = attrs.evolve(expl, targets=[attrs.evolve(expl.targets[0], heatmap=heatmap)])
            aucs[name]["deletion"].append(metrics.deletion(shapes_model, image, variant).auc)
            aucs[name]["insertion"].append(metrics.insertion(shapes_model, image, variant).auc)
    return {
        name: {k: float(np.mean(v)) for k, v in curves.items()} for name, curves in aucs.items()
    }


def test_gradcam_deletion_auc_is_lower_than_random_and_centre_maps(curve_aucs):
    gradcam = curve_aucs["gradcam"]["deletion"]
    assert gradcam < curve_aucs["random"]["deletion"] - 0.04, curve_aucs
    assert gradcam < curve_aucs["centre"]["deletion"] - 0.1, curve_aucs


def test_gradcam_insertion_auc_is_higher_than_random_and_centre_maps(curve_aucs):
    gradcam = curve_aucs["gradcam"]["insertion"]
    assert gradcam > curve_aucs["random"]["insertion"] + 0.02, curve_aucs
    assert gradcam > curve_aucs["centre"]["insertion"] + 0.02, curve_aucs


def test_pointing_game_and_energy_on_known_boxes():
    heatmap = np.zeros((4, 4), dtype=np.float32)
    heatmap[1, 2] = 1.0  # cell (1, 2) is centred between pixel rows 11-12 and columns 19-20
    size = (32, 32)
    assert metrics.pointing_game(heatmap, box=(10, 18, 14, 22), image_size=size, tolerance=0)
    assert not metrics.pointing_game(heatmap, box=(0, 0, 5, 5), image_size=size, tolerance=0)
    far_box = (12, 30, 12, 31)  # about 11 px to the right of the peak
    assert metrics.pointing_game(heatmap, box=far_box, image_size=size, tolerance=15)
    assert not metrics.pointing_game(heatmap, box=far_box, image_size=size, tolerance=5)
    mask = np.zeros((32, 32), dtype=bool)
    mask[11:13, 19:21] = True
    assert metrics.pointing_game(heatmap, mask=mask, image_size=size, tolerance=0)
    assert metrics.energy_in_box(heatmap, box=(0, 0, 31, 31), image_size=size) == pytest.approx(1)
    # bilinear heat of cell (1, 2) fades to zero at the centres of its neighbours (col 11.5)
    left_of_it = (0, 0, 31, 11)
    assert metrics.energy_in_box(heatmap, box=left_of_it, image_size=size) == pytest.approx(
        0.0, abs=1e-6
    )
    assert metrics.energy_in_box(np.zeros((4, 4)), box=(0, 0, 3, 3), image_size=size) == 0.0
    assert not metrics.pointing_game(np.zeros((4, 4)), box=(0, 0, 31, 31), image_size=size)


def test_mean_heat_in_box_is_the_mean_of_the_upsampled_map_there():
    heatmap = np.array([[0.0, 1.0], [0.5, 0.25]], dtype=np.float32)
    size = (16, 16)
    # The reference: PIL's bilinear upsampling of the map, then a plain mean over the box.
    heat = np.asarray(Image.fromarray(heatmap).resize(size, Image.BILINEAR), dtype=np.float64)
    for box in [(0, 0, 15, 15), (0, 8, 7, 15), (3, 2, 12, 5)]:
        top, left, bottom, right = box
        expected = heat[top : bottom + 1, left : right + 1].mean()
        got = metrics.mean_heat_in_box(heatmap, box=box, image_size=size)
        assert got == pytest.approx(expected, abs=1e-6)
    mask = heat > 0.6
    assert metrics.mean_heat_in_box(heatmap, mask=mask, image_size=size) == pytest.approx(
        heat[mask].mean(), abs=1e-6
    )
    empty = np.zeros((16, 16), dtype=bool)
    assert metrics.mean_heat_in_box(heatmap, mask=empty, image_size=size) == 0.0


def test_pointing_game_on_the_trained_model(shapes_model):
    data = make_shapes(30, seed=4321)
    hits = [
        metrics.pointing_game(
            ei.explain_prediction(shapes_model, image, targets=[int(label)]), box=tuple(box)
        )
        for image, label, box in zip(data.images, data.labels, data.boxes, strict=True)
    ]
    assert np.mean(hits) >= 0.9


def test_localization_errors_name_the_argument():
    heatmap = np.ones((2, 2), dtype=np.float32)
    with pytest.raises(ValueError) as caught:
        metrics.energy_in_box(heatmap, box=(0, 0, 40, 3), image_size=(8, 8))
    assert str(caught.value) == (
        "box: expected (top, left, bottom, right) inside a 8x8 image, got (0, 0, 40, 3)"
    )
    with pytest.raises(ValueError) as caught:
        metrics.pointing_game(heatmap, image_size=(8, 8))
    assert str(caught.value) == "box: expected exactly one of box or mask, got both or neither"


def test_spearman_and_ranks_match_hand_values():
    assert metrics.spearman(np.array([1, 2, 3, 4]), np.array([10, 20, 30, 40])) == 1.0
    assert metrics.spearman(np.array([1, 2, 3, 4]), np.array([4, 3, 2, 1])) == -1.0
    # ties share ranks: [1, 2.5, 2.5, 4] vs [1, 2, 3, 4] -> r = 4.5 / sqrt(4.5 * 5)
    assert metrics.spearman(np.array([1, 2, 2, 3]), np.array([1, 2, 3, 4])) == pytest.approx(
        4.5 / np.sqrt(4.5 * 5.0)
    )


@trained_under_tensorflow
def test_randomization_check_gives_low_correlation_and_leaves_the_model_alone(shapes_model):
    data = make_shapes(8, seed=99)
    weights = builders.weights_of(shapes_model)
    prediction = shapes_model.predict(data.images, verbose=0)
    results = [metrics.randomization_check(shapes_model, image) for image in data.images]
    correlation = float(np.mean([result.spearman for result in results]))
    assert correlation < 0.3, correlation
    assert results[0].randomized_layers == ("conv1", "conv2", "conv3", "shape")
    assert results[0].randomized.targets[0].target == results[0].original.targets[0].target
    for old, new in zip(weights, builders.weights_of(shapes_model), strict=True):
        assert old.tobytes() == new.tobytes()
    np.testing.assert_array_equal(shapes_model.predict(data.images, verbose=0), prediction)


def test_randomized_copy_keeps_the_lower_layers():
    model = builders.nested_sequential()
    copy = metrics.randomized_copy(model, layers=1)
    assert copy is not model
    np.testing.assert_array_equal(
        copy.get_layer("features").get_layer("c1").get_weights()[0],
        model.get_layer("features").get_layer("c1").get_weights()[0],
    )
    assert not np.array_equal(
        copy.get_layer("probs").get_weights()[0], model.get_layer("probs").get_weights()[0]
    )
