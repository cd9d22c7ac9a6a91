"""The EfficientNet-Lite0 architecture in Keras 3, as in TensorFlow's efficientnet-lite builder.

Lite differs from EfficientNet-B0 in ways that make it friendlier to phones and quantisation:
no squeeze-and-excite, ReLU6 instead of swish, and a stem and head that are never rescaled.
At width = depth = 1.0 the blocks are B0's (:data:`LITE0_STAGES`). The model takes raw RGB
in 0..255 and normalises inside, ``(x - 127) / 128``, and ends in a softmax over the 1000
ImageNet-1k classes.

Convolutions with stride 2 are padded explicitly like TensorFlow's ``"SAME"`` (the extra row
and column go after, not before), which is what the original weights were trained with, so
the model gives the same answers on every Keras backend.

>>> model = efficientnet_lite0_architecture()
>>> model.input_shape, model.output_shape
((None, 224, 224, 3), (None, 1000))
>>> [spec.name for spec in lite0_blocks()][:4]
['block1a', 'block2a', 'block2b', 'block3a']
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import keras

IMAGE_SIZE = 224
NUM_CLASSES = 1000
STEM_FILTERS = 32
HEAD_FILTERS = 1280
DROPOUT_RATE = 0.2
BATCH_NORM_EPSILON = 1e-3
INPUT_MEAN = 127.0
INPUT_STD = 128.0


@dataclass(frozen=True)
class Stage:
    """One row of the builder's block table: ``repeats`` blocks of the same kind."""

    repeats: int
    kernel_size: int
    stride: int
    expand_ratio: int
    in_channels: int
    out_channels: int


# The official table for width = depth = 1.0 ("r1_k3_s11_e1_i32_o16", ...), without "se0.25".
LITE0_STAGES: tuple[Stage, ...] = (
    Stage(repeats=1, kernel_size=3, stride=1, expand_ratio=1, in_channels=32, out_channels=16),
    Stage(repeats=2, kernel_size=3, stride=2, expand_ratio=6, in_channels=16, out_channels=24),
    Stage(repeats=2, kernel_size=5, stride=2, expand_ratio=6, in_channels=24, out_channels=40),
    Stage(repeats=3, kernel_size=3, stride=2, expand_ratio=6, in_channels=40, out_channels=80),
    Stage(repeats=3, kernel_size=5, stride=1, expand_ratio=6, in_channels=80, out_channels=112),
    Stage(repeats=4, kernel_size=5, stride=2, expand_ratio=6, in_channels=112, out_channels=192),
    Stage(repeats=1, kernel_size=3, stride=1, expand_ratio=6, in_channels=192, out_channels=320),
)


@dataclass(frozen=True)
class BlockSpec:
    """One MBConv block: its Keras name prefix (``block3b``) and its shape."""

    name: str
    kernel_size: int
    stride: int
    expand_ratio: int
    in_channels: int
    out_channels: int

    @property
    def expanded_channels(self) -> int:
        return self.in_channels * self.expand_ratio

    @property
    def has_skip(self) -> bool:
        return self.stride == 1 and self.in_channels == self.out_channels


def lite0_blocks(stages: tuple[Stage, ...] = LITE0_STAGES) -> list[BlockSpec]:
    """The 16 blocks in running order; only a stage's first block strides or changes width."""
    blocks = []
    for stage_number, stage in enumerate(stages, start=1):
        for repeat in range(stage.repeats):
            blocks.append(
                BlockSpec(
                    name=f"block{stage_number}{string.ascii_lowercase[repeat]}",
                    kernel_size=stage.kernel_size,
                    stride=stage.stride if repeat == 0 else 1,
                    expand_ratio=stage.expand_ratio,
                    in_channels=stage.in_channels if repeat == 0 else stage.out_channels,
                    out_channels=stage.out_channels,
                )
            )
    return blocks


