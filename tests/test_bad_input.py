"""Every bad input gets a clear error naming the argument (issue test 5), and nothing changes."""

from __future__ import annotations

import json
import pickle
import random
import re
import tracemalloc
import zipfile
from pathlib import Path
from unittest import mock

import attrs
import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers
from PIL import Image

import explainimg as ei
from explainimg.explanation import Explanation, TargetExplanation
from explainimg.formatters import image as format_image
from explainimg.inputs.arguments import image_batch
from explainimg.inputs.images import STANDARD_MODES
from explainimg.methods import METHODS
from explainimg.targets import ClassScore
from tests import builders

pytestmark = pytest.mark.core


@pytest.fixture(scope="module")
def model() -> keras.Model:
    return builders.sequential_dense_softmax()


GOOD = builders.image(seed=1)

CASES = {
    "x of rank 2": (
        dict(x=np.zeros((32, 32))),
        ValueError,
        "x: expected one image of shape (H, W, C) or (1, H, W, C), got ndarray of shape "
        "(32, 32). For a greyscale image, repeat it into three channels: "
        "np.repeat(x[..., np.newaxis], 3, axis=-1), or open the file with PIL's "
        "Image.open(path).convert('RGB').",
    ),
    "x of rank 5": (
        dict(x=np.zeros((1, 1, 32, 32, 3))),
        ValueError,
        "x: expected one image of shape (H, W, C) or (1, H, W, C), "
        "got ndarray of shape (1, 1, 32, 32, 3)",
    ),
    "x with 1 channel for an RGB model": (
        dict(x=np.zeros((32, 32, 1))),
        ValueError,
        "x: expected an image with 3 channels (the model's input), got 1 channels, "
        "shape (1, 32, 32, 1). For a greyscale image, repeat it into three channels: "
        "np.repeat(x[..., np.newaxis], 3, axis=-1), or open the file with PIL's "
        "Image.open(path).convert('RGB').",
    ),
    "x laid out channels-first": (
        dict(x=np.zeros((3, 32, 32))),
        ValueError,
        "x: expected an image with 3 channels (the model's input), got 32 channels, "
        "shape (1, 3, 32, 32). It looks channels-first (3 channels before height and width); "
        "the model takes channels-last images: use np.moveaxis(x, -3, -1).",
    ),
    "x of the wrong size": (
        dict(x=np.zeros((28, 30, 3))),
        ValueError,
        "x: expected an image of height x width 32 x 32 (the model's input), "
        "got 28 x 30, shape (1, 28, 30, 3). Resize the image first (a PIL image is resized "
        "automatically).",
    ),
    "a batch of two images": (
        dict(x=np.zeros((2, 32, 32, 3))),
        ValueError,
        "x: expected one image of shape (H, W, C) or (1, H, W, C), got a batch of 2 images, "
        "shape (2, 32, 32, 3). Use explain_predictions() for several images.",
    ),
    "x with NaN": (
        dict(x=np.where(np.eye(32)[..., None] > 0, np.nan, GOOD)),
        ValueError,
        "x: expected finite pixel values, got an image containing NaN or inf",
    ),
    "x with inf": (
        dict(x=np.full((32, 32, 3), np.inf)),
        ValueError,
        "x: expected finite pixel values, got an image containing NaN or inf",
    ),
    "x a path that is not a file": (
        dict(x="no/such/cat.jpg"),
        ValueError,
        "x: expected an image array, tensor, PIL image or image file path, "
        "got 'no/such/cat.jpg', which is not a file",
    ),
    "x a number": (
        dict(x=10),
        TypeError,
        "x: expected an image array, tensor, PIL image or image file path, got int",
    ),
    "x None": (
        dict(x=None),
        TypeError,
        "x: expected an image array, tensor, PIL image or image file path, got NoneType",
    ),
    "x an array of None": (
        dict(x=np.full((32, 32, 3), None)),
        TypeError,
        "x: expected an image array, tensor, PIL image or image file path of numbers, "
        "got an array of dtype object",
    ),
    "x an array of strings": (
        dict(x=np.full((32, 32, 3), "a")),
        TypeError,
        "x: expected an image array, tensor, PIL image or image file path of numbers, "
        "got an array of dtype <U1",
    ),
    "x an empty batch": (
        dict(x=np.zeros((0, 32, 32, 3))),
        ValueError,
        "x: expected at least one image, got an empty batch, shape (0, 32, 32, 3)",
    ),
    "targets a string": (
        dict(targets="ab"),
        TypeError,
        "targets: expected a list of class ids, got str. Class names go in target_names=; "
        "targets takes class ids.",
    ),
    "target out of range": (
        dict(targets=[1, 4]),
        ValueError,
        "targets: expected class ids between 0 and 3 (the model has 4 classes), got 4",
    ),
    "negative target": (
        dict(targets=[-1]),
        ValueError,
        "targets: expected class ids between 0 and 3 (the model has 4 classes), got -1",
    ),
    "empty targets": (
        dict(targets=[]),
        ValueError,
        "targets: expected at least one class id, got an empty list",
    ),
    "non-integer target": (
        dict(targets=[1.5]),
        TypeError,
        "targets[0]: expected a class id (an integer), got float",
    ),
    "a class name where class ids belong": (
        dict(targets=["someotherstring"]),
        TypeError,
        "targets[0]: expected a class id (an integer), got str. Class names go in "
        "target_names=; targets takes class ids.",
    ),
    "None among the class ids": (
        dict(targets=[1, None]),
        TypeError,
        "targets[1]: expected a class id (an integer), got NoneType",
    ),
    "top larger than the class count": (
        dict(top=5),
        ValueError,
        "top: expected an integer between 1 and 4 (the number of classes), got 5",
    ),
    "top below 1": (
        dict(top=0),
        ValueError,
        "top: expected an integer between 1 and 4 (the number of classes), got 0",
    ),
    "top not an int": (
        dict(top=2.0),
        TypeError,
        "top: expected an integer between 1 and 4 (the number of classes), got float",
    ),
    "both targets and top": (
        dict(targets=[1], top=2),
        ValueError,
        "targets: expected either targets or top, not both, got targets=[1] and top=2",
    ),
    "layer index out of range": (
        dict(layer=10),
        ValueError,
        "layer: expected an index between -6 and 5, got 10",
    ),
    "layer that is not a 4-D map": (
        dict(layer="probs"),
        ValueError,
        "layer: expected a layer whose output is a 4-D (batch, height, width, channels) feature "
        "map, got 'probs' with output shape (None, 4). Layers with a 4-D output: 'rescale', "
        "'conv_a', 'conv_b', 'pool'.",
    ),
    "layer of the wrong type": (
        dict(layer=3.5),
        TypeError,
        "layer: expected None, a layer name, an index or a keras Layer, got float",
    ),
    "layer from another model": (
        dict(layer=keras.layers.Dense(3, name="stranger")),
        ValueError,
        "layer: expected a layer of model 'seq_dense_softmax', got layer 'stranger' from elsewhere",
    ),
    "target_names of the wrong length": (
        dict(target_names=["a", "b"]),
        ValueError,
        "target_names: expected 4 names (one per class of the model), got 2 names",
    ),
    "target_names keyed by words": (
        dict(target_names={"cat": "a cat"}),
        TypeError,
        "target_names: expected class ids between 0 and 3 (or their text) as keys, got str",
    ),
    "target_names keyed beyond the classes": (
        dict(target_names={"7": "seven"}),
        ValueError,
        "target_names: expected class ids between 0 and 3 as keys (the model's classes), got 7",
    ),
    "target_names with a number for a name": (
        dict(target_names={0: 3.5}),
        TypeError,
        "target_names[0]: expected a class name or a (wordnet id, name) pair, got float",
    ),
    "unknown output": (
        dict(output="size"),
        ValueError,
        "output: expected one of the model's output names 'probs', got 'size'",
    ),
    "output index out of range": (
        dict(output=3),
        ValueError,
        "output: expected an index between -1 and 0, got 3",
    ),
    "output of the wrong type": (
        dict(output=True),
        TypeError,
        "output: expected the name or index of one of the model's outputs, got bool",
    ),
    "token_grid for a 4-D layer": (
        dict(token_grid=(2, 2)),
        ValueError,
        "token_grid: expected None for layer 'conv_b', whose output is already a 4-D map, "
        "got (2, 2)",
    ),
    "preprocess of the wrong type": (
        dict(preprocess=3),
        TypeError,
        "preprocess: expected a function from images to model inputs, got int",
    ),
    "unknown preprocess name": (
        dict(preprocess="tf"),
        ValueError,
        "preprocess: expected a function, or 'model' for the model's own preprocessor, got 'tf'",
    ),
    "class ids mixed with score functions": (
        dict(targets=[1, ClassScore(2)]),
        ValueError,
        "targets: expected class ids or score functions, not a mix, got 2 targets, 1 of them "
        "functions",
    ),
    "score function past the output": (
        dict(targets=ClassScore(7)),
        ValueError,
        "class_id: expected an index below the output's 4 units, got 7",
    ),
    "output of an unhashable type": (
        dict(output={}),
        TypeError,
        "output: expected the name or index of one of the model's outputs, got dict",
    ),
    "layer of an unhashable type": (
        dict(layer={}),
        TypeError,
        "layer: expected None, a layer name, an index or a keras Layer, got dict",
    ),
    "unknown method": (
        dict(method="magic"),
        ValueError,
        f"method: expected one of {', '.join(map(repr, METHODS))} "
        "or a configured method, got 'magic'",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_argument_message(model, case):
    overrides, error, message = CASES[case]
    kwargs = {"x": GOOD, **overrides}
    before = builders.weights_of(model)
    with pytest.raises(error) as caught:
        ei.explain_prediction(model, **kwargs)
    assert str(caught.value) == message
    for old, new in zip(before, builders.weights_of(model), strict=True):
        np.testing.assert_array_equal(old, new)


def test_unknown_layer_name_lists_candidates(model):
    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(model, GOOD, layer="conv_c")
    assert str(caught.value) == (
        "layer: expected the name of a layer of model 'seq_dense_softmax', got 'conv_c'. "
        "Did you mean 'conv_b', 'conv_a'? Layers with a 4-D output: 'rescale', 'conv_a', "
        "'conv_b', 'pool'."
    )


def test_candidate_list_is_shortened_for_big_models():
    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3))
    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(model, np.zeros((96, 96, 3)), layer="nope")
    message = str(caught.value)
    assert re.search(
        r"Layers with a 4-D output \(last 10 of 1\d\d\): .*'Conv_1_bn', 'out_relu'\.$", message
    ), message


