"""Models with several inputs or outputs (tf-keras-vis' multi-IO scenarios), score functions
as targets, and ``preprocess=``."""

from __future__ import annotations

import builders
import keras
import numpy as np
import pytest
from keras import layers
from reference import requires_tensorflow, trained_under_tensorflow

import explainimg as ei
from explainimg.targets import ClassScore, MultiLabelScore, RegressionScore, SegmentationScore

pytestmark = pytest.mark.core

SIZE = 16


def _image_and_vector():
    keras.utils.set_random_seed(11)
    image = keras.Input((SIZE, SIZE, 3), name="image")
    meta = keras.Input((4,), name="meta")
    x = layers.Conv2D(6, 3, activation="relu", name="conv")(image)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Concatenate()([x, layers.Dense(6, name="meta_dense")(meta)])
    logits = layers.Dense(3, name="logits")(x)
    return keras.Model({"image": image, "meta": meta}, layers.Softmax()(logits), name="img_vec")


def _two_images():
    keras.utils.set_random_seed(12)
    left = keras.Input((SIZE, SIZE, 3), name="left")
    right = keras.Input((SIZE, SIZE, 3), name="right")
    a = layers.Conv2D(4, 3, activation="relu", name="left_conv")(left)
    b = layers.Conv2D(4, 3, activation="relu", name="right_conv")(right)
    x = layers.Concatenate()(
        [layers.GlobalAveragePooling2D()(a), layers.GlobalAveragePooling2D()(b)]
    )
    logits = layers.Dense(3, name="logits")(x)
    return keras.Model([left, right], layers.Softmax()(logits))


def _two_heads():
    keras.utils.set_random_seed(13)
    image = keras.Input((SIZE, SIZE, 3))
    x = layers.Conv2D(6, 3, activation="relu", name="conv")(image)
    pooled = layers.GlobalAveragePooling2D()(x)
    kind = layers.Dense(3, activation="softmax", name="kind")(pooled)
    colour = layers.Dense(4, activation="softmax", name="colour")(pooled)
    return keras.Model(image, {"kind": kind, "colour": colour}, name="two_heads")


def _tape_gradcam(model, inputs, layer_name, class_id):
    """Independent Grad-CAM of logit ``class_id`` (the output of layer "logits"): a
    GradientTape on a two-output copy of the graph. Returns (maps, logits)."""
    import tensorflow as tf

    features = keras.Model(
        model.inputs, [model.get_layer(layer_name).output, model.get_layer("logits").output]
    )
    with tf.GradientTape() as tape:
        activations, logits = features(inputs)
        value = logits[:, class_id]
    gradients = tape.gradient(value, activations).numpy().astype(np.float64)
    weights = gradients.mean(axis=(1, 2), keepdims=True)
    cams = np.maximum((activations.numpy() * weights).sum(axis=-1), 0)
    peaks = cams.max(axis=(1, 2), keepdims=True)
    return np.where(peaks > 0, cams / np.where(peaks > 0, peaks, 1), 0), logits.numpy()


def _images(count, seed):
    return np.random.default_rng(seed).uniform(0, 1, (count, SIZE, SIZE, 3)).astype("float32")


@requires_tensorflow
def test_image_plus_vector_matches_a_reference_and_the_vector_matters():
    model = _image_and_vector()
    images = _images(3, 0)
    meta = np.random.default_rng(1).normal(size=(3, 4)).astype("float32")
    expls = ei.Explainer(model).explain_batch({"image": images, "meta": meta}, targets=[1])
    expected, logits = _tape_gradcam(model, {"image": images, "meta": meta}, "conv", 1)
    for expl, cam, row in zip(expls, expected, logits, strict=True):
        np.testing.assert_allclose(expl.targets[0].heatmap, cam, atol=1e-5)
        assert expl.targets[0].score == pytest.approx(float(row[1]), abs=1e-5)
    other = ei.Explainer(model).explain_batch({"image": images, "meta": meta * 5}, targets=[1])
    assert other[0].targets[0].score != pytest.approx(expls[0].targets[0].score, abs=1e-3)


