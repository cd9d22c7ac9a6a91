"""Class activation maps from channel weights: the part Grad-CAM, Grad-CAM++ and Score-CAM share.

>>> import tensorflow as tf
>>> weighted_sum(tf.ones((1, 2, 2, 3)), tf.constant([[1.0, -1.0, 2.0]])).numpy().tolist()
[[[2.0, 2.0], [2.0, 2.0]]]
"""

from __future__ import annotations

import tensorflow as tf


def weighted_sum(activations: tf.Tensor, weights: tf.Tensor) -> tf.Tensor:
    """ReLU(sum_k w_k A_k): (B, h, w, c) activations, (B, c) weights -> (B, h, w)."""
    return tf.nn.relu(tf.einsum("bhwc,bc->bhw", activations, weights))