def _mlp():
    return keras.Sequential(
        [keras.Input((32, 32, 3)), layers.Flatten(), layers.Dense(3, activation="softmax")],
        name="mlp",
    )


def _unbuilt():
    return keras.Sequential([layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(2)], name="raw")


def _two_outputs():
    inputs = keras.Input((32, 32, 3))
    x = layers.Flatten()(layers.Conv2D(2, 3)(inputs))
    return keras.Model(
        inputs, [layers.Dense(2, name="first")(x), layers.Dense(3, name="second")(x)]
    )


BAD_MODELS = {
    "no usable map": (
        _mlp,
        ValueError,
        "model: expected a model with a convolutional 4-D feature map larger than 1x1 to "
        "explain, got 'mlp', which has none. Pass layer= to name a layer with a 4-D output.",
    ),
    "never built": (
        _unbuilt,
        ValueError,
        "model: expected a built model, got Sequential 'raw', which has never been built or "
        "called. Give it a keras.Input(...) first layer, or call it once on a batch of images.",
    ),
    "not a model": (
        lambda: "model.keras",
        TypeError,
        "model: expected a keras.Model (Keras 3) or a function from images to scores, got str. "
        "Load the file first: model = keras.saving.load_model('model.keras').",
    ),
    "two outputs without output=": (
        _two_outputs,
        ValueError,
        "output: expected the name or index of the output to explain, one of 'first', "
        "'second', got None, and the model has 2 outputs",
    ),
}


