"""Tiny KerasHub image classifiers with random weights, one per family.

Every builder makes a backbone from a deliberately small config (few stages,
few blocks, few channels), wraps it in the family's
``keras_hub.models.<Family>ImageClassifier(backbone=..., num_classes=4,
preprocessor=None)``, and returns it built (it has been called once on
zeros). Nothing is downloaded: no presets are used, only constructor
arguments, so the builders work offline. Each builder seeds Keras
(``keras.utils.set_random_seed``) first, so the weights are deterministic for a
given backend.

``keras_hub`` is imported inside the builders, never at module level, so this
module imports fine without it. Tests that use the builders should guard with
``pytest.importorskip("keras_hub")`` at the use site.

Input sizes (height, width, 3), see ``INPUT_SIZES``:

=============  =====  ==================================================
family         size   why
=============  =====  ==================================================
resnet         32     stem /4, two stacks /1 /2 -> 4x4 map
vgg            32     two pooled blocks -> 8x8 map; the head's 7x7 valid
                      conv (fc1) needs >= 7x7, its output is 2x2
densenet       32     stem /4, one transition /2 -> 4x4 map
efficientnet   32     stem /2, stacks /1 /2 -> 8x8 map
mobilenet      32     stem /2, depthwise /2, blocks /2 /1 -> 4x4 map
cspnet         32     stem /2 (same), dark stages /2 /2 -> 5x5 map
xception       32     valid 3x3 stem /2, pooled blocks -> 4x4 map
hgnetv2        32     stem /4, stages /1 /2 -> 4x4 map
vit            32     patch 8 -> 4x4 = 16 patch tokens + 1 class token
deit           32     patch 8 -> 16 patch tokens + class + distillation
swin           32     patch 4 -> 8x8 tokens, window 4, merge -> 4x4 tokens
mit            32     stride 4 then 2 -> 8x8 then 4x4 map
=============  =====  ==================================================
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

NUM_CLASSES = 4
SEED = 0

INPUT_SIZES: dict[str, tuple[int, int]] = {
    "resnet": (32, 32),
    "vgg": (32, 32),
    "densenet": (32, 32),
    "efficientnet": (32, 32),
    "mobilenet": (32, 32),
    "cspnet": (32, 32),
    "xception": (32, 32),
    "hgnetv2": (32, 32),
    "vit": (32, 32),
    "deit": (32, 32),
    "swin": (32, 32),
    "mit": (32, 32),
}


def input_size(name: str) -> tuple[int, int]:
    """The (height, width) a family's tiny classifier takes."""
    return INPUT_SIZES[name]


def _shape(name: str) -> tuple[int, int, int]:
    h, w = INPUT_SIZES[name]
    return (h, w, 3)


def _built(model: keras.Model, name: str) -> keras.Model:
    h, w = INPUT_SIZES[name]
    model(np.zeros((1, h, w, 3), dtype="float32"))
    return model


def resnet() -> keras.Model:
    import keras_hub

    keras.utils.set_random_seed(SEED)
    backbone = keras_hub.models.ResNetBackbone(
        # The first stack must have 64 filters (checked), and a basic block
        # there has an identity shortcut, so the stem needs 64 filters too.
        input_conv_filters=[64],
        input_conv_kernel_sizes=[3],
        stackwise_num_filters=[64, 16],
        stackwise_num_blocks=[1, 1],
        stackwise_num_strides=[1, 2],
        block_type="basic_block",
        use_pre_activation=False,
        image_shape=_shape("resnet"),
    )
    model = keras_hub.models.ResNetImageClassifier(
        backbone=backbone, num_classes=NUM_CLASSES, preprocessor=None
    )
    return _built(model, "resnet")


