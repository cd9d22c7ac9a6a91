"""LayerCAM (Jiang et al., 2021): every position weighted by its own positive gradient.

map = ReLU(sum_k ReLU(g_k) * A_k), which stays sharp on earlier, larger layers.
"""

from __future__ import annotations

from typing import ClassVar

import attrs
import tensorflow as tf

from .base import Context, Method


def layercam(activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
    """(B, h, w, c) activations and gradients -> (B, h, w) raw LayerCAM maps."""
    return tf.nn.relu(tf.reduce_sum(tf.nn.relu(gradients) * activations, axis=-1))


@attrs.frozen
class LayerCAM(Method):
    """LayerCAM: each activation weighted by its own positive gradient, summed over channels,
    ReLU, divided by the maximum."""

    key: ClassVar[str] = "layercam"
    title: ClassVar[str] = "LayerCAM"
    passes: ClassVar[str] = "1 forward + 1 backward to the layer per target"

    def target_map(self, ctx: Context, k: int) -> tf.Tensor:
        return layercam(ctx.activations, ctx.layer_gradients(k))