@pytest.mark.parametrize("case", BAD_MODELS, ids=list(BAD_MODELS))
def test_bad_model_message(case):
    build, error, message = BAD_MODELS[case]
    with pytest.raises(error) as caught:
        ei.explain_prediction(build(), GOOD)
    assert str(caught.value) == message


def test_model_built_by_calling_it_works():
    called = keras.Sequential(
        [layers.Conv2D(2, 3, name="conv"), layers.Flatten(), layers.Dense(2, activation="softmax")]
    )
    called(np.zeros((1, 32, 32, 3), "float32"))
    assert ei.explain_prediction(called, GOOD).layer == "conv"


def test_tensor_input_is_accepted_and_equals_array_input(model):
    from_array = ei.explain_prediction(model, GOOD, top=2)
    from_tensor = ei.explain_prediction(model, tf.constant(GOOD[np.newaxis]), top=2)
    assert from_array.targets == from_tensor.targets


# --- Score functions: what comes back is checked, before any gradient (issue 25) ------------

_ONE_PER_IMAGE = (
    "{name}: expected a score function returning one score per image, shape (batch,) or "
    "(batch, 1), got shape {shape}. Index or reduce every axis but the batch axis, e.g. "
    "output[:, 0] or keras.ops.mean(output, axis=1)."
)
_TRACED = (
    "{name}: expected a score function computed with keras.ops, got one that uses NumPy or "
    "Python on the output. Score functions are traced: the output they get is a tensor of the "
    "whole batch (symbolic on TensorFlow and JAX), which NumPy and Python loops cannot use. "
    "Write, e.g., keras.ops.mean(output[:, 3:5], axis=1) instead of np.mean(output[:, 3:5], "
    "axis=1), and output[:, 0] instead of [row[0] for row in output]."
)
_tensorflow_only = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="runs only on TensorFlow tensors"
)

SCORE_CASES = {
    "flattened: units scores per image": (
        lambda out: keras.ops.reshape(out, (-1,)),
        ValueError,
        _ONE_PER_IMAGE.replace("{shape}", "(batch * 4,)"),
    ),
    "tf.reshape(out, (-1,))": (
        lambda out: tf.reshape(out, (-1,)),
        ValueError,
        _ONE_PER_IMAGE.replace("{shape}", "(batch * 4,)"),
    ),
    "the first image's scores": (
        lambda out: out[0],
        ValueError,
        _ONE_PER_IMAGE.replace("{shape}", "(4,)"),
    ),
    "one score for the whole batch": (
        lambda out: keras.ops.sum(out),
        ValueError,
        _ONE_PER_IMAGE.replace("{shape}", "()"),
    ),
    "the whole output": (
        lambda out: out,
        ValueError,
        _ONE_PER_IMAGE.replace("{shape}", "(batch, 4)"),
    ),
    "None": (
        lambda out: None,
        TypeError,
        "{name}: expected a score function returning a tensor of one score per image, shape "
        "(batch,) or (batch, 1), got NoneType",
    ),
    "a Python number": (
        lambda out: 1.0,
        TypeError,
        "{name}: expected a score function returning a tensor of one score per image, shape "
        "(batch,) or (batch, 1), got float",
    ),
    "integer scores": (
        lambda out: keras.ops.argmax(out, axis=1),
        TypeError,
        "{name}: expected a score function returning float scores (an integer or boolean score "
        "has no gradient), got int32 scores",
    ),
    "a NumPy ufunc": (lambda out: np.exp(out[:, 0]), TypeError, _TRACED),
    "np.mean": (lambda out: np.mean(out[:, 1:3], axis=1), TypeError, _TRACED),
    "np.asarray": (lambda out: np.asarray(out)[:, 0], TypeError, _TRACED),
    "a list from a loop over the batch": (
        lambda out: [out[i, 0] for i in range(out.shape[0])],
        TypeError,
        _TRACED,
    ),
    "a tuple from iterating over the output": (
        lambda out: tuple(row[0] for row in out),
        TypeError,
        _TRACED,
    ),
    "float() of a score": (
        lambda out: keras.ops.stack([float(out[0, 0])]),
        TypeError,
        _TRACED,
    ),
}


# TensorFlow code needs TensorFlow tensors; np.mean falls back on the array's own mean, which
# JAX's traced arrays have (see test_np_mean_of_a_jax_tracer_is_the_arrays_own_mean).
_TENSORFLOW_ONLY = {"tf.reshape(out, (-1,))", "np.mean"}
_SCORE_PARAMS = [
    pytest.param(*row, id=name, marks=[_tensorflow_only] if name in _TENSORFLOW_ONLY else [])
    for name, row in SCORE_CASES.items()
]


@pytest.mark.parametrize("method", ["gradcam", "scorecam"])
@pytest.mark.parametrize(("function", "error", "message"), _SCORE_PARAMS)
def test_score_function_results_are_checked_for_one_image(model, function, error, message, method):
    with pytest.raises(error) as caught:
        ei.explain_prediction(model, GOOD, targets=function, method=method)
    assert str(caught.value) == message.replace("{name}", "targets[0]")


@pytest.mark.parametrize("method", ["gradcam", "scorecam"])
@pytest.mark.parametrize(("function", "error", "message"), _SCORE_PARAMS)
def test_score_function_results_are_checked_for_a_batch(model, function, error, message, method):
    targets = [ClassScore(1), function]
    with pytest.raises(error) as caught:
        list(ei.explain_predictions(model, _batch(3), batch_size=2, targets=targets, method=method))
    assert str(caught.value) == message.replace("{name}", "targets[1]")


