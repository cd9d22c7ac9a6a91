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

Transformers: when the last such layer is a token sequence (batch, tokens, dim) whose tokens
form the image's patch grid (:mod:`explainimg.engine.tokens`), the model is explained at
its tokens. Without a class token (patch tokens pooled by averaging: Swin, MiT) that is the
last token sequence, after the final normalisation. With a class token (ViT, DeiT) the head
reads only that token, and the patch tokens of the last block's output never reach it (their
gradients are exactly zero), so the map is taken where the patch tokens last flow into the
class token: the input of the last attention layer (the last block's first normalisation).
Blocks inside custom layers and subclassed models are found by one probe run
(:mod:`explainimg.engine.probe`).

Models whose explained output is itself a map (segmentation): the last 4-D map would be the
output, so the coarsest feature map is taken instead (the last one of the fewest cells: the
encoder's deepest features, as segmentation explanations usually do).

>>> import keras
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="conv"),
...                           keras.layers.ReLU(name="relu"), keras.layers.MaxPooling2D(),
...                           keras.layers.Flatten(), keras.layers.Dense(2)])
>>> find_layer(model).path
'relu'
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import attrs
import keras

from ..errors import bad_argument, bad_type, said
from .graph import LayerRef, is_graph_model, iter_layers
from .layout import channels_last_shape
from .probe import ProbeRun, all_layers
from .tokens import infer_grid

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


@attrs.frozen(eq=False)
class Entry:
    """A layer in running order with its output shape, and (from a probe run) the position of
    the entry whose output was its first input."""

    ref: LayerRef
    shape: tuple[int | None, ...] | None
    input_from: int | None = None


def _as_channels_last(
    shape: tuple[int | None, ...] | None, channels_first: bool
) -> tuple[int | None, ...] | None:
    if channels_first and shape is not None and len(shape) == 4:
        return channels_last_shape(shape)
    return shape


def static_entries(model: keras.Model, channels_first: bool = False) -> list[Entry]:
    """The layers of a functional or Sequential model's graph, without running it (4-D
    shapes channels-last)."""
    return [
        Entry(ref, _as_channels_last(ref.output_shape, channels_first))
        for ref in iter_layers(model)
    ]


def probe_entries(run: ProbeRun, channels_first: bool = False) -> list[Entry]:
    """Every layer call of a probe run, sublayers of custom layers included."""
    return [
        Entry(call.ref, _as_channels_last(call.output_shape, channels_first), call.input_from)
        for call in run.calls
    ]


def _is_attention(layer: keras.layers.Layer) -> bool:
    return isinstance(layer, keras.layers.MultiHeadAttention) or (
        "attention" in type(layer).__name__.lower()
    )


def is_token_sequence(
    shape: tuple[int | None, ...] | None, image_size: tuple[int | None, int | None]
) -> bool:
    """A (batch, tokens, dim) output whose tokens form a patch grid of the image."""
    return (
        shape is not None
        and len(shape) == 3
        and shape[1] is not None
        and infer_grid(int(shape[1]), image_size) is not None
    )


def _explainable_tokens(entry: Entry, image_size: tuple[int | None, int | None]) -> bool:
    layer = entry.ref.layer
    return (
        is_token_sequence(entry.shape, image_size)
        and not isinstance(layer, _PASS_THROUGH)
        and not is_graph_model(layer)
    )


def _last(entries: list[Entry], start: int, test: Callable[[Entry], bool]) -> int | None:
    return next((i for i in range(len(entries) - 1, start - 1, -1) if test(entries[i])), None)


def _coarsest(entries: list[Entry], start: int, test: Callable[[Entry], bool]) -> int | None:
    """The last of the entries passing ``test`` whose map has the fewest cells."""
    chosen = [i for i in range(start, len(entries)) if test(entries[i])]
    if not chosen:
        return None
    cells = [(entries[i].shape[1] or 0) * (entries[i].shape[2] or 0) for i in chosen]
    fewest = min(cells)
    return max(i for i, count in zip(chosen, cells, strict=True) if count == fewest)


