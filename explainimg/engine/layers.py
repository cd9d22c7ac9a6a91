"""Choosing the layer to explain: found automatically, or named by the user.

The automatic rule (also in docs/layers.md): walk the model's layers in the order they run,
nested models included, and take the **last layer whose output is a 4-D feature map
(batch, height, width, channels) with a spatial size larger than 1x1 that comes after the
first convolution**, skipping layers that merely follow that map without computing new
features (pooling, dropout, noise, padding, cropping) and nested models themselves (their
last inner layer is named instead). So the map is taken after the last convolution's
normalisation and activation:

- VGG16 -> ``block5_conv3`` (not ``block5_pool``), Xception -> ``block14_sepconv2_act``,
- MobileNetV2 -> ``out_relu`` (not the raw ``Conv_1``), ResNet50 -> ``conv5_block3_out``,
- MobileNetV3 -> the activation after ``Conv_1``, never its 1x1 maps after global pooling.

>>> import keras
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="conv"),
...                           keras.layers.ReLU(name="relu"), keras.layers.MaxPooling2D(),
...                           keras.layers.Flatten(), keras.layers.Dense(2)])
>>> find_layer(model).path
'relu'
"""

from __future__ import annotations

import difflib
from typing import Any

import keras

from ..errors import bad_argument, bad_type, said
from .graph import LayerRef, is_graph_model, iter_layers

_CONVOLUTIONS = (
    keras.layers.Conv2D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv2D,
    keras.layers.Conv2DTranspose,
)

# Layers that pass a feature map on without computing new features from it.
_PASS_THROUGH = (
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling2D,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.Dropout,
    keras.layers.SpatialDropout2D,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.AlphaDropout,
    keras.layers.ActivityRegularization,
    keras.layers.ZeroPadding2D,
    keras.layers.Cropping2D,
)

_SHOWN_CANDIDATES = 10


def is_feature_map(shape: tuple[int | None, ...] | None) -> bool:
    """A 4-D (batch, height, width, channels) output."""
    return shape is not None and len(shape) == 4


def is_spatial(shape: tuple[int | None, ...]) -> bool:
    """Larger than 1x1 (unknown sizes count as larger)."""
    height, width = shape[1], shape[2]
    return not (height == 1 and width == 1)


def feature_map_layers(model: keras.Model) -> list[LayerRef]:
    """Every layer (nested ones included) whose output is a 4-D feature map, in running order."""
    return [ref for ref in iter_layers(model) if is_feature_map(ref.output_shape)]


def find_layer(model: keras.Model) -> LayerRef:
    """The layer Grad-CAM should use by default (see the module docstring for the rule)."""
    refs = list(iter_layers(model))
    first_conv = next(
        (i for i, ref in enumerate(refs) if isinstance(ref.layer, _CONVOLUTIONS)), None
    )
    if first_conv is not None:
        for ref in reversed(refs[first_conv:]):
            shape = ref.output_shape
            if (
                is_feature_map(shape)
                and is_spatial(shape)
                and not isinstance(ref.layer, _PASS_THROUGH)
                and not is_graph_model(ref.layer)
            ):
                return ref
    raise bad_argument(
        "model",
        "a model with a convolutional 4-D feature map larger than 1x1 to explain",
        said(f"{model.name!r}, which has none"),
        hint=_candidates_hint(model) or "Pass layer= to name a layer with a 4-D output.",
    )


def resolve_layer(model: keras.Model, layer: Any) -> LayerRef:
    """The layer named by ``layer``: None (automatic), a name or path, an index, or a Layer."""
    if layer is None:
        return find_layer(model)
    if isinstance(layer, bool):
        raise bad_type("layer", "None, a layer name, an index or a keras Layer", layer)
    if isinstance(layer, int):
        ref = _by_index(model, layer)
    elif isinstance(layer, str):
        ref = _by_name(model, layer)
    elif isinstance(layer, keras.layers.Layer):
        ref = _by_instance(model, layer)
    else:
        raise bad_type("layer", "None, a layer name, an index or a keras Layer", layer)
    if isinstance(ref.layer, keras.layers.InputLayer):
        raise bad_argument(
            "layer", "a layer that computes something", said(f"the input layer {ref.path!r}")
        )
    shape = ref.output_shape
    if not is_feature_map(shape):
        raise bad_argument(
            "layer",
            "a layer whose output is a 4-D (batch, height, width, channels) feature map",
            said(f"{ref.path!r} with output shape {shape}"),
            hint=_candidates_hint(model),
        )
    return ref


def _by_index(model: keras.Model, index: int) -> LayerRef:
    count = len(model.layers)
    if not -count <= index < count:
        raise bad_argument("layer", f"an index between {-count} and {count - 1}", index)
    return LayerRef(model.layers[index])


def _by_instance(model: keras.Model, layer: keras.layers.Layer) -> LayerRef:
    for ref in iter_layers(model):
        if ref.layer is layer:
            return ref
    raise bad_argument(
        "layer", f"a layer of model {model.name!r}", said(f"layer {layer.name!r} from elsewhere")
    )


def _by_name(model: keras.Model, name: str) -> LayerRef:
    refs = list(iter_layers(model))
    exact = [ref for ref in refs if ref.path == name]
    if exact:
        return exact[0]
    by_layer_name = [ref for ref in refs if ref.layer.name == name]
    if len(by_layer_name) == 1:
        return by_layer_name[0]
    if len(by_layer_name) > 1:
        paths = ", ".join(repr(ref.path) for ref in by_layer_name)
        raise bad_argument(
            "layer", f"one of the paths {paths}", name, hint="The name is ambiguous."
        )
    close = difflib.get_close_matches(name, [ref.path for ref in refs], n=3, cutoff=0.6)
    hint = f"Did you mean {', '.join(map(repr, close))}? " if close else ""
    raise bad_argument(
        "layer",
        f"the name of a layer of model {model.name!r}",
        name,
        hint=hint + _candidates_hint(model),
    )


def _candidates_hint(model: keras.Model) -> str:
    candidates = [ref.path for ref in feature_map_layers(model)]
    if not candidates:
        return ""
    shown = candidates[-_SHOWN_CANDIDATES:]
    listing = ", ".join(map(repr, shown))
    if len(candidates) > len(shown):
        return f"Layers with a 4-D output (last {len(shown)} of {len(candidates)}): {listing}."
    return f"Layers with a 4-D output: {listing}."