def test_one_score_per_image_may_come_as_a_column(model):
    column = ei.explain_prediction(model, GOOD, targets=lambda out: out[:, 2:3])
    by_id = ei.explain_prediction(model, GOOD, targets=[2])
    np.testing.assert_allclose(column.targets[0].heatmap, by_id.targets[0].heatmap, atol=1e-6)
    assert column.targets[0].score == pytest.approx(by_id.targets[0].score, abs=1e-6)


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="np.mean falls back on jax's mean")
def test_np_mean_of_a_jax_tracer_is_the_arrays_own_mean(model):
    by_numpy = ei.explain_prediction(model, GOOD, targets=lambda out: np.mean(out[:, 1:3], axis=1))
    by_ops = ei.explain_prediction(model, GOOD, targets=lambda o: keras.ops.mean(o[:, 1:3], axis=1))
    assert by_numpy.targets[0].score == pytest.approx(by_ops.targets[0].score, abs=1e-6)


_NON_FINITE = (
    "The model produced non-finite values (NaN or inf) at layer 'conv_b' or in its scores for "
    "this image; no explanation made."
)


@pytest.mark.parametrize("method", ["gradcam", "scorecam"])
def test_a_non_finite_score_is_an_explanation_error_not_a_nan_map(model, method):
    with pytest.raises(ei.ExplanationError) as caught:
        ei.explain_prediction(model, GOOD, targets=lambda out: out[:, 0] * np.inf, method=method)
    assert str(caught.value) == _NON_FINITE


def test_a_non_finite_score_sets_the_error_of_that_image_only(model):
    explainer, images = ei.Explainer(model), _batch(3)
    scores = [e.targets[0].score for e in explainer.explain_batch(images, targets=[0])]
    lowest, cut = int(np.argmin(scores)), float(np.mean(sorted(scores)[:2]))

    def minus_inf_below_cut(out):
        return out[:, 0] + keras.ops.log(keras.ops.cast(out[:, 0] > cut, "float32"))

    expls = explainer.explain_batch(images, targets=minus_inf_below_cut)
    assert [e.error for e in expls] == [_NON_FINITE if i == lowest else None for i in range(3)]
    assert [len(e.targets) for e in expls] == [0 if i == lowest else 1 for i in range(3)]


# --- Image modes: every PIL mode is put in a standard 8-bit mode, nothing saturates ----------

MODES = {
    "CMYK": Image.new("CMYK", (40, 30), (10, 200, 30, 0)),
    "YCbCr": Image.new("YCbCr", (40, 30), (120, 90, 200)),
    "F": Image.fromarray(np.linspace(-1, 1, 1200, dtype=np.float32).reshape(30, 40)),
    "I": Image.fromarray(np.arange(1200, dtype=np.int32).reshape(30, 40) * 50),
    "I;16": Image.new("I;16", (40, 30), 65535),
    "P with transparency": Image.new("P", (40, 30), 3),
    "1": Image.new("1", (40, 30), 1),
    "LA": Image.new("LA", (40, 30), (200, 128)),
}
MODES["P with transparency"].info["transparency"] = 3


@pytest.mark.parametrize("mode", MODES, ids=list(MODES))
def test_every_image_mode_explains_and_formats(model, mode):
    picture = MODES[mode]
    expl = ei.explain_prediction(model, picture, top=2)
    assert expl.image.mode in STANDARD_MODES and expl.image.size == (40, 30)
    assert ei.format_as_html(expl).count("<img") == 3
    assert ei.format_as_dict(expl, include_image=True)["image"].startswith("data:image/png")
    assert ei.format_as_image(expl).size == (40, 30)
    assert ei.plot_explanation(expl)._repr_png_().startswith(b"\x89PNG")
    assert picture.mode == mode.split()[0]  # the user's picture is left as it was


def test_sixteen_bit_grey_is_scaled_not_saturated():
    ramp = np.array([[0, 257, 32896, 65535]], dtype=np.uint16)
    batch, _ = image_batch(Image.fromarray(ramp), (None, 1, 4, 1))
    assert batch[0, 0, :, 0].tolist() == [0.0, 1.0, 128.0, 255.0]


def test_big_display_image_is_drawn_a_stripe_at_a_time():
    # 3000x3000: drawn whole, its float arrays took over 700 MB (NumPy's memory is traced by
    # tracemalloc); drawn in stripes, a few tens. The stripes equal the overlay drawn whole.
    big = Image.new("RGB", (3000, 3000), (90, 60, 30))
    target = TargetExplanation(1, None, 1.0, None, np.random.default_rng(0).random((7, 7)))
    expl = Explanation(estimator="m", method="Grad-CAM", description="", targets=[target])
    expl = attrs.evolve(expl, image=big)
    tracemalloc.start()
    drawn = ei.format_as_image(expl)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * 2**20, peak
    small = Image.new("RGB", (300, 200), (90, 60, 30))
    whole = format_image.overlay(small, target.heatmap)
    with mock.patch.object(format_image, "STRIPE_PIXELS", 300 * 7):  # 7 rows per stripe
        striped = format_image.overlay(small, target.heatmap)
    np.testing.assert_array_equal(np.asarray(striped), np.asarray(whole))
    assert drawn.size == (3000, 3000)


# --- Empty and mismatched batches --------------------------------------------------------

