"""Every bad input gets a clear error naming the argument (issue test 5), and nothing changes."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

import explainimg as ei
from tests import builders


@pytest.fixture(scope="module")
def model() -> keras.Model:
    return builders.sequential_dense_softmax()


GOOD = builders.image(seed=1)

CASES = {
    "x of rank 2": (
        dict(x=np.zeros((32, 32))),
        ValueError,
        "x: expected one image of shape (H, W, C) or (1, H, W, C), got ndarray of shape (32, 32)",
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
        "shape (1, 32, 32, 1)",
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
        "targets: expected a list of class ids, got str",
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
        ValueError,
        "targets: expected integer class ids, got [1.5]",
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
    "unknown method": (
        dict(method="magic"),
        ValueError,
        "method: expected one of 'gradcam', 'gradcam++', 'layercam', 'scorecam', 'saliency', "
        "'smoothgrad', 'integrated_gradients', 'guided_gradcam' or a configured method, "
        "got 'magic'",
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


def _subclassed():
    class Custom(keras.Model):
        def __init__(self):
            super().__init__(name="custom")
            self.conv = layers.Conv2D(2, 3)
            self.flat = layers.Flatten()

        def call(self, x):
            return self.flat(self.conv(x))

    custom = Custom()
    custom(np.zeros((1, 32, 32, 3), "float32"))
    return custom


def _two_outputs():
    inputs = keras.Input((32, 32, 3))
    x = layers.Flatten()(layers.Conv2D(2, 3)(inputs))
    return keras.Model(inputs, [layers.Dense(2)(x), layers.Dense(3)(x)])


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
        lambda: lambda x: x,
        TypeError,
        "model: expected a keras.Model (Keras 3), got function",
    ),
    "subclassed": (
        _subclassed,
        ValueError,
        "model: expected a Sequential or Functional keras.Model whose layers can be walked, "
        "got a subclassed model 'Custom' without a layer graph. Wrap its layers in "
        "keras.Sequential or the functional API to explain it.",
    ),
    "two outputs": (
        _two_outputs,
        ValueError,
        "model: expected a model with one output, got a model with 2 outputs",
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