def tf_same_padding(size: int, kernel_size: int, stride: int) -> tuple[int, int]:
    """TensorFlow's ``"SAME"`` padding (before, after) along one axis of length ``size``.

    >>> tf_same_padding(224, 3, 2), tf_same_padding(56, 5, 2), tf_same_padding(7, 3, 1)
    ((0, 1), (1, 2), (1, 1))
    """
    out_size = -(-size // stride)
    total = max((out_size - 1) * stride + kernel_size - size, 0)
    return total // 2, total - total // 2


def _strided_conv_input(x: keras.KerasTensor, kernel_size: int, stride: int, name: str):
    """Pad ``x`` like TF "SAME" ahead of a "valid" strided convolution (stride 1: unchanged)."""
    if stride == 1:
        return x
    height, width = int(x.shape[1]), int(x.shape[2])
    padding = (
        tf_same_padding(height, kernel_size, stride),
        tf_same_padding(width, kernel_size, stride),
    )
    return keras.layers.ZeroPadding2D(padding, name=f"{name}_pad")(x)


def _batch_norm(name: str) -> keras.layers.BatchNormalization:
    return keras.layers.BatchNormalization(epsilon=BATCH_NORM_EPSILON, name=name)


def _relu6(name: str) -> keras.layers.ReLU:
    return keras.layers.ReLU(max_value=6.0, name=name)


def mbconv_block(x: keras.KerasTensor, spec: BlockSpec) -> keras.KerasTensor:
    """Expand 1x1 -> depthwise kxk -> project 1x1, with BN and ReLU6, no squeeze-excite."""
    inputs = x
    if spec.expand_ratio != 1:
        x = keras.layers.Conv2D(
            spec.expanded_channels, 1, use_bias=False, name=f"{spec.name}_expand_conv"
        )(x)
        x = _batch_norm(f"{spec.name}_expand_bn")(x)
        x = _relu6(f"{spec.name}_expand_activation")(x)
    x = _strided_conv_input(x, spec.kernel_size, spec.stride, f"{spec.name}_dwconv")
    x = keras.layers.DepthwiseConv2D(
        spec.kernel_size,
        strides=spec.stride,
        padding="same" if spec.stride == 1 else "valid",
        use_bias=False,
        name=f"{spec.name}_dwconv",
    )(x)
    x = _batch_norm(f"{spec.name}_bn")(x)
    x = _relu6(f"{spec.name}_activation")(x)
    x = keras.layers.Conv2D(spec.out_channels, 1, use_bias=False, name=f"{spec.name}_project_conv")(
        x
    )
    x = _batch_norm(f"{spec.name}_project_bn")(x)
    if spec.has_skip:
        x = keras.layers.Add(name=f"{spec.name}_add")([x, inputs])
    return x


def efficientnet_lite0_architecture() -> keras.Model:
    """EfficientNet-Lite0 with fresh (random) weights; raw 0..255 RGB in, softmax out.

    Layer names follow ``keras.applications.EfficientNetB0`` (``stem_conv``, ``block3b_dwconv``,
    ``top_conv``, ``top_activation``, ``predictions``). Load the real weights with
    :func:`explainimg.demo.zoo.torch_weights.assign_torch_weights`.
    """
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3), name="image")
    x = keras.layers.Rescaling(1.0 / INPUT_STD, offset=-INPUT_MEAN / INPUT_STD, name="rescaling")(
        inputs
    )
    x = _strided_conv_input(x, 3, 2, "stem_conv")
    x = keras.layers.Conv2D(
        STEM_FILTERS, 3, strides=2, padding="valid", use_bias=False, name="stem_conv"
    )(x)
    x = _batch_norm("stem_bn")(x)
    x = _relu6("stem_activation")(x)
    for spec in lite0_blocks():
        x = mbconv_block(x, spec)
    x = keras.layers.Conv2D(HEAD_FILTERS, 1, use_bias=False, name="top_conv")(x)
    x = _batch_norm("top_bn")(x)
    x = _relu6("top_activation")(x)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = keras.layers.Dropout(DROPOUT_RATE, name="top_dropout")(x)
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="efficientnet_lite0")