BATCH_CASES = {
    "empty array to explain_batch": (
        lambda e: e.explain_batch(np.zeros((0, 32, 32, 3))),
        "xs: expected at least one image, got an empty batch, shape (0, 32, 32, 3)",
    ),
    "empty list to explain_batch": (
        lambda e: e.explain_batch([]),
        "xs: expected at least one image, got an empty list",
    ),
    "confidences of an empty array": (
        lambda e: e.confidences(np.zeros((0, 32, 32, 3))),
        "xs: expected at least one image, got no images",
    ),
    "confidences of an empty list": (
        lambda e: e.confidences([]),
        "xs: expected at least one image, got no images",
    ),
    "more target lists than images (array)": (
        lambda e: list(e.explain_stream(_batch(3), targets=[[0], [1], [2], [3]])),
        "targets: expected one list of class ids per image (3 images), got 4 lists",
    ),
    "fewer target lists than images (array)": (
        lambda e: list(e.explain_stream(_batch(3), targets=[[0], [1]])),
        "targets: expected one list of class ids per image (3 images), got 2 lists",
    ),
    "more target lists than images (generator)": (
        lambda e: list(e.explain_stream(iter(_batch(3)), batch_size=2, targets=[[0]] * 4)),
        "targets: expected one list of class ids per image (3 images), got 4 lists",
    ),
    "fewer target lists than images (generator)": (
        lambda e: list(e.explain_stream(iter(_batch(3)), batch_size=2, targets=[[0]] * 2)),
        "targets: expected one list of class ids per image (at least 3 images), got 2 lists",
    ),
    "more target lists than images (explain_batch)": (
        lambda e: e.explain_batch(_batch(2), targets=[[0], [1], [2]]),
        "targets: expected one list of class ids per image (2 images), got 3 lists",
    ),
    "class id out of range in one image's list": (
        lambda e: e.explain_batch(_batch(2), targets=[[0], [9]]),
        "targets[1]: expected class ids between 0 and 3 (the model has 4 classes), got 9",
    ),
}


def _batch(count: int) -> np.ndarray:
    return np.stack([builders.image(seed=i) for i in range(count)])


@pytest.mark.parametrize("case", BATCH_CASES, ids=list(BATCH_CASES))
def test_empty_and_mismatched_batches(model, case):
    call, message = BATCH_CASES[case]
    with pytest.raises(ValueError) as caught:
        call(ei.Explainer(model))
    assert str(caught.value) == message


# --- Hand-built objects are checked when they are made -----------------------------------

HEAT = np.ones((2, 2), dtype=np.float32)
TARGET_FIELDS = dict(target=1, target_name="cat", score=1.0, proba=0.5, heatmap=HEAT)
TARGET_CASES = {
    "NaN heatmap": (dict(heatmap=np.full((2, 2), np.nan)), ValueError,
                    "heatmap: expected a non-empty 2-D array of values in [0, 1], "
                    "got an array containing NaN or inf"),
    "heatmap above 1": (dict(heatmap=np.full((2, 2), 3.0)), ValueError,
                        "heatmap: expected a non-empty 2-D array of values in [0, 1], "
                        "got values from 3 to 3"),
    "1-D heatmap": (dict(heatmap=np.ones(3)), ValueError,
                    "heatmap: expected a non-empty 2-D array of values in [0, 1], "
                    "got shape (3,)"),
    "heatmap of strings": (dict(heatmap="hot"), TypeError,
                           "heatmap: expected a non-empty 2-D array of values in [0, 1], "
                           "got str"),
    "score None": (dict(score=None), TypeError,
                   "score: expected a finite number, got NoneType"),
    "score NaN": (dict(score=float("nan")), ValueError,
                  "score: expected a finite number, got nan"),
    "proba above 1": (dict(proba=1.5), ValueError,
                      "proba: expected a probability between 0 and 1, or None, got 1.5"),
    "target a string": (dict(target="1"), TypeError,
                        "target: expected a class id (an int of at least 0), got str"),
    "negative target": (dict(target=-2), ValueError,
                        "target: expected a class id (an int of at least 0), got -2"),
    "target_name a number": (dict(target_name=3), TypeError,
                             "target_name: expected a class name (str) or None, got int"),
}  # fmt: skip


@pytest.mark.parametrize("case", TARGET_CASES, ids=list(TARGET_CASES))
def test_target_explanation_checks_its_fields(case):
    overrides, error, message = TARGET_CASES[case]
    with pytest.raises(error) as caught:
        TargetExplanation(**{**TARGET_FIELDS, **overrides})
    assert str(caught.value) == message


GOOD_TARGET = TargetExplanation(**TARGET_FIELDS)
EXPL_FIELDS = dict(estimator="m", method="Grad-CAM", description="", targets=[GOOD_TARGET])
EXPL_CASES = {
    "targets of ints": (dict(targets=[1, 2]),
                        "targets[0]: expected a TargetExplanation, got int"),
    "targets not a list": (dict(targets=GOOD_TARGET),
                           "targets: expected a list of TargetExplanation, got TargetExplanation"),
    "image an array": (dict(image=np.zeros((4, 4, 3))),
                       "image: expected a PIL image or None, got ndarray"),
    "estimator None": (dict(estimator=None),
                       "estimator: expected the model's name (str), got NoneType"),
    "layer a number": (dict(layer=3), "layer: expected a layer path (str), got int"),
    "is_regression a string": (dict(is_regression="no"),
                               "is_regression: expected True or False, got str"),
    "error a number": (dict(error=1), "error: expected a message (str), got int"),
}  # fmt: skip


@pytest.mark.parametrize("case", EXPL_CASES, ids=list(EXPL_CASES))
def test_explanation_checks_its_fields(case):
    overrides, message = EXPL_CASES[case]
    with pytest.raises(TypeError) as caught:
        Explanation(**{**EXPL_FIELDS, **overrides})
    assert str(caught.value) == message


def _dict_without(*path: str | int) -> dict:
    data = ei.format_as_dict(Explanation(**EXPL_FIELDS))
    *parents, last = path
    node = data
    for key in parents:
        node = node[key]
    del node[last]
    return data


def _dict_with(value, *path: str | int) -> dict:
    data = ei.format_as_dict(Explanation(**EXPL_FIELDS))
    *parents, last = path
    node = data
    for key in parents:
        node = node[key]
    node[last] = value
    return data