def vgg() -> keras.Model:
    import keras_hub

    keras.utils.set_random_seed(SEED)
    backbone = keras_hub.models.VGGBackbone(
        stackwise_num_repeats=[1, 1],
        stackwise_num_filters=[8, 16],
        image_shape=_shape("vgg"),
    )
    model = keras_hub.models.VGGImageClassifier(
        backbone=backbone,
        num_classes=NUM_CLASSES,
        preprocessor=None,
        pooling="avg",
        pooling_hidden_dim=16,
    )
    return _built(model, "vgg")


def densenet() -> keras.Model:
    import keras_hub

    keras.utils.set_random_seed(SEED)
    backbone = keras_hub.models.DenseNetBackbone(
        stackwise_num_repeats=[1, 1],
        growth_rate=4,
        compression_ratio=0.5,
        image_shape=_shape("densenet"),
    )
    model = keras_hub.models.DenseNetImageClassifier(
        backbone=backbone, num_classes=NUM_CLASSES, preprocessor=None
    )
    return _built(model, "densenet")


def efficientnet() -> keras.Model:
    import keras_hub

    keras.utils.set_random_seed(SEED)
    backbone = keras_hub.models.EfficientNetBackbone(
        stackwise_width_coefficients=[1.0, 1.0],
        stackwise_depth_coefficients=[1.0, 1.0],
        stackwise_kernel_sizes=[3, 3],
        stackwise_num_repeats=[1, 1],
        stackwise_input_filters=[8, 8],
        stackwise_output_filters=[8, 16],
        stackwise_expansion_ratios=[1, 2],
        stackwise_squeeze_and_excite_ratios=[0.0, 0.25],
        stackwise_strides=[1, 2],
        stackwise_block_types=["fused", "unfused"],
        stackwise_force_input_filters=[0, 0],
        stackwise_nores_option=[False, False],
        num_features=16,
        dropout=0.0,
        input_shape=_shape("efficientnet"),
    )
    model = keras_hub.models.EfficientNetImageClassifier(
        backbone=backbone, num_classes=NUM_CLASSES, preprocessor=None
    )
    return _built(model, "efficientnet")


def mobilenet() -> keras.Model:
    import keras_hub

    keras.utils.set_random_seed(SEED)
    backbone = keras_hub.models.MobileNetBackbone(
        stackwise_expansion=[[16], [24]],
        stackwise_num_blocks=[1, 1],
        stackwise_num_filters=[[8], [16]],
        stackwise_kernel_size=[[3], [3]],
        stackwise_num_strides=[[2], [1]],
        stackwise_se_ratio=[[None], [0.25]],
        stackwise_activation=[["relu"], ["hard_swish"]],
        stackwise_padding=[[1], [1]],
        output_num_filters=16,
        depthwise_filters=8,
        depthwise_stride=2,
        depthwise_residual=False,
        last_layer_filter=16,
        squeeze_and_excite=0.5,
        input_num_filters=8,
        image_shape=_shape("mobilenet"),
    )
    model = keras_hub.models.MobileNetImageClassifier(
        backbone=backbone,
        num_classes=NUM_CLASSES,
        num_features=16,
        preprocessor=None,
    )
    return _built(model, "mobilenet")


def cspnet() -> keras.Model:
    import keras_hub

    keras.utils.set_random_seed(SEED)
    backbone = keras_hub.models.CSPNetBackbone(
        stem_filters=8,
        stem_kernel_size=3,
        stem_strides=2,
        stem_padding="same",
        stackwise_depth=[1, 1],
        stackwise_strides=[2, 2],
        stackwise_num_filters=[8, 16],
        block_type="dark_block",
        # "dark" stages (DarkNet); the tiny "csp"/"cs3" configs tried hit
        # channel mismatches in keras_hub's stage builder.
        stage_type="dark",
        image_shape=_shape("cspnet"),
    )
    model = keras_hub.models.CSPNetImageClassifier(
        backbone=backbone, num_classes=NUM_CLASSES, preprocessor=None
    )
    return _built(model, "cspnet")


