"""Grad-CAM (Selvaraju et al., 2017): channel weights are the spatial mean of the gradients.

>>> import numpy as np
>>> from keras import ops
>>> activations = np.ones((1, 2, 2, 3), "float32")
>>> gradients = np.array([1.0, -1.0, 2.0], "float32") * activations
>>> ops.convert_to_numpy(gradcam(activations, gradients)).tolist()
[[[2.0, 2.0], [2.0, 2.0]]]
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .base import Context
from .cam import ChannelCAM, weighted_channels, weighted_sum


def gradcam(activations: Any, gradients: Any) -> Any:
    """(B, h, w, c) activations and gradients -> (B, h, w) raw Grad-CAM maps."""
    return weighted_sum(activations, ops.mean(gradients, axis=(1, 2)))


@attrs.frozen
class GradCAM(ChannelCAM):
    """Grad-CAM: the layer's channels weighted by the spatial mean of the score's gradient,
    summed, ReLU, divided by the maximum."""

    key: ClassVar[str] = "gradcam"
    title: ClassVar[str] = "Grad-CAM"
    passes: ClassVar[str] = "1 forward + 1 backward to the layer per target"

    def channel_terms(self, ctx: Context, k: int) -> Any:
        gradients = ctx.layer_gradients(k)
        return weighted_channels(ctx.activations, ops.mean(gradients, axis=(1, 2)))
