"""One call explains a KerasHub RetinaNet: ``explain_prediction(detector, x)`` explains each
detection (the detector kind supplies them), ``top=`` the most confident, drawn boxes go in
``targets=``, an image without detections gives an Explanation whose ``error`` says so, and
each target carries its box. The RetinaNet is tiny with random weights (tests/detectors.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import explainimg as ei
from explainimg.engine import backend
from explainimg.engine.kind_detector import NO_DETECTION
from explainimg.methods import DRISE
from explainimg.targets import Box

pytest.importorskip("keras_hub")
pytestmark = pytest.mark.core

from detectors import NUM_CLASSES, SIZE, random_image, tiny_retinanet  # noqa: E402


@pytest.fixture(scope="module")
def scene():
    """The tiny detector and an image in which it finds several objects."""
    return tiny_retinanet(), random_image()


@pytest.fixture(scope="module")
def explained(scene):
    detector, image = scene
    return ei.explain_prediction(detector, image)


def test_one_call_explains_every_detection_with_its_box(scene, explained):
    detector, image = scene
    detections = ei.detection_targets(detector, image)
    given = ei.explain_prediction(detector, image, targets=detections)
    assert explained.error is None and len(explained.targets) == len(detections) > 1
    assert explained.targets == given.targets
    for detection, target in zip(detections, explained.targets, strict=True):
        assert target.box == pytest.approx(detection.box)
        assert target.proba == pytest.approx(detection.confidence)
        assert (target.target, target.target_name) == (detection.class_id, None)


def test_top_keeps_the_most_confident_detections(scene, explained):
    detector, image = scene
    top = ei.explain_prediction(detector, image, top=2)
    assert top.targets == explained.targets[:2]
    assert [t.proba for t in top.targets] == sorted((t.proba for t in top.targets), reverse=True)
    with pytest.raises(ValueError) as error:
        ei.explain_prediction(detector, image, top=0)
    assert str(error.value) == (
        "top: expected an integer >= 1 (how many of the most confident detections to explain),"
        " got 0"
    )


def test_a_drawn_box_is_explained_with_its_box(scene):
    detector, image = scene
    box = Box(8, 8, 40, 40, class_id=1)
    expl = ei.explain_prediction(detector, image, targets=[box])
    (drawn,) = ei.detection_targets(detector, image, boxes=[box])
    (target,) = expl.targets
    assert (target.box, target.proba, target.target, target.target_name) == (
        (8.0, 8.0, 40.0, 40.0),
        None,
        1,
        None,
    )
    assert target == ei.explain_prediction(detector, image, targets=[drawn]).targets[0]


def test_class_ids_choose_the_detections_of_those_classes(scene, explained):
    detector, image = scene
    found = ei.detection_targets(detector, image)
    for class_id in range(NUM_CLASSES):  # the random weights find some classes, maybe not all
        chosen = ei.explain_prediction(detector, image, targets=[class_id])
        of_class = [t for t in explained.targets if t.target == class_id]
        assert len(of_class) == sum(1 for t in found if t.class_id == class_id)
        assert [t.box for t in chosen.targets] == [t.box for t in of_class]
        assert {t.target for t in chosen.targets} <= {class_id}
        assert [t.heatmap.tolist() for t in chosen.targets] == [
            t.heatmap.tolist() for t in of_class
        ]
        assert (chosen.error is None) == bool(of_class)
    blind = tiny_retinanet(threshold=0.999)
    missing = ei.explain_prediction(blind, image, targets=[1, 2])
    assert missing.targets == [] and missing.error == (
        "the detector found no object of the classes [1, 2] in this image; pass "
        "targets=[ei.targets.Box(x0, y0, x1, y1, class_id)] to explain a region"
    )
    with pytest.raises(ValueError) as error:
        ei.explain_prediction(detector, image, targets=[0, NUM_CLASSES])
    assert str(error.value) == (
        f"targets: expected class ids the detector can output (0 to {NUM_CLASSES - 1}), "
        f"got class id {NUM_CLASSES}"
    )


def test_class_names_name_each_detection(scene, explained):
    detector, image = scene
    names = ["circle", "square", "triangle"]
    named = ei.explain_prediction(detector, image, target_names=names, top=2)
    classes = [t.class_id for t in ei.detection_targets(detector, image)][:2]
    expected = [(c, names[c]) for c in classes]
    assert [(t.target, t.target_name) for t in named.targets] == expected
    assert [t.box for t in named.targets] == [t.box for t in explained.targets[:2]]
    drise = ei.Explainer(detector, method=DRISE(masks=2), target_names=names)
    assert [(t.target, t.target_name) for t in drise.explain(image, top=2).targets] == expected


def test_the_box_is_in_the_pixels_of_the_picture_shown(scene, explained):
    detector, image = scene
    picture = Image.fromarray((image * 255).astype("uint8")).resize((2 * SIZE, 2 * SIZE))
    expl = ei.explain_prediction(detector, image, image=picture, top=1)
    assert expl.targets[0].box == pytest.approx(tuple(2 * v for v in explained.targets[0].box))


def test_no_detection_is_an_explanation_whose_error_says_so(scene):
    image = scene[1]
    blind = tiny_retinanet(threshold=0.999)
    expl = ei.explain_prediction(blind, image)
    assert expl.targets == [] and expl.error == NO_DETECTION
    assert expl.error == (
        "the detector found no object above its confidence threshold in this image; pass "
        "targets=[ei.targets.Box(x0, y0, x1, y1, class_id)] to explain a region"
    )
    batch = ei.Explainer(blind).explain_batch(np.stack([image, image[::-1]]))
    assert [(e.targets, e.error) for e in batch] == [([], NO_DETECTION)] * 2
    assert ei.explain_prediction(blind, image, targets=[Box(8, 8, 40, 40, 0)]).targets


def test_a_batch_explains_each_image_its_own_detections(scene):
    detector, image = scene
    flipped = np.ascontiguousarray(image[::-1])
    batch = ei.Explainer(detector).explain_batch(np.stack([image, flipped]))
    alone = ei.explain_prediction(detector, flipped)
    assert [t.box for t in batch[1].targets] == [t.box for t in alone.targets]
    assert [t.target for t in batch[1].targets] == [t.target for t in alone.targets]


def test_classifier_targets_have_no_box():
    import keras

    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(2, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    expl = ei.explain_prediction(model, np.ones((8, 8, 3), "float32"), top=2)
    assert [t.box for t in expl.targets] == [None, None]


def test_the_detector_and_image_are_not_modified(scene):
    detector, image = scene
    weights = [w.copy() for w in detector.get_weights()]
    given = image.copy()
    ei.explain_prediction(detector, image, top=1)
    assert all(np.array_equal(a, b) for a, b in zip(weights, detector.get_weights(), strict=True))
    np.testing.assert_array_equal(image, given)


def test_new_images_reuse_one_trace_and_a_batch_equals_each_image_alone(scene):
    """A detection's score reaches the compiled call as numbers (its anchors, its class), so
    images with as many detections share one trace, and a batch is one call."""
    detector, image = scene
    others = [np.ascontiguousarray(image[::-1]), random_image(5), random_image(6)]
    explainer = ei.Explainer(detector)
    alone = [explainer.explain(image, top=2)]
    traces = explainer.trace_count  # plans are cached per detector: other tests' count too
    alone += [explainer.explain(picture, top=2) for picture in others]
    assert explainer.trace_count == traces
    batch = explainer.explain_batch(np.stack([image, *others]), top=2)
    # The batch is one call; JAX traces once more for its size, the others run any size.
    assert explainer.trace_count == traces + int(backend.current().STATIC_SHAPES)
    boxes = {tuple(t.box) for expl in alone for t in expl.targets}
    assert len(boxes) > 2  # the images' detections differ
    for single, batched in zip(alone, batch, strict=True):
        assert [t.box for t in batched.targets] == [t.box for t in single.targets]
        for one, many in zip(single.targets, batched.targets, strict=True):
            np.testing.assert_allclose(many.heatmap, one.heatmap, atol=1e-5)
            assert many.score == pytest.approx(one.score, abs=1e-4)


def test_explaining_a_detector_does_not_keep_it_alive():
    import gc
    import weakref

    def explain_a_fresh_detector(method):
        detector = tiny_retinanet(seed=3)
        ei.explain_prediction(detector, random_image(), top=1, method=method)
        return weakref.ref(detector)

    for method in ("gradcam", DRISE(masks=2)):
        alive = explain_a_fresh_detector(method)
        gc.collect()
        assert alive() is None, method
