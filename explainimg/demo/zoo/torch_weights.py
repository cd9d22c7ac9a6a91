"""Put an EfficientNet-Lite PyTorch state dict into the Keras model of :mod:`.efficientnet_lite`.

The state dict uses the names of the ``efficientnet_pytorch`` family (``_conv_stem``,
``_blocks.3._depthwise_conv``, ``_bn1``, ``_fc``); :func:`keras_name` maps each module to the
Keras layer, and the layouts are converted:

- convolution ``(out, in, kh, kw)`` -> Keras ``(kh, kw, in, out)``,
- depthwise ``(channels, 1, kh, kw)`` -> Keras ``(kh, kw, channels, 1)``,
- linear ``(out, in)`` -> Keras Dense ``(in, out)``,
- batch norm ``weight, bias, running_mean, running_var`` -> ``gamma, beta, mean, variance``.

Every tensor must land on a layer and every layer weight must be set, or a ValueError names
what is missing or left over.

>>> keras_name("_blocks.4._depthwise_conv"), keras_name("_bn1"), keras_name("_blocks.0._bn2")
('block3b_dwconv', 'top_bn', 'block1a_project_bn')
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np

from .efficientnet_lite import lite0_blocks

_TOP_LEVEL = {
    "_conv_stem": "stem_conv",
    "_bn0": "stem_bn",
    "_conv_head": "top_conv",
    "_bn1": "top_bn",
    "_fc": "predictions",
}
_IN_BLOCK = {
    "_expand_conv": "expand_conv",
    "_bn0": "expand_bn",
    "_depthwise_conv": "dwconv",
    "_bn1": "bn",
    "_project_conv": "project_conv",
    "_bn2": "project_bn",
}
_BATCH_NORM_ORDER = ("weight", "bias", "running_mean", "running_var")
_IGNORED_SUFFIXES = (".num_batches_tracked",)


def keras_name(module: str) -> str:
    """The Keras layer name for a PyTorch module path such as ``_blocks.4._depthwise_conv``."""
    if module in _TOP_LEVEL:
        return _TOP_LEVEL[module]
    parts = module.split(".")
    blocks = lite0_blocks()
    if len(parts) == 3 and parts[0] == "_blocks" and parts[1].isdigit() and parts[2] in _IN_BLOCK:
        index = int(parts[1])
        if index < len(blocks):
            return f"{blocks[index].name}_{_IN_BLOCK[parts[2]]}"
    raise ValueError(
        f"state dict: expected EfficientNet-Lite0 module names (_conv_stem, "
        f"_blocks.0-{len(blocks) - 1}._expand_conv, ...), got {module!r}"
    )


def _group_by_module(state_dict: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    modules: dict[str, dict[str, np.ndarray]] = {}
    for key, value in state_dict.items():
        if key.endswith(_IGNORED_SUFFIXES):
            continue
        module, _, parameter = key.rpartition(".")
        modules.setdefault(module, {})[parameter] = np.asarray(value)
    return modules


def keras_weights(layer: keras.layers.Layer, parameters: Mapping[str, np.ndarray]) -> list:
    """The PyTorch ``parameters`` of one module, in the layout and order ``layer`` expects."""
    if isinstance(layer, keras.layers.BatchNormalization):
        return [parameters[name] for name in _BATCH_NORM_ORDER]
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return [parameters["weight"].transpose(2, 3, 0, 1)]
    if isinstance(layer, keras.layers.Conv2D):
        return [parameters["weight"].transpose(2, 3, 1, 0)]
    if isinstance(layer, keras.layers.Dense):
        return [parameters["weight"].T, parameters["bias"]]
    raise TypeError(f"layer {layer.name!r}: expected a convolution, batch norm or Dense layer")


def assign_torch_weights(model: keras.Model, state_dict: Mapping[str, np.ndarray]) -> None:
    """Set every weighted layer of ``model`` from ``state_dict`` (a PyTorch-named dict of arrays).

    Everything is checked before anything is set: a ValueError says which layer gets no
    tensors, which module has no layer, or whose shapes differ, and leaves ``model`` unchanged.
    """
    weighted = {layer.name: layer for layer in model.layers if layer.weights}
    plan: dict[str, list[np.ndarray]] = {}
    for module, parameters in _group_by_module(state_dict).items():
        name = keras_name(module)
        layer = weighted.get(name)
        if layer is None:
            raise ValueError(f"state dict: module {module!r} has no layer {name!r} in the model")
        try:
            values = keras_weights(layer, parameters)
        except KeyError as missing:
            raise ValueError(
                f"state dict: module {module!r} lacks {missing} (has {sorted(parameters)})"
            ) from None
        expected = [tuple(weight.shape) for weight in layer.weights]
        got = [tuple(value.shape) for value in values]
        if expected != got:
            raise ValueError(
                f"state dict: module {module!r} -> layer {name!r}: expected shapes {expected}, "
                f"got {got}"
            )
        plan[name] = [np.ascontiguousarray(value, dtype="float32") for value in values]
    unset = sorted(set(weighted) - set(plan))
    if unset:
        raise ValueError(f"state dict: expected weights for every layer, none for {unset}")
    for name, values in plan.items():
        weighted[name].set_weights(values)
