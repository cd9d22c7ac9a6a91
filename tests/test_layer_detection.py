"""Automatic layer choice on real architectures and nested models (issue test 3).

Recorded picks: MobileNetV2 -> out_relu, ResNet50 -> conv5_block3_out, VGG16 -> block5_conv3,
Xception -> block14_sepconv2_act, DenseNet121 -> relu, EfficientNetB0 -> top_activation,
NASNetMobile -> the final ReLU before global pooling, MobileNetV3Small -> the activation after
Conv_1 (never its 1x1 maps after pooling).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

import explainimg as ei
from explainimg.engine.layers import find_layer

pytestmark = pytest.mark.core

APPLICATIONS = {
    "MobileNetV2": ("mobilenet_v2", "MobileNetV2", "out_relu"),
    "ResNet50": ("resnet", "ResNet50", "conv5_block3_out"),
    "VGG16": ("vgg16", "VGG16", "block5_conv3"),
    "Xception": ("xception", "Xception", "block14_sepconv2_act"),
    "DenseNet121": ("densenet", "DenseNet121", "relu"),
    "EfficientNetB0": ("efficientnet", "EfficientNetB0", "top_activation"),
}


def _global_pool_input(model: keras.Model):
    """The input of the last global pooling layer (the head's; SE blocks pool earlier)."""
    pools = [
        layer
        for layer in model.layers
        if isinstance(layer, (layers.GlobalAveragePooling2D, layers.GlobalMaxPooling2D))
    ]
    return pools[-1].input


@pytest.mark.slow
@pytest.mark.parametrize("name", APPLICATIONS)
def test_named_pick_on_keras_applications(name):
    _, constructor, expected = APPLICATIONS[name]
    model = getattr(keras.applications, constructor)(weights=None)
    ref = find_layer(model)
    assert ref.path == expected
    assert ref.output_shape[1] > 1 and ref.output_shape[2] > 1


@pytest.mark.slow
def test_nasnet_mobile_picks_the_map_feeding_global_pooling():
    model = keras.applications.NASNetMobile(weights=None)
    ref = find_layer(model)
    assert ref.layer.output is _global_pool_input(model)
    assert isinstance(ref.layer, layers.Activation)
    assert ref.output_shape == (None, 7, 7, 1056)


@pytest.mark.slow
@pytest.mark.parametrize("input_shape", [None, (224, 224, 3)], ids=["any-size", "224"])
def test_mobilenet_v3_never_picks_a_1x1_map(input_shape):
    model = keras.applications.MobileNetV3Small(
        weights=None, include_preprocessing=False, input_shape=input_shape
    )
    ref = find_layer(model)
    expected_spatial = (None, None) if input_shape is None else (7, 7)
    assert ref.output_shape[1:3] == expected_spatial
    assert ref.layer.output is _global_pool_input(model)
    assert ref.layer.name.lower() not in ("conv_2", "logits")


def _nested_sequential(base: keras.Model, size: int) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((size, size, 3)),
            layers.Rescaling(1 / 127.5, offset=-1),
            base,
            layers.GlobalAveragePooling2D(),
            layers.Dropout(0.2),
            layers.Dense(3, activation="softmax"),
        ]
    )


def _nested_functional(base: keras.Model, size: int) -> keras.Model:
    inputs = keras.Input((size, size, 3))
    outputs = layers.Dense(3, activation="softmax")(layers.GlobalAveragePooling2D()(base(inputs)))
    return keras.Model(inputs, outputs)


@pytest.mark.slow
@pytest.mark.parametrize("wrap", [_nested_sequential, _nested_functional], ids=["seq", "fn"])
def test_nested_transfer_learning_models(wrap):
    base = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(96, 96, 3))
    model = wrap(base, 96)
    assert find_layer(model).path == f"{base.name}/out_relu"
    x = np.random.default_rng(0).uniform(0, 255, (96, 96, 3)).astype("float32")
    expl = ei.explain_prediction(model, x, top=3)
    assert expl.layer == "mobilenetv2_1.00_96/out_relu"
    for target in expl.targets:
        assert target.heatmap.shape == (3, 3)
        assert np.isfinite(target.heatmap).all()
        assert target.heatmap.min() >= 0.0 and target.heatmap.max() <= 1.0
    assert sum(t.proba for t in expl.targets) == pytest.approx(1.0, abs=1e-5)


def test_rule_skips_pooling_dropout_and_picks_after_normalisation():
    model = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            layers.Rescaling(1 / 255.0),
            layers.Conv2D(4, 3, name="conv"),
            layers.BatchNormalization(name="bn"),
            layers.Activation("relu", name="act"),
            layers.SpatialDropout2D(0.1),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(2),
        ]
    )
    assert find_layer(model).path == "act"


def test_preprocessing_maps_before_any_convolution_are_not_candidates():
    model = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            layers.Rescaling(1 / 255.0, name="rescale"),
            layers.Flatten(),
            layers.Dense(2),
        ],
        name="mlp",
    )
    with pytest.raises(ValueError, match=r"^model: expected a model with a convolutional 4-D"):
        find_layer(model)
