"""A KerasHub D-FINE explained as a RetinaNet is: its detections those of ``predict``, each
detection's score the class logit of its own query (against NumPy from the raw outputs),
drawn boxes matched to queries by IoU, Grad-CAM and Eigen-CAM on the projection of the
deepest backbone stage, D-RISE against ``predict`` on each masked image, and the detector
left as it was. The D-FINE is tiny with random weights (tests/detectors.py)."""

from __future__ import annotations

import numpy as np
import pytest

import explainimg as ei
from explainimg.engine.kinds import dissect
from explainimg.methods import DRISE
from explainimg.methods.rise import rise_factors
from explainimg.targets import Box

pytest.importorskip("keras_hub")
pytestmark = pytest.mark.core

from detectors import (  # noqa: E402
    DFINE_SIZE,
    NUM_CLASSES,
    numpy_query_boxes,
    numpy_similarity,
    predicted_rows,
    tiny_dfine,
)


@pytest.fixture(scope="module")
def detector():
    return tiny_dfine()


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).uniform(0, 1, (DFINE_SIZE, DFINE_SIZE, 3)).astype("float32")


def test_detections_are_those_of_predict(detector, image):
    predicted = detector.predict(image[None], verbose=0)
    targets = ei.detection_targets(detector, image)
    assert dissect(detector, layer=None).kind == "detector"
    assert 1 < len(targets) == int(predicted["num_detections"][0])
    for k, target in enumerate(targets):
        y0, x0, y1, x1 = predicted["boxes"][0, k]
        assert target.box == pytest.approx((x0, y0, x1, y1), abs=1e-4)
        assert target.class_id == predicted["labels"][0, k]
        assert target.confidence == pytest.approx(predicted["confidence"][0, k])


def test_a_detection_score_is_the_logit_of_its_query(detector, image):
    boxes, logits = numpy_query_boxes(detector, image)
    targets = ei.detection_targets(detector, image, max_detections=3)
    expl = ei.explain_prediction(detector, image, targets=targets)
    assert [t.target for t in expl.targets] == [t.class_id for t in targets]
    for target, explained in zip(targets, expl.targets, strict=True):
        (query,) = target.anchors
        np.testing.assert_allclose(boxes[query], target.box, atol=1e-4)
        assert explained.score == pytest.approx(float(logits[query, target.class_id]), abs=1e-4)


def test_a_drawn_box_sums_the_queries_it_overlaps(detector, image):
    boxes, logits = numpy_query_boxes(detector, image)
    # The random queries' boxes are small: draw one a little larger than query 0's.
    x0, y0, x1, y1 = (float(v) for v in boxes[0] + (-0.3, -0.3, 0.3, 0.3))
    drawn = ei.detection_targets(detector, image, boxes=[Box(x0, y0, x1, y1, class_id=2)])
    inter = np.clip(np.minimum(boxes[:, 2], x1) - np.maximum(boxes[:, 0], x0), 0, None) * np.clip(
        np.minimum(boxes[:, 3], y1) - np.maximum(boxes[:, 1], y0), 0, None
    )
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    matched = np.flatnonzero(inter / (areas + (x1 - x0) * (y1 - y0) - inter) >= 0.5)
    assert 0 in matched and drawn[0].anchors == tuple(matched)
    expl = ei.explain_prediction(detector, image, targets=drawn)
    assert expl.targets[0].score == pytest.approx(float(logits[matched, 2].sum()), abs=1e-4)


@pytest.mark.parametrize("method", ["gradcam", "eigencam", "gradcam++"])
def test_cams_explain_the_deepest_stage_projection(detector, image, method):
    expl = ei.explain_prediction(detector, image, method=method, top=2)
    assert expl.layer == ei.detection_layer(detector) == "d_fine_backbone/encoder_input_proj_bn_1"
    for target in expl.targets:
        assert target.heatmap.shape == (DFINE_SIZE // 8, DFINE_SIZE // 8)
        assert np.isfinite(target.heatmap).all() and target.heatmap.max() == pytest.approx(1.0)


def test_drise_equals_a_reference_from_predict_on_each_masked_image(detector, image):
    expl = ei.explain_prediction(detector, image, method=DRISE(masks=8, cell_size=8), top=2)
    rows, grids, columns = rise_factors(0, 8, 8, 0.5, (DFINE_SIZE, DFINE_SIZE))
    masks = rows @ grids @ columns
    found = ei.similarity_targets(detector, image, max_detections=2)
    for target, explained in zip(found, expl.targets, strict=True):
        scores = [
            numpy_similarity(
                predicted_rows(detector, image * mask[..., None]), target.box, target.probabilities
            )
            for mask in masks
        ]
        expected = np.maximum(np.tensordot(scores, masks, axes=1) / masks.sum(axis=0), 0)
        np.testing.assert_allclose(explained.heatmap, expected / expected.max(), atol=1e-4)
        assert len(target.probabilities) == NUM_CLASSES


def test_the_detector_is_left_as_it_was(detector, image):
    before = [w.copy() for w in detector.get_weights()]
    copy = image.copy()
    ei.explain_prediction(detector, image, top=1)
    ei.explain_prediction(detector, image, method=DRISE(masks=2), top=1)
    assert np.array_equal(image, copy)
    assert all(np.array_equal(a, b) for a, b in zip(before, detector.get_weights(), strict=True))
