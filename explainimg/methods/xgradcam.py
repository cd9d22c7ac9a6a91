"""XGrad-CAM (Fu et al., 2020): channel weights are the gradients averaged with the
activations' own weights.

w_k = sum_ij (A_k,ij / sum_ab A_k,ab) g_k,ij (0 for a channel whose activations sum to 0),
map = ReLU(sum_k w_k A_k).

>>> import numpy as np
>>> from keras import ops
>>> activations = np.array([[[[1.0], [3.0]]]], "float32")
>>> gradients = np.array([[[[4.0], [0.0]]]], "float32")
>>> ops.convert_to_numpy(xgradcam_weights(activations, gradients)).tolist()
[[1.0]]
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .base import Context
from .cam import ChannelCAM, weighted_channels


def xgradcam_weights(activations: Any, gradients: Any) -> Any:
    """(B, h, w, c) activations and gradients -> (B, c) XGrad-CAM channel weights."""
    sums = ops.sum(activations, axis=(1, 2))
    return ops.divide_no_nan(ops.sum(gradients * activations, axis=(1, 2)), sums)


@attrs.frozen
class XGradCAM(ChannelCAM):
    """XGrad-CAM: channels weighted by their gradients averaged over the map with the
    normalised activations as weights, summed, ReLU, divided by the maximum."""

    key: ClassVar[str] = "xgradcam"
    title: ClassVar[str] = "XGrad-CAM"
    passes: ClassVar[str] = "1 forward + 1 backward to the layer per target"

    def channel_terms(self, ctx: Context, k: int) -> Any:
        weights = xgradcam_weights(ctx.activations, ctx.layer_gradients(k))
        return weighted_channels(ctx.activations, weights)