FROM_DICT_CASES = {
    "no targets": (_dict_without("targets"), ValueError,
                   "data: expected a dict with the key 'targets' (as format_as_dict makes), "
                   "got one without"),
    "no estimator": (_dict_without("estimator"), ValueError,
                     "data: expected a dict with the key 'estimator' (as format_as_dict "
                     "makes), got one without"),
    "target without heatmap": (_dict_without("targets", 0, "heatmap"), ValueError,
                               "data['targets'][0]: expected a dict with the key 'heatmap' "
                               "(as format_as_dict makes), got one without"),
    "targets not a list": (_dict_with("x", "targets"), TypeError,
                           "data['targets']: expected a list of dicts, got str"),
    "target not a dict": (_dict_with(5, "targets", 0), TypeError,
                          "data['targets'][0]: expected a dict made by format_as_dict, got int"),
    "score None": (_dict_with(None, "targets", 0, "score"), TypeError,
                   "data['targets'][0]: score: expected a finite number, got NoneType"),
    "broken image": (_dict_with("data:image/png;base64,AAAA", "image"), ValueError,
                     "data['image']: expected a base64 PNG data URI, "
                     "got one that is not a readable PNG"),
}  # fmt: skip


@pytest.mark.parametrize("case", FROM_DICT_CASES, ids=list(FROM_DICT_CASES))
def test_explanation_from_dict_names_what_is_wrong(case):
    data, error, message = FROM_DICT_CASES[case]
    with pytest.raises(error) as caught:
        ei.explanation_from_dict(data)
    assert str(caught.value) == message


# --- Messages that name the real problem ------------------------------------------------


def test_formatting_an_explanation_without_targets_gives_its_error():
    failed = Explanation(
        estimator="m", method="Grad-CAM", description="", targets=[], error="NaN in the model"
    )
    failed = attrs.evolve(failed, image=Image.new("RGB", (8, 8)))
    with pytest.raises(ValueError) as caught:
        ei.format_as_image(failed)
    assert str(caught.value) == (
        "expl: expected an Explanation with targets, got one with none (its error: NaN in the "
        "model)"
    )


@pytest.mark.parametrize("method", ["saliency", "integrated_gradients"])
def test_input_gradient_method_on_a_model_without_image_input(method):
    mlp = keras.Sequential([keras.Input((12,)), layers.Dense(3, activation="softmax")])
    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(mlp, np.ones(12), method=method)
    assert str(caught.value) == (
        "model: expected a model whose input is a batch of images (batch, height, width, "
        "channels), got a model with input shape (None, 12)"
    )


def test_all_zero_heatmaps_set_error(model):
    # ReLU features of an all-black image through this model are zero: no heat anywhere
    zero = keras.Sequential(
        [keras.Input((8, 8, 3)), layers.Conv2D(2, 3, activation="relu", use_bias=False,
         name="conv"), layers.Flatten(), layers.Dense(2, activation="softmax")]
    )  # fmt: skip
    expl = ei.explain_prediction(zero, np.zeros((8, 8, 3)), top=2)
    assert [t.heatmap.any() for t in expl.targets] == [False, False]
    assert expl.error == (
        "Every heatmap is all zero: nothing at layer 'conv' speaks for these classes (try "
        "another layer or method)."
    )
    assert ei.explain_prediction(model, GOOD).error is None


def test_explainer_pickles_with_its_model(model):
    explainer = ei.Explainer(model, target_names=["a", "b", "c", "d"])
    copy = pickle.loads(pickle.dumps(explainer))
    assert copy.model is not model and copy.layer == explainer.layer == "conv_b"
    assert copy.target_names == ["a", "b", "c", "d"]
    assert copy.explain(GOOD, top=2) == explainer.explain(GOOD, top=2)
    expl = ei.explain_prediction(model, GOOD)
    assert pickle.loads(pickle.dumps(expl)) == expl


