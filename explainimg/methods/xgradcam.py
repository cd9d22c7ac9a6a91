"""XGrad-CAM (Fu et al., 2020): channel weights are the gradients averaged with the
activations' own weights.

w_k = sum_ij (A_k,ij / sum_ab A_k,ab) g_k,ij (0 for a channel whose activations sum to 0),
map = ReLU(sum_k w_k A_k).

>>> import numpy as np
>>> from keras import ops
>>> activations = np.array([[[[1.0], [3.0]]]], "float32")
>>> gradients = np.array([[[[4.0], [0.0]]]], "float32")
>>> ops.convert_to_numpy(xgradcam(activations, gradients)).tolist()
[[[1.0, 3.0]]]
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .base import Context, Method
from .cam import weighted_sum


def xgradcam(activations: Any, gradients: Any) -> Any:
    """(B, h, w, c) activations and gradients -> (B, h, w) raw XGrad-CAM maps."""
    sums = ops.sum(activations, axis=(1, 2))
    weights = ops.divide_no_nan(ops.sum(gradients * activations, axis=(1, 2)), sums)
    return weighted_sum(activations, weights)


@attrs.frozen
class XGradCAM(Method):
    """XGrad-CAM: channels weighted by their gradients averaged over the map with the
    normalised activations as weights, summed, ReLU, divided by the maximum."""

    key: ClassVar[str] = "xgradcam"
    title: ClassVar[str] = "XGrad-CAM"
    passes: ClassVar[str] = "1 forward + 1 backward to the layer per target"

    def target_map(self, ctx: Context, k: int) -> Any:
        return xgradcam(ctx.activations, ctx.layer_gradients(k))
