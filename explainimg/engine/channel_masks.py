"""Model runs with the explained layer's channels scaled, one mask per row (Ablation-CAM).

A row's mask (c,) multiplies the explained layer's output along its channel axis while the
model runs (through the same interception as every other layer hook: the model is not
changed); the rest of the model then runs on the masked output. The channel axis is the last
one (feature maps, transformer tokens: every token's channel is scaled), or axis 1 for a
channels-first model's (batch, c, h, w) maps.

>>> import numpy as np
>>> from keras import ops
>>> scale = channel_scaling(np.array([[1.0, 0.0]], "float32"), channels_first=False)
>>> ops.convert_to_numpy(scale(np.ones((1, 2, 2, 2), "float32")))[0, 0].tolist()
[[1.0, 0.0], [1.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from keras import ops


class ScoresAtLayer(Protocol):
    """What :func:`channel_masked_scores` needs from the compiled explainer."""

    channels_first: bool

    def scores(
        self, images: Any, extras: Sequence[Any], at_layer: Callable[[Any], Any] | None = None
    ) -> tuple[Any, Any]: ...


def channel_scaling(masks: Any, channels_first: bool) -> Callable[[Any], Any]:
    """The ``at_layer`` that multiplies a (N, ..., c) layer output by (N, c) ``masks`` along
    its channel axis (axis 1 of a channels-first model's 4-d maps)."""

    def scale(output: Any) -> Any:
        channels = masks.shape[-1]
        ndim = len(output.shape)
        if channels_first and ndim == 4:
            shape = (-1, channels, 1, 1)
        else:
            shape = (-1, *([1] * (ndim - 2)), channels)
        return output * ops.cast(ops.reshape(masks, shape), output.dtype)

    return scale


def channel_masked_scores(
    explainer: ScoresAtLayer, images: Any, extras: Sequence[Any], masks: Any
) -> Any:
    """(N, classes) class scores of ``images`` (N, H, W, C) with row n's explained layer
    output multiplied by ``masks[n]`` (N, c) along its channels."""
    scaling = channel_scaling(ops.cast(masks, "float32"), explainer.channels_first)
    return explainer.scores(images, extras, scaling)[0]
