"""A detector that is not a KerasHub one, explained through ``decode=`` (issue 19): a
hand-written two-output Keras model (box deltas and class probabilities per grid cell) and
its decoding written with ``keras.ops``. Every number is checked against NumPy (the same
decoding of ``model.predict``) or a GradientTape reference."""

from __future__ import annotations

import gc
import weakref

import keras
import numpy as np
import pytest
from keras import ops

import explainimg as ei
from explainimg.methods import DRISE, Occlusion
from explainimg.methods.occlusion import patch_masks

pytestmark = pytest.mark.core

SIZE, GRID, CLASSES, KEPT = 32, 4, 3, 5
CELL = SIZE // GRID


def grid_detector(seed: int = 0) -> keras.Model:
    """Per cell of a 4x4 grid: 4 box deltas and 3 class probabilities."""
    keras.utils.set_random_seed(seed)
    images = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(images)
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="last_conv")(
        x
    )
    x = keras.layers.MaxPooling2D(2, name="trunk")(x)  # where the two heads branch off
    deltas = keras.layers.Reshape((GRID * GRID, 4), name="deltas")(keras.layers.Conv2D(4, 1)(x))
    scores = keras.layers.Conv2D(CLASSES, 1, activation="softmax")(x)
    probabilities = keras.layers.Reshape((GRID * GRID, CLASSES), name="classes")(scores)
    return keras.Model(images, [deltas, probabilities])


_ROWS, _COLS = np.divmod(np.arange(GRID * GRID), GRID)
CENTRES = np.stack([_COLS * CELL + CELL / 2, _ROWS * CELL + CELL / 2], -1).astype("float32")


def decode(outputs):
    """Each cell's box (its centre moved by two deltas, 12 px wide and high scaled by the
    other two), label and confidence; the KEPT most confident cells."""
    deltas, probabilities = outputs
    centres = ops.convert_to_tensor(CENTRES)[None] + 4.0 * ops.tanh(deltas[..., :2])
    halves = 6.0 * ops.exp(0.5 * ops.tanh(deltas[..., 2:]))
    boxes = ops.concatenate([centres - halves, centres + halves], axis=-1)
    confidences = ops.max(probabilities, axis=-1)
    top, kept = ops.top_k(confidences, KEPT)
    labels = ops.take_along_axis(ops.argmax(probabilities, axis=-1), kept, axis=1)
    boxes = ops.take_along_axis(boxes, ops.expand_dims(kept, -1), axis=1)
    return {"boxes": boxes, "labels": labels, "confidences": top}


def numpy_rows(model, image):
    """The same decoding of ``model.predict``, in NumPy: (KEPT, 6) rows."""
    deltas, probabilities = (v[0] for v in model.predict(image[None], verbose=0))
    centres = CENTRES + 4.0 * np.tanh(deltas[:, :2])
    halves = 6.0 * np.exp(0.5 * np.tanh(deltas[:, 2:]))
    boxes = np.concatenate([centres - halves, centres + halves], -1)
    order = np.argsort(-probabilities.max(-1), kind="stable")[:KEPT]
    labels = probabilities.argmax(-1)[order]
    return np.column_stack([boxes[order], labels, probabilities.max(-1)[order]])


