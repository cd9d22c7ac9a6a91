"""D-RISE and the other perturbing methods on a KerasHub RetinaNet: the detections decoded
inside the compiled call against ``predict``, D-RISE's similarity against NumPy, D-RISE's and
occlusion's maps against a reference built from ``predict`` on each masked image, and the
named refusals. The RetinaNet is tiny with random weights (tests/detectors.py)."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

import explainimg as ei
from explainimg.engine.detection_view import detection_count, detections_of
from explainimg.methods import DRISE, Occlusion, ScoreCAM
from explainimg.methods.occlusion import patch_masks
from explainimg.methods.rise import rise_factors
from explainimg.targets import Box, DetectionScore, DetectionSimilarity

pytest.importorskip("keras_hub")
pytestmark = pytest.mark.core

from detectors import (  # noqa: E402
    NUM_CLASSES,
    SIZE,
    numpy_similarity,
    predicted_rows,
    random_image,
    tiny_retinanet,
)


@pytest.fixture(scope="module")
def detector():
    return tiny_retinanet()


@pytest.fixture(scope="module")
def image():
    return random_image()


def _normalised(values):
    values = np.maximum(values, 0)
    return values / values.max()


def test_in_graph_detections_are_those_of_predict_with_their_probabilities(detector, image):
    batch = image[None]
    rows = ops.convert_to_numpy(detections_of(detector)(detector(batch), batch))[0]
    expected = predicted_rows(detector, image)
    assert detection_count(rows[None]) == [len(expected)] and len(expected) > 1
    np.testing.assert_allclose(rows[: len(expected)], expected, atol=1e-4)
    assert not rows[len(expected) :].any()


def test_similarity_equals_numpy():
    rows = np.random.default_rng(3).uniform(0, 1, (2, 4, 4 + NUM_CLASSES)).astype("float32")
    rows[..., 2:4] += rows[..., 0:2]  # x1 > x0, y1 > y0
    rows[1, 2:] = 0.0  # image 1 has two detections
    box, probabilities = (0.2, 0.1, 1.1, 0.9), (0.7, 0.2, 0.1)
    got = ops.convert_to_numpy(DetectionSimilarity(0, box, probabilities)(rows))
    expected = [numpy_similarity(rows[i, :n], box, probabilities) for i, n in ((0, 4), (1, 2))]
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_batched_similarity_gives_each_row_its_own_detection():
    """The form one compiled call uses for every image: row b compared with target b."""
    rows = np.random.default_rng(4).uniform(0, 1, (2, 4, 4 + NUM_CLASSES)).astype("float32")
    rows[..., 2:4] += rows[..., 0:2]
    targets = [
        DetectionSimilarity(0, (0.2, 0.1, 1.1, 0.9), (0.7, 0.2, 0.1)),
        DetectionSimilarity(2, (0.5, 0.5, 1.5, 1.2), (0.1, 0.1, 0.8)),
    ]
    numbers = [target.parameters() for target in targets]
    stacked = {name: np.stack([n[name] for n in numbers]) for name in numbers[0]}
    got = ops.convert_to_numpy(DetectionSimilarity.batched(rows, stacked))
    expected = [numpy_similarity(rows[b], t.box, t.probabilities) for b, t in enumerate(targets)]
    np.testing.assert_allclose(got, expected, rtol=1e-5)


@pytest.mark.parametrize("method", [DRISE(masks=4), ScoreCAM(max_channels=4)], ids=repr)
def test_each_detection_is_most_similar_to_itself(detector, image, method):
    targets = ei.similarity_targets(detector, image)
    expl = ei.explain_prediction(detector, image, method=method)
    assert [t.target for t in expl.targets] == [t.class_id for t in targets]
    assert [t.score for t in expl.targets] == pytest.approx([1.0] * len(targets), abs=1e-5)
    assert [t.proba for t in expl.targets] == pytest.approx([t.confidence for t in targets])
    assert [t.box for t in expl.targets] == [pytest.approx(t.box) for t in targets]


def test_drise_map_equals_a_reference_from_predict_on_each_masked_image(detector, image):
    method = DRISE(masks=12, cell_size=16, seed=5)
    expl = ei.explain_prediction(detector, image, method=method, top=2)
    rows, grids, columns = rise_factors(5, 12, 16, 0.5, (SIZE, SIZE))
    masks = rows @ grids @ columns
    found = ei.similarity_targets(detector, image, max_detections=2)
    scores = np.array(
        [
            [
                numpy_similarity(
                    predicted_rows(detector, image * mask[..., None]), t.box, t.probabilities
                )
                for t in found
            ]
            for mask in masks
        ]
    )
    for k, target in enumerate(expl.targets):
        expected = np.tensordot(scores[:, k], masks, axes=1) / masks.sum(axis=0)
        assert target.heatmap.shape == (SIZE, SIZE)
        np.testing.assert_allclose(target.heatmap, _normalised(expected), atol=1e-4)


def test_occlusion_on_a_detector_is_the_similarity_drop(detector, image):
    method = Occlusion(patch_size=32, stride=32, baseline=0.0)
    box = Box(8, 8, 40, 40, class_id=1)
    (target,) = ei.explain_prediction(detector, image, method=method, targets=[box]).targets
    one_hot = np.eye(NUM_CLASSES)[1]
    corners = (8, 8, 40, 40)
    clean = numpy_similarity(predicted_rows(detector, image), corners, one_hot)
    masks = patch_masks((SIZE, SIZE), 32, 32)
    drops = [
        clean
        - numpy_similarity(predicted_rows(detector, image * (1 - m[..., None])), corners, one_hot)
        for m in masks
    ]
    expected = np.tensordot(drops, masks, axes=1) / masks.sum(axis=0)
    assert target.box == (8, 8, 40, 40) and target.score == pytest.approx(clean, abs=1e-5)
    np.testing.assert_allclose(target.heatmap, _normalised(expected), atol=1e-4)


def test_drise_is_seeded_and_keeps_the_detector_and_image(detector, image):
    before = [w.copy() for w in detector.get_weights()]
    copy = image.copy()
    first, again, other = (
        ei.explain_prediction(detector, image, method=DRISE(masks=8, seed=s), top=1)
        for s in (1, 1, 2)
    )
    assert np.array_equal(first.targets[0].heatmap, again.targets[0].heatmap)
    assert not np.allclose(first.targets[0].heatmap, other.targets[0].heatmap)
    assert np.isfinite(first.targets[0].heatmap).all()
    assert np.array_equal(image, copy)
    assert all(np.array_equal(a, b) for a, b in zip(before, detector.get_weights(), strict=True))


def test_a_batch_gives_each_image_its_own_detections_in_one_trace(detector):
    images = np.stack([random_image(1), random_image(2), random_image(3)])
    explainer = ei.Explainer(detector, method=DRISE(masks=4))
    alone = [explainer.explain(images[0], top=1)]
    traces = explainer.trace_count  # plans are cached per detector: other tests' count too
    alone += [explainer.explain(picture, top=1) for picture in images[1:]]
    assert explainer.trace_count == traces  # each image's detection enters as numbers
    expls = explainer.explain_batch(images, top=1)
    for picture, expl, single in zip(images, expls, alone, strict=True):
        (first,) = ei.similarity_targets(detector, picture, max_detections=1)
        assert (expl.targets[0].target, expl.targets[0].box) == (first.class_id, first.box)
        np.testing.assert_allclose(expl.targets[0].heatmap, single.targets[0].heatmap, atol=1e-5)
    assert len({expl.targets[0].box for expl in expls}) > 1


def test_drise_on_a_classifier_says_what_to_use():
    import keras

    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    with pytest.raises(ValueError) as error:
        ei.explain_prediction(model, np.zeros((8, 8, 3), "float32"), method="drise")
    assert str(error.value) == (
        "method: expected a method for this model; 'drise' explains models of kind "
        "'detector' or 'decoded', got a model of kind 'graph'. For a classifier, use "
        "method='rise'."
    )


def test_logit_scores_are_refused_by_a_perturbing_method(detector, image):
    (score,) = ei.detection_targets(detector, image, max_detections=1)
    assert isinstance(score, DetectionScore)
    with pytest.raises(TypeError) as error:
        ei.explain_prediction(detector, image, method=DRISE(masks=2), targets=[score])
    assert str(error.value).startswith(
        "targets: expected ei.targets.Box or DetectionSimilarity for method 'drise', which "
        "scores the detections of perturbed images, got DetectionScore"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"masks": 0}, "masks: expected an integer >= 1, got 0"),
        ({"cell_size": 2.5}, "cell_size: expected an integer >= 1, got float"),
        (
            {"probability": 1.0},
            "probability: expected a number between 0 and 1 (exclusive), got 1.0",
        ),
    ],
)
def test_drise_settings_are_checked(options, message):
    with pytest.raises((TypeError, ValueError)) as error:
        DRISE(**options)
    assert str(error.value) == message
