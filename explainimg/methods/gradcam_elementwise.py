"""Grad-CAM element-wise (pytorch-grad-cam's ``GradCAMElementWise``): the positive part of
every activation-gradient product, summed over channels.

map = sum_k ReLU(g_k * A_k): HiResCAM with the ReLU taken before the channel sum, so
negative evidence in one channel cannot cancel positive evidence in another.

>>> import numpy as np
>>> from keras import ops
>>> activations = np.ones((1, 1, 2, 2), "float32")
>>> gradients = np.array([[[[1.0, 2.0], [-3.0, 1.0]]]], "float32")
>>> ops.convert_to_numpy(gradcam_elementwise(activations, gradients)).tolist()
[[[3.0, 1.0]]]
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .base import Context, Method


def gradcam_elementwise(activations: Any, gradients: Any) -> Any:
    """(B, h, w, c) activations and gradients -> (B, h, w) raw element-wise Grad-CAM maps."""
    return ops.sum(ops.relu(gradients * activations), axis=-1)


@attrs.frozen
class GradCAMElementWise(Method):
    """Grad-CAM element-wise: the positive part of each activation times its gradient,
    summed over channels, divided by the maximum."""

    key: ClassVar[str] = "gradcam_elementwise"
    title: ClassVar[str] = "Grad-CAM element-wise"
    passes: ClassVar[str] = "1 forward + 1 backward to the layer per target"

    def target_map(self, ctx: Context, k: int) -> Any:
        return gradcam_elementwise(ctx.activations, ctx.layer_gradients(k))