def numpy_iou(boxes, box):
    x0, y0 = np.maximum(boxes[:, 0], box[0]), np.maximum(boxes[:, 1], box[1])
    x1, y1 = np.minimum(boxes[:, 2], box[2]), np.minimum(boxes[:, 3], box[3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / (areas + (box[2] - box[0]) * (box[3] - box[1]) - inter)


def numpy_score(rows, box, class_id):
    """pytorch-grad-cam's box score: matching detections' confidences, summed."""
    matched = (numpy_iou(rows[:, :4], box) >= 0.5) & (rows[:, 4] == class_id)
    return float(rows[matched, 5].sum())


@pytest.fixture(scope="module")
def detector():
    return grid_detector()


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).uniform(0, 1, (SIZE, SIZE, 3)).astype("float32")


def test_the_targets_are_the_decoded_detections_with_their_scores(detector, image):
    expl = ei.explain_prediction(detector, image, decode=decode)
    rows = numpy_rows(detector, image)
    assert expl.error is None and len(expl.targets) == KEPT
    for row, target in zip(rows, expl.targets, strict=True):
        assert target.box == pytest.approx(tuple(row[:4]), abs=1e-4)
        assert (target.target, target.target_name) == (int(row[4]), None)
        assert target.proba == pytest.approx(row[5], abs=1e-6)
        assert target.score == pytest.approx(numpy_score(rows, row[:4], row[4]), abs=1e-5)
    assert expl.layer == "trunk"


def test_gradcam_equals_a_gradient_tape_reference(detector, image):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the reference is written with tf.GradientTape")
    import tensorflow as tf

    (target,) = ei.explain_prediction(detector, image, decode=decode, top=1).targets
    features = keras.Model(detector.inputs, detector.get_layer("trunk").output)
    rest = keras.Model(detector.get_layer("trunk").output, detector.outputs)
    activations = features([image[None]])
    with tf.GradientTape() as tape:
        tape.watch(activations)
        parts = decode(rest(activations))
        rows = tf.concat([parts["boxes"], tf.cast(parts["labels"], "float32")[..., None]], axis=-1)
        matched = (ei.targets.box_iou(rows[0, :, :4], target.box) >= 0.5) & (
            tf.equal(rows[0, :, 4], float(target.target))
        )
        score = tf.reduce_sum(tf.where(matched, parts["confidences"][0], 0.0))
    gradients = tape.gradient(score, activations)[0].numpy()
    cam = np.maximum((activations[0].numpy() * gradients.mean(axis=(0, 1))).sum(-1), 0)
    assert target.score == pytest.approx(float(score), abs=1e-5)
    np.testing.assert_allclose(target.heatmap, cam / cam.max(), atol=1e-4)


def test_occlusion_is_the_drop_of_the_same_score(detector, image):
    method = Occlusion(patch_size=16, stride=16, baseline=0.0)
    (target,) = ei.explain_prediction(detector, image, decode=decode, method=method, top=1).targets
    box, class_id = target.box, target.target
    clean = numpy_score(numpy_rows(detector, image), box, class_id)
    masks = patch_masks((SIZE, SIZE), 16, 16)
    drops = [
        clean - numpy_score(numpy_rows(detector, image * (1 - m[..., None])), box, class_id)
        for m in masks
    ]
    expected = np.maximum(np.tensordot(drops, masks, axes=1) / masks.sum(axis=0), 0)
    assert target.score == pytest.approx(clean, abs=1e-5)
    if expected.max() == 0:
        assert not target.heatmap.any()
    else:
        np.testing.assert_allclose(target.heatmap, expected / expected.max(), atol=1e-4)


def test_a_batch_is_one_trace_and_equals_each_image_alone(detector, image):
    images = np.stack([image, image[::-1], np.ascontiguousarray(image[:, ::-1])])
    for method in ("gradcam", DRISE(masks=8)):
        explainer = ei.Explainer(detector, method=method, decode=decode)
        alone = [explainer.explain(images[0], top=2)]
        traces = explainer.trace_count
        alone += [explainer.explain(picture, top=2) for picture in images[1:]]
        assert explainer.trace_count == traces
        for single, batched in zip(alone, explainer.explain_batch(images, top=2), strict=True):
            assert [t.box for t in batched.targets] == [t.box for t in single.targets]
            for one, many in zip(single.targets, batched.targets, strict=True):
                np.testing.assert_allclose(many.heatmap, one.heatmap, atol=1e-5)
                assert np.isfinite(many.heatmap).all()


def test_class_ids_boxes_and_names_choose_and_name_the_targets(detector, image):
    rows = numpy_rows(detector, image)
    present = int(rows[0, 4])
    chosen = ei.explain_prediction(detector, image, decode=decode, targets=[present])
    assert [t.target for t in chosen.targets] == [int(r[4]) for r in rows if r[4] == present]
    names = ["square", "disc", "triangle"]
    named = ei.explain_prediction(detector, image, decode=decode, target_names=names, top=1)
    assert named.targets[0].target_name == names[present]
    drawn = ei.targets.Box(0, 0, 16, 16, class_id=2)
    (target,) = ei.explain_prediction(detector, image, decode=decode, targets=[drawn]).targets
    assert (target.box, target.proba) == ((0, 0, 16, 16), None)
    assert target.score == pytest.approx(numpy_score(rows, (0, 0, 16, 16), 2), abs=1e-5)


def test_bad_decode_gets_named_errors(detector, image):
    with pytest.raises(TypeError) as error:
        ei.explain_prediction(detector, image, decode=3)
    assert str(error.value) == (
        "decode: expected a function from the model's outputs to its detections, got int"
    )
    with pytest.raises(TypeError) as error:
        ei.explain_prediction(detector, image, decode=lambda outputs: {"boxes": outputs[0]})
    assert str(error.value) == (
        'decode: expected a dict {"boxes": (batch, D, 4), "labels": (batch, D), '
        "\"confidences\": (batch, D)} from decode, got ['boxes']"
    )
    with pytest.raises(ValueError) as error:
        ei.explain_prediction(detector, image, decode=decode, targets=[CLASSES])
    assert str(error.value) == (
        f"targets: expected class ids the detector can output (0 to {CLASSES - 1}), "
        f"got class id {CLASSES}"
    )
    with pytest.raises(ValueError) as error:
        ei.explain_prediction(detector, image, decode=decode, output="deltas", targets=[5])
    assert str(error.value).startswith("targets: expected class ids the detector can output")


def test_the_model_and_image_are_kept_and_not_kept_alive(image):
    model = grid_detector(seed=1)
    weights = [w.copy() for w in model.get_weights()]
    given = image.copy()
    ei.explain_prediction(model, image, decode=decode, method=DRISE(masks=4))
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))
    np.testing.assert_array_equal(image, given)
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None
