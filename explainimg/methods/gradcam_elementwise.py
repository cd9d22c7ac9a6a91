"""Grad-CAM element-wise (pytorch-grad-cam's ``GradCAMElementWise``): the positive part of
every activation-gradient product, summed over channels.

map = sum_k ReLU(g_k * A_k): HiResCAM with the ReLU taken before the channel sum, so
negative evidence in one channel cannot cancel positive evidence in another.

>>> import numpy as np
>>> from keras import ops
>>> activations = np.ones((1, 1, 2, 2), "float32")
>>> gradients = np.array([[[[1.0, 2.0], [-3.0, 1.0]]]], "float32")
>>> terms = gradcam_elementwise_terms(activations, gradients)
>>> ops.convert_to_numpy(GradCAMElementWise().combine(terms)).tolist()
[[[3.0, 1.0]]]
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .base import Context
from .cam import ChannelCAM


def gradcam_elementwise_terms(activations: Any, gradients: Any) -> Any:
    """(B, h, w, c) activations and gradients -> their (B, h, w, c) channel terms."""
    return ops.relu(gradients * activations)


@attrs.frozen
class GradCAMElementWise(ChannelCAM):
    """Grad-CAM element-wise: the positive part of each activation times its gradient,
    summed over channels, divided by the maximum."""

    key: ClassVar[str] = "gradcam_elementwise"
    title: ClassVar[str] = "Grad-CAM element-wise"
    passes: ClassVar[str] = "1 forward + 1 backward to the layer per target"

    def channel_terms(self, ctx: Context, k: int) -> Any:
        return gradcam_elementwise_terms(ctx.activations, ctx.layer_gradients(k))