def choose_entry(
    entries: list[Entry], image_size: tuple[int | None, int | None], coarsest: bool = False
) -> int | None:
    """Position of the layer to explain by default (the rule in the module docstring).
    ``coarsest``: for an output that is itself a map, take the coarsest feature map (the
    deepest features) instead of the last one, which is the output."""
    first_conv = next(
        (i for i, entry in enumerate(entries) if isinstance(entry.ref.layer, _CONVOLUTIONS)), None
    )
    last_map = None
    if first_conv is not None:
        pick = _coarsest if coarsest else _last
        last_map = pick(
            entries,
            first_conv,
            lambda entry: (
                is_feature_map(entry.shape)
                and is_spatial(entry.shape)
                and not isinstance(entry.ref.layer, _PASS_THROUGH)
                and not is_graph_model(entry.ref.layer)
            ),
        )
    last_tokens = _last(entries, 0, lambda entry: _explainable_tokens(entry, image_size))
    if last_tokens is None or (last_map is not None and last_map > last_tokens):
        return last_map
    grid = infer_grid(int(entries[last_tokens].shape[1]), image_size)
    if grid is None or grid.skip == 0:
        return last_tokens
    # With a class token, the patch tokens after the last attention no longer reach the
    # head (their gradients are exactly zero): explain what goes into that attention.
    attention = _last(entries[: last_tokens + 1], 0, lambda entry: _is_attention(entry.ref.layer))
    source = None if attention is None else entries[attention].input_from
    if source is not None and _explainable_tokens(entries[source], image_size):
        return source
    return last_tokens


def find_layer(
    model: keras.Model,
    image_size: tuple[int | None, int | None] | None = None,
    probe_run: Callable[[], ProbeRun] | None = None,
    uses_image: Callable[[LayerRef], bool] | None = None,
    coarsest: bool = False,
    channels_first: bool = False,
    from_graph: bool = True,
) -> LayerRef:
    """The layer Grad-CAM should use by default (see the module docstring for the rule).

    ``probe_run`` gives a probe run of the model (:mod:`explainimg.engine.probe`), needed for
    subclassed models and for transformers whose blocks sit inside custom layers.
    ``uses_image`` keeps only the layers of the explained image's branch (several inputs).
    ``from_graph``: the model is a graph model (its kind, :mod:`explainimg.engine.kinds`),
    whose layers are read without running it."""
    if image_size is None:
        shape = model.inputs[0].shape
        image_size = (shape[1], shape[2])

    def usable(entries: list[Entry]) -> list[Entry]:
        return entries if uses_image is None else [e for e in entries if uses_image(e.ref)]

    if from_graph:
        entries = usable(static_entries(model, channels_first))
        chosen = choose_entry(entries, image_size, coarsest)
        if chosen is not None and not is_token_sequence(entries[chosen].shape, image_size):
            return entries[chosen].ref
    if probe_run is not None:
        entries = usable(probe_entries(probe_run(), channels_first))
        chosen = choose_entry(entries, image_size, coarsest)
        if chosen is not None:
            return entries[chosen].ref
    raise bad_argument(
        "model",
        "a model with a convolutional 4-D feature map larger than 1x1 to explain",
        said(f"{model.name!r}, which has none"),
        hint=_candidates_hint(model, from_graph)
        or "Pass layer= to name a layer with a 4-D output.",
    )