def xception() -> keras.Model:
    import keras_hub

    keras.utils.set_random_seed(SEED)
    backbone = keras_hub.models.XceptionBackbone(
        stackwise_conv_filters=[[8, 8], [16, 16], [32, 32], [32, 32]],
        stackwise_pooling=[False, True, True, False],
        image_shape=_shape("xception"),
    )
    model = keras_hub.models.XceptionImageClassifier(
        backbone=backbone, num_classes=NUM_CLASSES, preprocessor=None
    )
    return _built(model, "xception")


def hgnetv2() -> keras.Model:
    import keras_hub

    keras.utils.set_random_seed(SEED)
    backbone = keras_hub.models.HGNetV2Backbone(
        depths=[1, 1],
        embedding_size=8,
        hidden_sizes=[16, 32],
        stem_channels=[3, 8, 8],
        hidden_act="relu",
        use_learnable_affine_block=False,
        stackwise_stage_filters=[
            (8, 8, 16, 1, 1, 3),
            (16, 8, 32, 1, 1, 3),
        ],
        apply_downsample=[False, True],
        use_lightweight_conv_block=[False, False],
        image_shape=_shape("hgnetv2"),
    )
    model = keras_hub.models.HGNetV2ImageClassifier(
        backbone=backbone,
        num_classes=NUM_CLASSES,
        preprocessor=None,
        head_filters=16,
    )
    return _built(model, "hgnetv2")


def vit() -> keras.Model:
    import keras_hub

    keras.utils.set_random_seed(SEED)
    backbone = keras_hub.models.ViTBackbone(
        image_shape=_shape("vit"),
        patch_size=8,
        num_layers=2,
        num_heads=2,
        hidden_dim=16,
        mlp_dim=32,
    )
    model = keras_hub.models.ViTImageClassifier(
        backbone=backbone, num_classes=NUM_CLASSES, preprocessor=None
    )
    return _built(model, "vit")


def deit() -> keras.Model:
    import keras_hub

    keras.utils.set_random_seed(SEED)
    backbone = keras_hub.models.DeiTBackbone(
        image_shape=_shape("deit"),
        patch_size=8,
        num_layers=2,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
    )
    model = keras_hub.models.DeiTImageClassifier(
        backbone=backbone, num_classes=NUM_CLASSES, preprocessor=None
    )
    return _built(model, "deit")


def swin() -> keras.Model:
    import keras_hub

    keras.utils.set_random_seed(SEED)
    backbone = keras_hub.models.SwinTransformerBackbone(
        image_shape=_shape("swin"),
        patch_size=4,
        embed_dim=16,
        depths=[2, 1],
        num_heads=[2, 2],
        window_size=4,
        mlp_ratio=2.0,
        drop_path=0.0,
    )
    model = keras_hub.models.SwinTransformerImageClassifier(
        backbone=backbone, num_classes=NUM_CLASSES, preprocessor=None
    )
    return _built(model, "swin")


def mit() -> keras.Model:
    import keras_hub

    keras.utils.set_random_seed(SEED)
    backbone = keras_hub.models.MiTBackbone(
        layerwise_depths=[1, 1],
        num_layers=2,
        layerwise_num_heads=[1, 2],
        layerwise_sr_ratios=[2, 1],
        max_drop_path_rate=0.0,
        layerwise_patch_sizes=[7, 3],
        layerwise_strides=[4, 2],
        hidden_dims=[8, 16],
        image_shape=_shape("mit"),
    )
    model = keras_hub.models.MiTImageClassifier(
        backbone=backbone, num_classes=NUM_CLASSES, preprocessor=None
    )
    return _built(model, "mit")


HUB_FAMILIES: dict[str, Callable[[], keras.Model]] = {
    "resnet": resnet,
    "vgg": vgg,
    "densenet": densenet,
    "efficientnet": efficientnet,
    "mobilenet": mobilenet,
    "cspnet": cspnet,
    "xception": xception,
    "hgnetv2": hgnetv2,
    "vit": vit,
    "deit": deit,
    "swin": swin,
    "mit": mit,
}