def test_image_file_paths_are_accepted(model, tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(GOOD.astype(np.uint8)).save(path)
    from_path = ei.explain_prediction(model, path)
    from_str = list(ei.explain_predictions(model, [str(path), path]))
    from_pil = ei.explain_prediction(model, Image.open(path))
    assert from_path.targets == from_pil.targets
    for streamed in from_str:
        np.testing.assert_allclose(
            streamed.targets[0].heatmap, from_pil.targets[0].heatmap, atol=1e-5
        )
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(ValueError, match=r"^x: expected .* got '.*notes.png', which cannot be"):
        ei.explain_prediction(model, tmp_path / "notes.png")


# --- Class names --------------------------------------------------------------------------


def test_none_class_name_means_unknown(model):
    expl = ei.explain_prediction(model, GOOD, targets=[0, 1], target_names=[None, "b", "c", "d"])
    assert [t.target_name for t in expl.targets] == [None, "b"]


def test_class_names_from_json_keep_their_names(model, tmp_path):
    # The layouts JSON gives: string keys, and Keras' imagenet_class_index.json pairs.
    path = tmp_path / "classes.json"
    path.write_text(json.dumps({"0": ["n01440764", "tench"], "1": "goldfish", "3": ["n3", "d"]}))
    names = json.loads(path.read_text())
    expl = ei.explain_prediction(model, GOOD, targets=[0, 1, 2, 3], target_names=names)
    assert [t.target_name for t in expl.targets] == ["tench", "goldfish", None, "d"]
    assert names["0"] == ["n01440764", "tench"]  # the user's dict is left as it came


@pytest.mark.parametrize("name", ["$\\frac{a}{$", "cost $5", "$x^2$"])
def test_dollar_in_a_class_name_is_plain_text_in_figures(name):
    target = TargetExplanation(1, name, 1.0, 0.5, HEAT)
    expl = Explanation(**{**EXPL_FIELDS, "targets": [target]})
    figure = ei.plot_explanation(attrs.evolve(expl, image=Image.new("RGB", (16, 16))))
    assert figure.axes[1].get_title() == f"1 {name}, p=0.500"
    assert figure._repr_png_().startswith(b"\x89PNG")


# --- Metrics arguments --------------------------------------------------------------------

METRIC_CASES = {
    "batch_size 0": (dict(batch_size=0), ValueError,
                     "batch_size: expected a positive integer, got 0"),
    "steps a float": (dict(steps=2.5), TypeError, "steps: expected a positive integer, got float"),
    "NaN baseline": (dict(baseline=float("nan")), ValueError,
                     "baseline: expected one of 'zeros', 'blur', 'mean' or a finite number, "
                     "got nan"),
    "array baseline": (dict(baseline=np.zeros(3)), TypeError,
                       "baseline: expected one of 'zeros', 'blur', 'mean' or a finite number, "
                       "got ndarray"),
    "unknown baseline": (dict(baseline="grey"), ValueError,
                         "baseline: expected one of 'zeros', 'blur', 'mean' or a finite number, "
                         "got 'grey'"),
    "class the model lacks": (dict(expl=Explanation(**{**EXPL_FIELDS, "targets": [
        TargetExplanation(9, None, 1.0, None, HEAT)]})), ValueError,
        "expl: expected an explanation of one of the model's 4 classes, got one of class 9"),
}  # fmt: skip


@pytest.mark.parametrize("curve", ["deletion", "insertion"])
@pytest.mark.parametrize("case", METRIC_CASES, ids=list(METRIC_CASES))
def test_curve_arguments(model, case, curve):
    overrides, error, message = METRIC_CASES[case]
    kwargs = {"expl": ei.explain_prediction(model, GOOD), "steps": 2, **overrides}
    with pytest.raises(error) as caught:
        getattr(ei.metrics, curve)(model, GOOD, **kwargs)
    assert str(caught.value) == message


AUC_CASES = {
    "lengths differ": (([0.0, 0.5, 1.0], [1.0, 0.0]), "values: expected one value per "
                       "fraction (3), got 2 values"),
    "NaN value": (([0.0, 1.0], [np.nan, 1.0]), "values: expected finite numbers, "
                  "got an array containing NaN or inf"),
    "one point": (([0.0], [1.0]), "fractions: expected a 1-D array of at least 2 numbers, "
                  "got ndarray of shape (1,)"),
}  # fmt: skip


@pytest.mark.parametrize("case", AUC_CASES, ids=list(AUC_CASES))
def test_auc_arguments(case):
    (fractions, values), message = AUC_CASES[case]
    with pytest.raises(ValueError) as caught:
        ei.metrics.auc(np.array(fractions), np.array(values))
    assert str(caught.value) == message


LOCALISATION_CASES = {
    "tolerance a string": (
        lambda: ei.metrics.pointing_game(HEAT, box=(0, 0, 3, 3), image_size=(8, 8), tolerance="5"),
        TypeError,
        "tolerance: expected a distance in pixels (a number >= 0), got str. Use tolerance=5.",
    ),
    "negative tolerance": (
        lambda: ei.metrics.pointing_game(HEAT, box=(0, 0, 3, 3), image_size=(8, 8), tolerance=-1),
        ValueError,
        "tolerance: expected a distance in pixels (a number >= 0), got -1.0",
    ),
    "spearman of two shapes": (
        lambda: ei.metrics.spearman(np.zeros((4, 4)), np.zeros((2, 8))),
        ValueError,
        "b: expected an array of the shape of a, (4, 4), got ndarray of shape (2, 8)",
    ),
    "spearman of NaN": (
        lambda: ei.metrics.spearman(np.full(3, np.nan), np.zeros(3)),
        ValueError,
        "a: expected finite numbers, got an array containing NaN or inf",
    ),
}


@pytest.mark.parametrize("case", LOCALISATION_CASES, ids=list(LOCALISATION_CASES))
def test_metric_helpers_name_their_arguments(case):
    call, error, message = LOCALISATION_CASES[case]
    with pytest.raises(error) as caught:
        call()
    assert str(caught.value) == message


def test_randomized_copy_needs_a_model_and_leaves_global_generators_alone(model):
    with pytest.raises(TypeError) as caught:
        ei.metrics.randomized_copy(None)
    assert str(caught.value) == "model: expected a keras.Model (Keras 3), got NoneType"
    random.seed(7)
    np.random.seed(7)
    first = ei.metrics.randomized_copy(model, seed=3)
    python_next, numpy_next = random.random(), np.random.random()
    random.seed(7)
    np.random.seed(7)
    assert (random.random(), np.random.random()) == (python_next, numpy_next)
    again = ei.metrics.randomized_copy(model, seed=3)
    for a, b in zip(builders.weights_of(first), builders.weights_of(again), strict=True):
        np.testing.assert_array_equal(a, b)
    random.seed(7)
    np.random.seed(7)
    ei.metrics.randomization_check(model, GOOD)
    assert (random.random(), np.random.random()) == (python_next, numpy_next)


@pytest.mark.parametrize(
    ("options", "where"), [({"layer": "conv"}, "layer 'conv'"), ({"method": "saliency"}, "")]
)
def test_a_score_cut_off_by_stop_gradient_is_reported_not_wrapped(options, where):
    inputs = keras.Input((16, 16, 3))
    conv = layers.Conv2D(2, 3, name="conv")(inputs)
    cut = layers.Lambda(lambda t: keras.ops.stop_gradient(t))(conv)
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(layers.Flatten()(cut)))
    x = np.ones((16, 16, 3), np.float32)
    if keras.backend.backend() == "jax":
        # JAX differentiates through stop_gradient to zeros: the maps say so instead.
        expl = ei.explain_prediction(model, x, **options)
        assert expl.error.startswith("Every heatmap is all zero")
        return
    with pytest.raises(ei.ExplanationError) as caught:
        ei.explain_prediction(model, x, **options)
    assert str(caught.value) == (f"The model's output does not depend on {where or 'its input'}.")


# --- ExplainCallback (issue 24): checked when it is made, before fit spends an epoch ---------