def test_several_inputs_as_a_list_a_dict_one_image_and_a_stream_agree():
    model = _image_and_vector()
    images = _images(5, 2)
    meta = np.random.default_rng(3).normal(size=(5, 4)).astype("float32")
    meta_before = meta.copy()
    batch = ei.Explainer(model).explain_batch([images, meta], top=2)
    stream = list(ei.explain_predictions(model, {"image": images, "meta": meta}, batch_size=2))
    single = ei.explain_prediction(model, {"image": images[3], "meta": meta[3]})
    np.testing.assert_allclose(stream[3].targets[0].heatmap, batch[3].targets[0].heatmap, atol=1e-6)
    np.testing.assert_allclose(single.targets[0].heatmap, batch[3].targets[0].heatmap, atol=1e-6)
    np.testing.assert_array_equal(meta, meta_before)
    # Methods that run the model on many perturbed images: the other inputs follow each
    # image's copies (a batch gives the same maps as one image at a time).
    for method in (
        ei.methods.ScoreCAM(batch_size=3),
        ei.methods.IntegratedGradients(steps=4),
        ei.methods.Occlusion(patch_size=4, stride=4, batch_size=5),
        ei.methods.RISE(masks=12, cell_size=8, batch_size=5),
    ):
        together = ei.Explainer(model, method=method).explain_batch([images, meta], targets=[1])
        for i in (0, 4):
            alone = ei.explain_prediction(model, [images[i], meta[i]], targets=[1], method=method)
            np.testing.assert_allclose(
                together[i].targets[0].heatmap, alone.targets[0].heatmap, atol=1e-4
            )


@requires_tensorflow
def test_two_image_inputs_explain_the_chosen_one():
    model = _two_images()
    left, right = _images(2, 4), _images(2, 5)
    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(model, [left[0], right[0]])
    assert str(caught.value) == (
        "image_input: expected the name or index of the image input to explain, one of "
        "'left', 'right', got None, and the model has several 4-D inputs"
    )
    for name, layer in (("left", "left_conv"), ("right", "right_conv")):
        expls = ei.Explainer(model, image_input=name).explain_batch([left, right], targets=[2])
        assert expls[0].layer == layer
        expected, _ = _tape_gradcam(model, [left, right], layer, 2)
        for expl, cam in zip(expls, expected, strict=True):
            np.testing.assert_allclose(expl.targets[0].heatmap, cam, atol=1e-5)


def test_two_softmax_heads_explain_the_chosen_output():
    model = _two_heads()
    images = _images(3, 6)
    probabilities = model.predict(images, verbose=0)
    for output, size in (("kind", 3), ("colour", 4)):
        expls = ei.Explainer(model, output=output).explain_batch(images, top=size)
        for expl, row in zip(expls, probabilities[output], strict=True):
            assert [t.target for t in expl.targets] == list(np.argsort(-row))
            np.testing.assert_allclose(
                [t.proba for t in expl.targets], np.sort(row)[::-1], atol=1e-6
            )
    by_index = ei.explain_prediction(model, images[0], output=0, top=1)
    assert by_index.targets[0].proba == pytest.approx(float(probabilities["colour"][0].max()))
    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(model, images[0], output="size")
    assert str(caught.value) == (
        "output: expected one of the model's output names 'colour', 'kind', got 'size'"
    )


def test_bad_multi_input_arguments():
    model = _image_and_vector()
    image = _images(1, 7)[0]
    cases = {
        "missing input": (
            {"image": image},
            "x: expected the model's 2 inputs as a dict by name ('image', 'meta') or a list "
            "in that order, got a dict with missing ['meta']",
        ),
        "wrong vector": (
            {"image": image, "meta": np.zeros(5)},
            "x['meta']: expected an array of shape (None, 4), got ndarray of shape (1, 5)",
        ),
        "rows": (
            {"image": image, "meta": np.zeros((2, 4))},
            "x['meta']: expected 1 rows (one per image), got 2 rows",
        ),
    }
    for x, message in cases.values():
        with pytest.raises(ValueError) as caught:
            ei.explain_prediction(model, x)
        assert str(caught.value) == message
    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(model, [image, np.zeros(4)], image_input="meta")
    assert str(caught.value) == (
        "image_input: expected an input of shape (batch, height, width, channels), got input "
        "'meta' of shape (None, 4)"
    )


def test_score_functions_equal_class_ids_and_sum_logits():
    model = builders.functional_softmax_layer()
    image = builders.image(3)
    by_id = ei.explain_prediction(model, image, targets=[2, 0])
    by_function = ei.explain_prediction(model, image, targets=[ClassScore(2), ClassScore(0)])
    for a, b in zip(by_id.targets, by_function.targets, strict=True):
        np.testing.assert_allclose(a.heatmap, b.heatmap, atol=1e-6)
        assert a.score == pytest.approx(b.score, abs=1e-6)
    assert [t.target_name for t in by_function.targets] == ["class 2", "class 0"]
    assert by_function.targets[0].proba is None
    pair = ei.explain_prediction(model, image, targets=MultiLabelScore([2, 0]))
    assert pair.targets[0].score == pytest.approx(by_id.targets[0].score + by_id.targets[1].score)


def test_regression_score_equals_target_zero():
    model = builders.with_head(None, 1)
    image = builders.image(4)
    a = ei.explain_prediction(model, image, targets=[0])
    b = ei.explain_prediction(model, image, targets=RegressionScore())
    np.testing.assert_allclose(a.targets[0].heatmap, b.targets[0].heatmap, atol=1e-6)
    assert a.targets[0].score == pytest.approx(b.targets[0].score)


