"""Grad-CAM++ (Chattopadhay et al., 2018), closed form for an exponential score.

With g = d score / d A, the pixel weights are
alpha = g^2 / (2 g^2 + sum_ab(A) g^3) (0 where the denominator is 0), the channel weights
w_k = sum_ij alpha * ReLU(g), and the map ReLU(sum_k w_k A_k).
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .base import Context
from .cam import ChannelCAM, weighted_channels


def gradcam_plus_plus_weights(activations: Any, gradients: Any) -> Any:
    """(B, h, w, c) activations and gradients -> (B, c) Grad-CAM++ channel weights."""
    squared = ops.square(gradients)
    cubed = squared * gradients
    activation_sums = ops.sum(activations, axis=(1, 2), keepdims=True)
    alpha = ops.divide_no_nan(squared, 2.0 * squared + activation_sums * cubed)
    return ops.sum(alpha * ops.relu(gradients), axis=(1, 2))


@attrs.frozen
class GradCAMPlusPlus(ChannelCAM):
    """Grad-CAM++: channels weighted by positive gradients with per-pixel second/third-order
    weights, summed, ReLU, divided by the maximum."""

    key: ClassVar[str] = "gradcam++"
    title: ClassVar[str] = "Grad-CAM++"
    passes: ClassVar[str] = "1 forward + 1 backward to the layer per target"

    def channel_terms(self, ctx: Context, k: int) -> Any:
        weights = gradcam_plus_plus_weights(ctx.activations, ctx.layer_gradients(k))
        return weighted_channels(ctx.activations, weights)
