"""Grad-CAM (Selvaraju et al., 2017): channel weights are the spatial mean of the gradients.

>>> import tensorflow as tf
>>> activations = tf.ones((1, 2, 2, 3))
>>> gradients = tf.constant([1.0, -1.0, 2.0]) * tf.ones((1, 2, 2, 3))
>>> gradcam(activations, gradients).numpy().tolist()
[[[2.0, 2.0], [2.0, 2.0]]]
"""

from __future__ import annotations

from typing import ClassVar

import attrs
import tensorflow as tf

from .base import Context, Method
from .cam import weighted_sum


def gradcam(activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
    """(B, h, w, c) activations and gradients -> (B, h, w) raw Grad-CAM maps."""
    return weighted_sum(activations, tf.reduce_mean(gradients, axis=(1, 2)))


@attrs.frozen
class GradCAM(Method):
    """Grad-CAM: the layer's channels weighted by the spatial mean of the score's gradient,
    summed, ReLU, divided by the maximum."""

    key: ClassVar[str] = "gradcam"
    title: ClassVar[str] = "Grad-CAM"
    passes: ClassVar[str] = "1 forward + 1 backward to the layer per target"

    def target_map(self, ctx: Context, k: int) -> tf.Tensor:
        return gradcam(ctx.activations, ctx.layer_gradients(k))