def test_bad_score_functions():
    model = builders.functional_softmax_layer()
    image = builders.image(5)
    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(model, image, targets=[lambda logits: logits])
    assert str(caught.value) == (
        "targets[0]: expected a score function returning one score per image, shape (batch,) "
        "or (batch, 1), got shape (batch, 4). Index or reduce every axis but the batch axis, "
        "e.g. output[:, 0] or keras.ops.mean(output, axis=1)."
    )
    with pytest.raises(ei.ExplanationError, match="non-finite values"):
        ei.explain_prediction(model, image, targets=[lambda logits: logits[:, 0] * np.nan])
    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(model, image, targets=[1, ClassScore(2)])
    assert str(caught.value) == (
        "targets: expected class ids or score functions, not a mix, got 2 targets, 1 of them "
        "functions"
    )


def _segmentation_model():
    """A small fully convolutional net: (64, 64, 3) -> per-pixel logits of background and
    object, softmax over the last axis."""
    image = keras.Input((64, 64, 3))
    x = layers.Rescaling(1 / 255.0)(image)
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="enc1")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="enc2")(x)
    x = layers.UpSampling2D()(x)
    x = layers.Conv2D(2, 3, padding="same", name="seg_logits")(x)
    return keras.Model(image, layers.Softmax(name="seg_probs")(x), name="tiny_segmenter")


@pytest.fixture(scope="module")
def segmenter():
    from explainimg.demo.shapes import make_shapes

    keras.utils.set_random_seed(21)
    data = make_shapes(600, seed=31)
    model = _segmentation_model()
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    model.fit(data.images, data.masks.astype("int32"), epochs=6, batch_size=32, verbose=0)
    return model


@trained_under_tensorflow
def test_segmentation_region_is_explained_where_the_region_is(segmenter):
    from explainimg.demo.shapes import make_shapes

    data = make_shapes(30, seed=41)
    inside = []
    for image, mask in zip(data.images, data.masks, strict=True):
        expl = ei.explain_prediction(
            segmenter, image, targets=SegmentationScore(1, mask=mask), layer="enc2"
        )
        heat = np.kron(expl.targets[0].heatmap, np.ones((2, 2)))  # 32x32 cells -> 64x64
        inside.append(heat[mask].mean() > 2 * heat[~mask].mean())
    assert np.mean(inside) >= 0.9, f"heat mostly in the region for {np.mean(inside):.0%}"


def test_segmentation_output_needs_score_functions():
    keras.utils.set_random_seed(22)
    segmenter = _segmentation_model()
    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(segmenter, np.zeros((64, 64, 3)))
    assert str(caught.value) == (
        "targets: expected score functions (see explainimg.targets) for an output of shape "
        "(None, 64, 64, 2), which does not hold class scores (batch, classes), got class ids"
    )
    box = ei.explain_prediction(
        segmenter, np.zeros((64, 64, 3)), targets=SegmentationScore(1, box=(8, 8, 24, 24))
    )
    assert box.targets[0].target_name == "class 1 in box"


def test_preprocess_explains_raw_pixels():
    mobilenet_preprocess = keras.applications.mobilenet_v2.preprocess_input
    model = builders.sequential_dense_softmax()
    raw = np.random.default_rng(8).uniform(0, 255, (32, 32, 3)).astype("float32")
    raw_before = raw.copy()
    ours = ei.explain_prediction(model, raw, preprocess=mobilenet_preprocess, top=2)
    by_hand = ei.explain_prediction(model, raw / 127.5 - 1.0, top=2)
    np.testing.assert_array_equal(raw, raw_before)
    for a, b in zip(ours.targets, by_hand.targets, strict=True):
        assert a.target == b.target
        np.testing.assert_allclose(a.heatmap, b.heatmap, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(ours.image), np.round(raw).astype(np.uint8))


def test_bad_preprocess():
    model = builders.sequential_dense_softmax()
    raw = np.zeros((32, 32, 3), "float32")
    cases = {
        "model": "preprocess: expected a function, or 'model' for a KerasHub model with a "
        "preprocessor, got 'model' for Sequential, which has no preprocessor",
        "magic": "preprocess: expected a function, or 'model' for the model's own preprocessor, "
        "got 'magic'",
    }
    for value, message in cases.items():
        with pytest.raises(ValueError) as caught:
            ei.explain_prediction(model, raw, preprocess=value)
        assert str(caught.value) == message
    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(model, raw, preprocess=lambda batch: batch[:, :16])
    assert str(caught.value) == (
        "preprocess: expected images of the model's input shape (None, 32, 32, 3), got shape "
        "(1, 16, 32, 3)"
    )