def resolve_layer(
    model: keras.Model,
    layer: Any,
    image_size: tuple[int | None, int | None] | None = None,
    probe_run: Callable[[], ProbeRun] | None = None,
    uses_image: Callable[[LayerRef], bool] | None = None,
    coarsest: bool = False,
    channels_first: bool = False,
    *,
    from_graph: bool,
) -> tuple[LayerRef, tuple[int | None, ...] | None]:
    """The layer named by ``layer`` (None: automatic; a name, ``"nested/path"``, attribute
    name, index or Layer) and its output shape, checked to be a 4-D map or a token sequence."""
    if layer is None:
        ref = find_layer(
            model, image_size, probe_run, uses_image, coarsest, channels_first, from_graph
        )
        return ref, _output_shape(ref, probe_run)
    if isinstance(layer, bool):
        raise bad_type("layer", "None, a layer name, an index or a keras Layer", layer)
    if isinstance(layer, int):
        ref = _by_index(model, layer, from_graph)
    elif isinstance(layer, str):
        ref = _by_name(model, layer, from_graph)
    elif isinstance(layer, keras.layers.Layer):
        ref = _by_instance(model, layer, from_graph)
    else:
        raise bad_type("layer", "None, a layer name, an index or a keras Layer", layer)
    if isinstance(ref.layer, keras.layers.InputLayer):
        raise bad_argument(
            "layer", "a layer that computes something", said(f"the input layer {ref.path!r}")
        )
    shape = _output_shape(ref, probe_run)
    if not is_feature_map(shape) and not (shape is not None and len(shape) == 3):
        raise bad_argument(
            "layer",
            "a layer whose output is a 4-D (batch, height, width, channels) feature map",
            said(f"{ref.path!r} with output shape {shape}"),
            hint=_candidates_hint(model, from_graph),
        )
    return ref, shape


def _output_shape(
    ref: LayerRef, probe_run: Callable[[], ProbeRun] | None
) -> tuple[int | None, ...] | None:
    if ref.in_graph or probe_run is None:
        return ref.output_shape
    for call in probe_run().calls:
        if call.ref.layer is ref.layer:
            return None if call.output_shape is None else (None, *call.output_shape[1:])
    raise bad_argument(
        "layer", "a layer that runs when the model is called", said(f"{ref.path!r}, which did not")
    )


def _all_refs(model: keras.Model, from_graph: bool) -> list[LayerRef]:
    """Graph layers first (their paths are the familiar ones), then hidden sublayers."""
    refs = list(iter_layers(model)) if from_graph else []
    known = {id(ref.layer) for ref in refs}
    return refs + [ref for ref in all_layers(model) if id(ref.layer) not in known]


def _by_index(model: keras.Model, index: int, from_graph: bool) -> LayerRef:
    count = len(model.layers)
    if not -count <= index < count:
        raise bad_argument("layer", f"an index between {-count} and {count - 1}", index)
    layer = model.layers[index]
    return LayerRef(layer) if from_graph else _by_instance(model, layer, from_graph)


def _by_instance(model: keras.Model, layer: keras.layers.Layer, from_graph: bool) -> LayerRef:
    for ref in _all_refs(model, from_graph):
        if ref.layer is layer:
            return ref
    raise bad_argument(
        "layer", f"a layer of model {model.name!r}", said(f"layer {layer.name!r} from elsewhere")
    )


def _by_name(model: keras.Model, name: str, from_graph: bool) -> LayerRef:
    refs = _all_refs(model, from_graph)
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
    attribute = getattr(model, name, None) if name.isidentifier() else None
    if isinstance(attribute, keras.layers.Layer) and attribute is not model:
        return _by_instance(model, attribute, from_graph)
    close = difflib.get_close_matches(name, [ref.path for ref in refs], n=3, cutoff=0.6)
    hint = f"Did you mean {', '.join(map(repr, close))}? " if close else ""
    raise bad_argument(
        "layer",
        f"the name of a layer of model {model.name!r}",
        name,
        hint=hint + _candidates_hint(model, from_graph),
    )


def _candidates_hint(model: keras.Model, from_graph: bool) -> str:
    if not from_graph:
        return ""
    candidates = [ref.path for ref in feature_map_layers(model)]
    if not candidates:
        return ""
    shown = candidates[-_SHOWN_CANDIDATES:]
    listing = ", ".join(map(repr, shown))
    if len(candidates) > len(shown):
        return f"Layers with a 4-D output (last {len(shown)} of {len(candidates)}): {listing}."
    return f"Layers with a 4-D output: {listing}."