_CALLBACK_IMAGES = np.zeros((2, 32, 32, 3), np.float32)
_FOR_ALL = "one class id per image (2), one id for all, or None"
CALLBACK_CASES = {
    "images of rank 2": (
        dict(images=np.zeros((32, 32))),
        ValueError,
        "images: expected images of shape (B, H, W, C) or (H, W, C), got ndarray of shape (32, 32)",
    ),
    "images None": (
        dict(images=None),
        TypeError,
        "images: expected an image array, tensor, PIL image or image file path, got NoneType",
    ),
    "images a missing folder": (
        dict(images="photos/"),
        ValueError,
        "images: expected an image array, tensor, PIL image or image file path, got "
        "'photos/', which is not a file",
    ),
    "every 0": (dict(every=0), ValueError, "every: expected a positive integer, got 0"),
    "every 1.5": (dict(every=1.5), TypeError, "every: expected a positive integer, got float"),
    "neither log_dir nor html": (
        dict(html=None),
        ValueError,
        "log_dir: expected a folder for TensorBoard event files, or html= the path of a page: "
        "at least one of them, got log_dir=None and html=None",
    ),
    "one box for two images": (
        dict(boxes=[(0, 0, 4, 4)]),
        ValueError,
        "boxes: expected one box per image (2), got 1 boxes",
    ),
    "a box outside the image": (
        dict(boxes=[(0, 0, 4, 4), (0, 0, 40, 40)]),
        ValueError,
        "boxes[1]: expected (top, left, bottom, right) inside a 32x32 image, got (0, 0, 40, 40)",
    ),
    "three class ids for two images": (
        dict(targets=[0, 1, 2]),
        ValueError,
        f"targets: expected {_FOR_ALL}, got 3 class ids",
    ),
    "one-hot labels as targets": (
        dict(targets=np.eye(2)),
        TypeError,
        f"targets: expected {_FOR_ALL}, got ndarray of shape (2, 2) and dtype float64. "
        "For one-hot labels pass labels.argmax(axis=1).",
    ),
    "deletion_auc a string": (
        dict(deletion_auc="yes"),
        TypeError,
        "deletion_auc: expected True or False, got str",
    ),
}


@pytest.mark.parametrize("case", CALLBACK_CASES, ids=list(CALLBACK_CASES))
def test_bad_callback_argument_message(case, tmp_path):
    from explainimg.callbacks import ExplainCallback

    overrides, error, message = CALLBACK_CASES[case]
    options = {"images": _CALLBACK_IMAGES, "html": tmp_path / "page.html", **overrides}
    with pytest.raises(error) as caught:
        ExplainCallback(options.pop("images"), **options)
    assert str(caught.value) == message


def cli_layout(root: Path) -> None:
    """Files for :data:`CLI_CASES`: a zip named model.keras (enough for the checks made
    before Keras loads), class subfolders, an empty folder, a finished-looking run."""
    with zipfile.ZipFile(root / "model.keras", "w") as archive:
        archive.writestr("config.json", "{}")
    for name in ("photos/cat/a.png", "photos/dog/b.png", "other/a.png"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 8)).save(root / name)
    (root / "empty").mkdir()
    (root / "used").mkdir()
    (root / "used" / "results.jsonl").write_text("")


_SUFFIXES = ".bmp, .gif, .jpeg, .jpg, .png, .tif, .tiff, .webp"
CLI_CASES = {
    "a mistyped folder": (
        ["{root}/photoz"],
        "images: expected image files or folders of images, got '{root}/photoz', which does "
        "not exist",
    ),
    "an empty folder": (
        ["{root}/empty"],
        f"images: expected image files ({_SUFFIXES}) in '{{root}}/empty' or its subfolders, "
        "got none",
    ),
    "two images of one name": (
        ["{root}/photos/cat/a.png", "{root}/other/a.png"],
        "images: expected images of different names (a file's name, or its path inside the "
        "folder given), got '{root}/photos/cat/a.png' and '{root}/other/a.png', both named "
        "'a.png'. Give the folder that holds both instead.",
    ),
    "--batch-size 0": (
        ["{root}/photos", "--batch-size", "0"],
        "--batch-size: expected a positive integer, got 0",
    ),
    "--top 0": (["{root}/photos", "--top", "0"], "--top: expected a positive integer, got 0"),
    "--smooth with an input method": (
        ["{root}/photos", "--method", "saliency", "--smooth", "eigen"],
        "--smooth: expected a CAM --method with it ("
        + ", ".join(key for key, cls in METHODS.items() if cls.smoothings)
        + "), got --method saliency",
    ),
    "--names of a missing file": (
        ["{root}/photos", "--names", "{root}/missing.txt"],
        "--names: expected a text file of class names, one per line, or 'imagenet', got "
        "'{root}/missing.txt', which is not a file",
    ),
    "--labels folders named by class names, no --names": (
        ["{root}/photos", "--labels", "folders"],
        "--labels folders ({root}/photos/cat/a.png): expected a folder named by a class id, or "
        "class names with --names, got the folder name 'cat' and no --names. Give --names FILE "
        "(one class name per line, in the model's class order) to map folder names to class "
        "ids.",
    ),
    "--labels with --out": (
        ["{root}/photos", "--labels", "folders", "--out", "{root}/run"],
        "--out: expected no --labels: an audit is not written as a resumable run folder (its "
        "report needs every image's explanation at once); write it with --html FILE, got "
        "--labels folders",
    ),
    "--resume of a folder without a run": (
        ["{root}/photos", "--out", "{root}/empty", "--resume"],
        "--resume: expected an --out folder of an earlier run, got '{root}/empty', which holds "
        "no run (manifest.json is missing)",
    ),
    "--out of a folder in use": (
        ["{root}/photos", "--out", "{root}/used"],
        "--out: expected a new or empty folder (--resume continues a run), got '{root}/used', "
        "which is not an empty folder",
    ),
}
"""``explainimg explain {root}/model.keras ARGS`` -> its message (exit code 2), all found
before Keras loads (``tests/test_cli_runs.py`` checks that in a fresh process)."""


@pytest.mark.parametrize("case", CLI_CASES, ids=list(CLI_CASES))
def test_command_line_argument_message(tmp_path, capsys, case):
    from explainimg.cli import main

    cli_layout(tmp_path)
    arguments, message = CLI_CASES[case]
    argv = ["explain", f"{tmp_path}/model.keras", *(a.format(root=tmp_path) for a in arguments)]
    assert main(argv) == 2
    assert capsys.readouterr().err == f"explainimg explain: {message.format(root=tmp_path)}\n"
