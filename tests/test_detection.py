"""Detections of a KerasHub RetinaNet explained through their anchors' class logits: the
score against an independent NumPy computation from the raw outputs and anchors, Grad-CAM
against a GradientTape reference, the named errors of drawn boxes, and the user's model left
as it was. The RetinaNet is tiny with random weights (tests/detectors.py)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

import explainimg as ei
from explainimg.engine.detections import detection_layer, detection_targets, iou_with
from explainimg.engine.kinds import dissect
from explainimg.targets import Box, DetectionScore

pytest.importorskip("keras_hub")

from detectors import NUM_CLASSES, SIZE, numpy_anchor_boxes, tiny_retinanet

pytestmark = pytest.mark.core


@pytest.fixture(scope="module")
def detector():
    return tiny_retinanet()


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).uniform(0, 1, (SIZE, SIZE, 3)).astype("float32")


def _numpy_score(boxes, logits, box, class_id, *, same_class=True):
    x0, y0, x1, y1 = box
    inter = np.clip(np.minimum(boxes[:, 2], x1) - np.maximum(boxes[:, 0], x0), 0, None) * np.clip(
        np.minimum(boxes[:, 3], y1) - np.maximum(boxes[:, 1], y0), 0, None
    )
    union = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) + (x1 - x0) * (y1 - y0)
    matched = inter / (union - inter) >= 0.5
    if same_class:
        matched &= logits.argmax(axis=1) == class_id
    return float(logits[matched, class_id].sum()), int(matched.sum())


def test_detections_are_those_of_predict(detector, image):
    predicted = detector.predict(image[None], verbose=0)
    targets = detection_targets(detector, image)
    count = int(predicted["num_detections"][0])
    assert 0 < len(targets) == min(count, 10)
    for k, target in enumerate(targets):
        (y0, x0, y1, x1), label = predicted["boxes"][0, k], predicted["labels"][0, k]
        confidence = predicted["confidence"][0, k]
        assert target.box == pytest.approx((x0, y0, x1, y1), abs=1e-4)
        assert (target.class_id, target.confidence) == (label, pytest.approx(confidence))


def test_detection_score_equals_numpy_from_raw_outputs_and_anchors(detector, image):
    boxes, logits = numpy_anchor_boxes(detector, image)
    targets = detection_targets(detector, image)
    expl = ei.explain_prediction(
        detector, image, output="cls_logits", targets=targets, layer=detection_layer(detector)
    )
    for target, explained in zip(targets, expl.targets, strict=True):
        expected, matched = _numpy_score(boxes, logits, target.box, target.class_id)
        assert matched == len(target.anchors) > 0
        assert abs(explained.score - expected) <= 1e-4 * max(1.0, abs(expected))
        assert (explained.target, explained.box) == (target.class_id, pytest.approx(target.box))


def test_box_score_matches_anchors_by_iou_only(detector, image):
    boxes, logits = numpy_anchor_boxes(detector, image)
    (target,) = detection_targets(detector, image, boxes=[Box(10, 12, 40, 44, class_id=2)])
    expected, matched = _numpy_score(boxes, logits, (10, 12, 40, 44), 2, same_class=False)
    got = float(ops.convert_to_numpy(target(ops.convert_to_tensor(logits[None])))[0])
    assert (len(target.anchors), target.confidence) == (matched, None)
    assert abs(got - expected) <= 1e-4 * max(1.0, abs(expected))


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="GradientTape reference")
def test_gradcam_of_a_detection_equals_a_gradient_tape_reference(detector, image):
    import tensorflow as tf

    target = detection_targets(detector, image)[0]
    expl = ei.explain_prediction(
        detector, image, output="cls_logits", targets=[target], layer=detection_layer(detector)
    )
    backbone = detector.backbone
    features = backbone.get_layer("backbone")([image[None]], training=False)
    level = f"P{backbone.max_level}"
    with tf.GradientTape() as tape:
        tape.watch(features[level])
        pyramid = backbone.get_layer("fpn")(features, training=False)
        logits = tf.concat(
            [
                tf.reshape(detector.classification_head(pyramid[name]), (1, -1, NUM_CLASSES))
                for name in pyramid
            ],
            axis=1,
        )
        score = tf.reduce_sum(tf.gather(logits[0, :, target.class_id], list(target.anchors)))
    gradients = tape.gradient(score, features[level])[0].numpy()
    activations = features[level][0].numpy()
    cam = np.maximum((activations * gradients.mean(axis=(0, 1))).sum(axis=-1), 0)
    cam = cam / cam.max()
    assert abs(expl.targets[0].score - float(score)) <= 1e-4 * max(1.0, abs(float(score)))
    np.testing.assert_allclose(expl.targets[0].heatmap, cam, atol=1e-4)


def test_the_detector_kind_explains_cls_logits_on_the_detection_layer(detector, image):
    targets = detection_targets(detector, image)[:2]
    chosen = ei.explain_prediction(
        detector, image, output="cls_logits", targets=targets, layer=detection_layer(detector)
    )
    automatic = ei.explain_prediction(detector, image, targets=targets)
    assert dissect(detector, layer=None).kind == "detector"
    assert automatic.layer == chosen.layer == detection_layer(detector)
    assert automatic.targets == chosen.targets
    with pytest.raises(ValueError, match=r"^layer: expected the name of a layer"):
        ei.explain_prediction(detector, image, targets=targets, layer="no_such_layer")


def test_eigencam_explains_a_detection_on_the_detection_layer(detector, image):
    targets = detection_targets(detector, image)[:2]
    expl = ei.explain_prediction(detector, image, targets=targets, method="eigencam")
    assert expl.layer == detection_layer(detector)
    assert [t.heatmap.shape for t in expl.targets] == [(4, 4), (4, 4)]
    assert expl.targets[0].heatmap.max() == pytest.approx(1.0)


def test_box_errors_are_named(detector, image):
    with pytest.raises(ValueError) as outside:
        detection_targets(detector, image, boxes=[Box(10, 10, 70, 40, class_id=1)])
    assert str(outside.value) == (
        "boxes: expected a Box inside the 64x64 image (0 <= x0 < x1 <= 64, 0 <= y0 < y1 <= 64),"
        " got Box(10.0, 10.0, 70.0, 40.0)"
    )
    with pytest.raises(ValueError) as unknown:
        detection_targets(detector, image, boxes=Box(10, 10, 40, 40, class_id=3))
    assert str(unknown.value) == (
        "boxes: expected a class id the detector can output (0 to 2), got class_id 3"
    )
    with pytest.raises(TypeError) as coordinate:
        Box("10", 10, 40, 40, class_id=0)
    assert str(coordinate.value) == "x0: expected a pixel coordinate (a finite number), got str"
    with pytest.raises(TypeError) as not_a_detector:
        detection_targets(keras.Sequential([keras.Input((4, 4, 3))]), image)
    assert str(not_a_detector.value) == (
        "detector: expected a KerasHub RetinaNetObjectDetector or DFineObjectDetector, "
        "got Sequential"
    )
    with pytest.raises(ValueError) as iou:
        detection_targets(detector, image, iou=0)
    assert str(iou.value) == "iou: expected a number in (0, 1], got 0"


def test_batched_detection_scores_give_each_row_its_own_anchors_and_class():
    """The form one compiled call uses for every image: row b scored by detection b."""
    logits = np.random.default_rng(2).normal(size=(2, 6, 3)).astype("float32")
    targets = [
        DetectionScore(1, (0, 4), (0.0, 0.0, 4.0, 4.0)),
        DetectionScore(2, (3,), (1.0, 1.0, 5.0, 5.0)),
    ]
    numbers = [target.parameters(logits.shape) for target in targets]
    stacked = {name: np.stack([n[name] for n in numbers]) for name in numbers[0]}
    got = ops.convert_to_numpy(DetectionScore.batched(logits, stacked))
    expected = [logits[b, list(t.anchors), t.class_id].sum() for b, t in enumerate(targets)]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    with pytest.raises(ValueError) as error:
        DetectionScore(0, (6,), (0.0, 0.0, 4.0, 4.0)).parameters(logits.shape)
    assert str(error.value) == (
        "anchors: expected anchor indices below the output's 6 anchors, got (6,)"
    )


def test_detection_score_needs_the_class_logits_output():
    score = DetectionScore(0, (1,), (0.0, 0.0, 4.0, 4.0), None)
    with pytest.raises(ValueError) as error:
        score(ops.zeros((1, 4)))
    assert str(error.value) == (
        "targets: expected a detector's class logits (batch, anchors, classes) for "
        'DetectionScore, got output shape (1, 4). Pass output="cls_logits" (a RetinaNet) or '
        '"logits" (a D-FINE).'
    )


def test_no_detection_gives_no_targets(image):
    assert detection_targets(tiny_retinanet(threshold=0.999), image) == []


def test_iou_with_a_box():
    boxes = np.array([[0, 0, 10, 10], [10, 10, 20, 20], [0, 0, 0, 0]], "float32")
    np.testing.assert_allclose(iou_with(boxes, (0, 0, 10, 20)), [0.5, 0.0, 0.0])


def test_the_detector_is_not_modified(detector, image):
    weights = [w.copy() for w in detector.get_weights()]
    config = detector.get_config()
    given = image.copy()
    targets = detection_targets(detector, image)
    ei.explain_prediction(
        detector, image, output="cls_logits", targets=targets, layer=detection_layer(detector)
    )
    assert all(np.array_equal(a, b) for a, b in zip(weights, detector.get_weights(), strict=True))
    assert detector.get_config() == config
    np.testing.assert_array_equal(image, given)
